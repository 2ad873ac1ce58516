"""The public HTTP routes and which function serves each.

The CDK API (infra) and the local API Gateway emulation are built from this table; the code of
a route is its Powertools decorator in ``musicboxd.api.routes_*``, included by the function's
``functions/<name>/handler.py``. ``tests/unit/test_route_table.py`` checks that the two agree.
Pure data: importing this module is free.
"""

from __future__ import annotations

import re
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

# CORS preflight (OPTIONS) is answered before any function, on every path (deployed, unknown paths
# have a resource too: /{proxy+}): by API Gateway's mock (infra) and by the local emulation.
CORS_ALLOW_METHODS: tuple[str, ...] = (*sorted({route.method for route in ROUTES}), "OPTIONS")
CORS_ALLOW_HEADERS: tuple[str, ...] = (
    "Content-Type",
    "Authorization",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Api-Key",
)
CORS_MAX_AGE_SECONDS = 3600


def _path_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$")


_PATTERNS = tuple((route, _path_pattern(route.path)) for route in ROUTES)


def allowed_methods(path: str) -> tuple[str, ...]:
    """The ``Allow`` header of a concrete path: its routes' methods plus OPTIONS; () when no route has it."""
    methods = sorted({route.method for route, pattern in _PATTERNS if pattern.match(path)})
    return (*methods, "OPTIONS") if methods else ()
