"""Which routers each function serves (must agree with musicboxd.routes.ROUTES)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import Router


def routers_for(function: str) -> list[Router]:
    if function == "search":
        from musicboxd.api import routes_meta, routes_search, routes_stats, routes_suggest

        return [routes_search.router, routes_suggest.router, routes_meta.router, routes_stats.router]
    if function == "album":
        from musicboxd.api import routes_album

        return [routes_album.router]
    raise ValueError(f"no HTTP routes for function {function!r}")


def all_routers() -> list[Router]:
    return routers_for("search") + routers_for("album")
