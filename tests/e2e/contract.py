"""Every answer the e2e suite gets from a documented operation, checked against /openapi.json.

An httpx response hook (``ContractHook``) validates status, headers and body with openapi-core;
the gateway's own answers to what the document does not declare (404/405, preflight, /docs)
are checked by ``tests/infra/test_method_parity.py`` and the contract fuzz instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from musicboxd.routes import ROUTES


@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    content_type: str = "application/json"
    body: bytes | None = None


@dataclass
class _Response:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes | None


@dataclass
class ContractHook:
    """``httpx.Client(event_hooks={"response": [hook]})``: raises on an answer the document does not allow."""

    document: dict[str, Any]
    checked: int = 0
    _openapi: OpenAPI = field(init=False)

    def __post_init__(self) -> None:
        self._openapi = OpenAPI.from_dict(self.document)

    def documented(self, method: str, path: str) -> bool:
        return any(
            route.method == method and _matches(route.path, path) and route.path in self.document["paths"]
            for route in ROUTES
        )

    def __call__(self, response: httpx.Response) -> None:
        request = response.request
        if not self.documented(request.method, request.url.path) or response.status_code == 405:
            return
        response.read()
        self._openapi.validate_response(
            _Request(
                host_url=f"{request.url.scheme}://{request.url.netloc.decode()}",
                path=request.url.path,
                method=request.method.lower(),
                parameters=RequestParameters(
                    query=ImmutableMultiDict(request.url.params.multi_items()), header=Headers(request.headers.items())
                ),
            ),
            _Response(
                status_code=response.status_code,
                content_type=response.headers.get("content-type", ""),
                headers=Headers(response.headers.items()),
                data=response.content or None,
            ),
        )
        self.checked += 1


def _matches(pattern: str, path: str) -> bool:
    expected, actual = pattern.strip("/").split("/"), path.strip("/").split("/")
    return len(expected) == len(actual) and all(
        e == a or (e.startswith("{") and bool(a)) for e, a in zip(expected, actual, strict=True)
    )
