"""The route table (what API Gateway and the local gateway route) agrees with the code.

Each function's ``functions/<name>/handler.py`` includes the routers it serves; the table in
``musicboxd.routes`` says which function API Gateway sends each route to. A route written in
one and not the other would be unreachable, or reach a function that answers 400/404.
"""

from __future__ import annotations

import runpy

import pytest

from infra.paths import FUNCTIONS_DIR
from musicboxd.api.openapi import openapi_document
from musicboxd.routes import FUNCTIONS, ROUTES


def served_routes(function: str) -> dict[tuple[str, str], bool]:
    """(method, API Gateway path) -> documented, for every Powertools route the function's handler serves."""
    module = runpy.run_path(str(FUNCTIONS_DIR / function / "handler.py"))
    app = module.get("app")
    if app is None:  # not an HTTP function
        return {}
    routes = app._static_routes + app._dynamic_routes
    return {(route.method, route.openapi_path): route.include_in_schema for route in routes}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_serves_exactly_its_routes_in_the_table(function):
    in_table = {(route.method, route.path) for route in ROUTES if route.function == function}
    assert set(served_routes(function)) == in_table


def test_the_openapi_document_covers_every_documented_route():
    documented = {key for function in FUNCTIONS for key, shown in served_routes(function).items() if shown}
    paths = openapi_document()["paths"]
    assert {(method.upper(), path) for path, item in paths.items() for method in item} == documented
