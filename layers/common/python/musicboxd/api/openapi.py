"""The OpenAPI document of the whole public API, and Swagger UI served from the layer.

The document covers every router module of this package (``musicboxd.api.routes_*``), whichever
function serves it. It is generated at build time into ``openapi.json`` beside this module
(``make openapi``; a unit test fails when it is stale) and served from that file: answering
``/openapi.json`` imports no JSON-schema code and builds no second resolver. Swagger UI's
files are the ones Powertools ships (pinned with it in ``layers/common/requirements.txt``),
served here: no CDN, so ``/docs`` works offline.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from functools import cache
from pathlib import Path
from typing import Any

import aws_lambda_powertools.event_handler.openapi as powertools_openapi
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from musicboxd.api.app import TITLE, create_app
from musicboxd.api.contract import exact
from musicboxd.errors import NotFound

router = Router()

ROUTER_MODULE_PREFIX = "routes_"
DOCUMENT_FILE = Path(__file__).with_name("openapi.json")
SWAGGER_DIR = Path(powertools_openapi.__file__).parent / "swagger_ui"
SWAGGER_ASSETS = {
    "swagger-ui-bundle.min.js": "text/javascript; charset=utf-8",
    "swagger-ui.min.css": "text/css; charset=utf-8",
}


def public_routers() -> list[Router]:
    """The ``router`` of every ``musicboxd.api.routes_*`` module (found, not listed: nothing to forget)."""
    package = importlib.import_module(__package__ or "musicboxd.api")
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith(ROUTER_MODULE_PREFIX))
    return [importlib.import_module(f"{package.__name__}.{name}").router for name in names]


def openapi_document() -> dict[str, Any]:
    """The whole public API, whichever function serves each route."""
    from musicboxd import __version__
    from musicboxd.api.schemas import ATTRIBUTION

    app = create_app(*public_routers())
    generated = app.get_openapi_schema(title=TITLE, version=__version__, description=ATTRIBUTION)
    return exact(generated.model_dump(mode="json", by_alias=True, exclude_none=True))


@cache
def published_document() -> dict[str, Any]:
    """The document as generated at build time (``DOCUMENT_FILE``)."""
    return json.loads(DOCUMENT_FILE.read_text(encoding="utf-8"))


def write_document() -> None:
    """Regenerate ``DOCUMENT_FILE`` from the code (``make openapi``)."""
    DOCUMENT_FILE.write_text(json.dumps(openapi_document(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


@router.get("/openapi.json", include_in_schema=False)
def openapi_json() -> Response[dict[str, Any]]:
    document = dict(published_document())  # a copy: the cached document stays stage-free
    # On API Gateway's own domain every path starts with the stage (/dev/search): "Try it out"
    # must keep it. A custom domain or the local stack serves from the root.
    event = router.current_event
    if isinstance(event, APIGatewayProxyEvent) and ".execute-api." in (event.request_context.domain_name or ""):
        document["servers"] = [{"url": f"/{event.request_context.stage}"}]
    return Response(200, content_types.APPLICATION_JSON, document)


# Relative to the page, so it works under a stage prefix (/prod/docs) and with a trailing slash.
SWAGGER_HTML = """<!doctype html><html><head><title>Musicboxd API</title><meta charset="utf-8"></head>
<body><div id="ui"></div><script>
const page = location.pathname.replace(/\\/+$/, "");
const style = document.createElement("link");
style.rel = "stylesheet";
style.href = page + "/swagger-ui.min.css";
document.head.appendChild(style);
const bundle = document.createElement("script");
bundle.src = page + "/swagger-ui-bundle.min.js";
bundle.onload = () => SwaggerUIBundle({url: page.replace(/docs$/, "openapi.json"), dom_id: "#ui"});
document.body.appendChild(bundle);
</script></body></html>"""


@router.get("/docs", include_in_schema=False)
def docs() -> Response[str]:
    return Response(200, content_types.TEXT_HTML, SWAGGER_HTML)


@cache
def _asset(name: str) -> str:
    return (SWAGGER_DIR / name).read_text(encoding="utf-8")


@router.get("/docs/<asset>", include_in_schema=False)
def docs_asset(asset: str) -> Response[str]:
    if asset not in SWAGGER_ASSETS:
        raise NotFound(f"no file {asset} under /docs")
    # Pinned with Powertools: a day of browser caching is safe.
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(200, SWAGGER_ASSETS[asset], _asset(asset), headers=headers)


if __name__ == "__main__":
    write_document()
