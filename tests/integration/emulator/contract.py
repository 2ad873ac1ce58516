"""Contract validation of emulator responses against the shared Spotify OpenAPI schema.

The schema is ``../shared/spotify-openapi/fixed-spotify-open-api.yml`` beside the repository (or
``SPOTIFY_OPENAPI_PATH``); it is never copied into the repo. Bodies are validated with
``openapi_schema_validator.OAS30Validator`` (OpenAPI 3.0 semantics: ``nullable``, ``discriminator``)
against the schema that the spec declares for the operation and status code.

Two documented adjustments, applied to an in-memory copy:
- ``PlaylistTrackObject.item/track`` use ``discriminator: {propertyName: type}`` without a mapping,
  which a validator resolves to ``#/components/schemas/track``; we add the obvious mapping
  (track -> TrackObject, episode -> EpisodeObject).
- Development mode (February 2026) drops the deprecated album fields ``available_markets``,
  ``label`` and ``popularity`` that the schema still lists as required: ``mode="development"``
  validates against a copy without those ``required`` entries (tests also assert they are absent).
The July 2026 ``reason`` field of quota 429 bodies is not in ``ErrorObject``; extra properties are
allowed by the schema, so such bodies validate as they are.
"""

from __future__ import annotations

import copy
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator

REPO_ROOT = Path(__file__).resolve().parents[3]
DEV_REMOVED_REQUIRED = {"AlbumBase": {"available_markets"}, "AlbumObject": {"label", "popularity"}}


def schema_path() -> Path:
    env = os.environ.get("SPOTIFY_OPENAPI_PATH")
    if env:
        return Path(env)
    rel = "shared/spotify-openapi/fixed-spotify-open-api.yml"
    # ../shared beside the clone; from a git worktree (e.g. /work/wt/<name>) look further up.
    for ancestor in REPO_ROOT.parents:
        if (ancestor / rel).exists():
            return ancestor / rel
    return REPO_ROOT.parent / rel


@lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    path = schema_path()
    if not path.exists():
        pytest.fail(f"shared Spotify OpenAPI schema not found at {path} (set SPOTIFY_OPENAPI_PATH)")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    mapping = {"track": "#/components/schemas/TrackObject", "episode": "#/components/schemas/EpisodeObject"}
    for prop in ("item", "track"):
        spec["components"]["schemas"]["PlaylistTrackObject"]["properties"][prop]["discriminator"]["mapping"] = mapping
    return spec


@lru_cache(maxsize=2)
def components(mode: str) -> dict[str, Any]:
    comps = load_spec()["components"]
    if mode == "extended":
        return comps
    comps = copy.deepcopy(comps)
    for name, fields in DEV_REMOVED_REQUIRED.items():
        schema = comps["schemas"][name]
        if "required" in schema:
            schema["required"] = [f for f in schema["required"] if f not in fields]
    return comps


def _template(path: str) -> str:
    """/v1/albums/abc/tracks -> /albums/{id}/tracks (the spec's path template)."""
    spec_paths = load_spec()["paths"]
    rel = path.removeprefix("/v1")
    for template in spec_paths:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, rel):
            return template
    raise AssertionError(f"{path} is not an operation of the Spotify OpenAPI schema")


_STATUS_FALLBACK = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    429: "TooManyRequests",
}


def response_schema_ref(path: str, status: int, method: str = "get") -> str:
    """The JSON pointer of the schema the spec declares for (path, method, status)."""
    op = load_spec()["paths"][_template(path)][method]
    resp = op["responses"].get(str(status))
    if resp is None:
        fallback = _STATUS_FALLBACK.get(status)
        assert fallback, f"status {status} is not declared for {method.upper()} {path}"
        resp = {"$ref": f"#/components/responses/{fallback}"}
    if "$ref" in resp:
        name = resp["$ref"].rsplit("/", 1)[-1]
        return f"#/components/responses/{name}/content/application~1json/schema"
    raise AssertionError(f"inline response for {path} {status} not supported")


def validate(body: Any, ref: str, mode: str = "extended") -> None:
    """Raise AssertionError listing every violation of ``body`` against schema ``ref``."""
    schema = {"components": components(mode), "$ref": ref}
    errors = sorted(OAS30Validator(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors[:10]]
        raise AssertionError(f"{len(errors)} schema violation(s) against {ref}:\n" + "\n".join(lines))


def validate_response(resp, mode: str = "extended") -> Any:
    """Validate an httpx response of a ``/v1`` call against the operation's declared schema."""
    body = resp.json()
    validate(body, response_schema_ref(resp.request.url.path, resp.status_code), mode)
    return body


def schema_of(name: str) -> str:
    return f"#/components/schemas/{name}"
