"""The public HTTP routes and which function serves each.

The CDK API (infra) and the local API Gateway emulation are built from this table; the code of
a route is its Powertools decorator in ``musicboxd.api.routes_*``, included by the function's
``functions/<name>/handler.py``. ``tests/unit/test_route_table.py`` checks that the two agree.
Pure data: importing this module is free.
"""

from __future__ import annotations

from typing import NamedTuple


class Route(NamedTuple):
    method: str
    path: str  # API Gateway style, {name} for path parameters
    function: str  # directory under functions/
    iam_auth: bool = False


ROUTES: tuple[Route, ...] = (
    Route("GET", "/search", "search"),
    Route("GET", "/suggest", "search"),
    Route("GET", "/health", "search"),
    Route("GET", "/openapi.json", "search"),
    Route("GET", "/docs", "search"),
    Route("GET", "/docs/{asset}", "search"),  # Swagger UI's files, served from the layer
    Route("GET", "/albums/{id}", "album"),
    Route("GET", "/stats", "search", iam_auth=True),
)

FUNCTIONS: tuple[str, ...] = ("search", "album", "populate", "cleanup")
