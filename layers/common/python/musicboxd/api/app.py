"""Resolver factory: validation, error envelope, and the routers a function serves."""

from __future__ import annotations

import json
import re
from functools import partial

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.router import Router
from aws_lambda_powertools.shared.json_encoder import Encoder

from musicboxd.api.errors import BadRequest, error_response, retry_after_header
from musicboxd.api.http_cache import CachePolicy, http_cache_middleware
from musicboxd.errors import (
    BadUpstreamRequest,
    CatalogError,
    Forbidden,
    NotFound,
    RateLimited,
    Unavailable,
)
from musicboxd.routes import ROUTES, allowed_methods

logger = Logger()

TITLE = "Musicboxd album catalog"
INVALID_ID_MESSAGE = "id must be a 22-character base62 Spotify id"


def _route_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "/?$")


_KNOWN = [(r.method, _route_regex(r.path)) for r in ROUTES]


# Readable words for pattern mismatches (a user should never be shown a regular expression).
PATTERN_MESSAGES = {
    "q": "must contain a letter, digit, mark, punctuation or symbol (not only spaces, control or format characters)",
    "id": "must be a 22-character base62 Spotify id",
}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "string_pattern_mismatch" and loc in PATTERN_MESSAGES:
            msg = PATTERN_MESSAGES[loc]
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


def create_app(*routers: Router) -> APIGatewayRestResolver:
    from musicboxd.config import settings

    # Lambda proxy integration: the function, not API Gateway, must add CORS headers.
    config = settings()
    cors = CORSConfig(
        allow_origin=config.cors_allow_origin, expose_headers=["X-Cache", "Retry-After", "ETag"], max_age=600
    )
    serializer = partial(json.dumps, separators=(",", ":"), cls=Encoder)  # Powertools' default, shared with ETags
    app = APIGatewayRestResolver(enable_validation=True, cors=cors, serializer=serializer)
    policy = CachePolicy(
        max_age=config.http_max_age_seconds,
        shared_max_age=config.http_shared_max_age_seconds,
        degraded_max_age=config.http_degraded_max_age_seconds,
    )
    app.use([http_cache_middleware(policy, serializer)])
    for router in routers:
        app.include_router(router)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        if any(tuple(e.get("loc", ()))[:2] == ("path", "id") for e in exc.errors()):
            return error_response(400, "invalid_id", INVALID_ID_MESSAGE)
        return error_response(400, "bad_request", _validation_message(exc))

    @app.exception_handler(BadRequest)
    def _bad(exc: BadRequest) -> Response:
        return error_response(400, exc.code, str(exc))

    @app.exception_handler(NotFound)
    def _missing(exc: NotFound) -> Response:
        return error_response(404, "not_found", str(exc) or "not found")

    @app.exception_handler(BadUpstreamRequest)
    def _rejected(exc: BadUpstreamRequest) -> Response:
        return error_response(400, "query_rejected", f"the catalog rejected this request: {exc}")

    @app.exception_handler(RateLimited)
    def _limited(exc: RateLimited) -> Response:
        logger.warning("upstream rate limited", extra={"retry_after": exc.retry_after, "quota": exc.quota})
        return error_response(
            503,
            "upstream_rate_limited",
            "the catalog is rate-limiting us and nothing is cached for this request; retry later",
            retry_after_header(exc.retry_after),
        )

    @app.exception_handler(Unavailable)
    def _unavailable(exc: Unavailable) -> Response:
        logger.warning("upstream unavailable", extra={"reason": str(exc)})
        return error_response(
            503, "upstream_unavailable", "the catalog is unavailable and nothing is cached", retry_after_header(5)
        )

    @app.exception_handler(Forbidden)
    def _forbidden(exc: Forbidden) -> Response:
        logger.error("upstream refused the call", extra={"reason": str(exc)})
        return error_response(503, "upstream_forbidden", "the catalog refused the request", retry_after_header(60))

    @app.exception_handler(CatalogError)
    def _catalog(exc: CatalogError) -> Response:
        logger.exception("catalog error")
        return error_response(503, "upstream_error", "the catalog failed", retry_after_header(5))

    @app.not_found
    def _not_found(exc: NotFoundError) -> Response:
        path, method = app.current_event.path, app.current_event.http_method
        if any(rx.match(path) and m == method for m, rx in _KNOWN):
            # API Gateway routed it here, but a path parameter holds characters no route accepts.
            return error_response(400, "invalid_id", INVALID_ID_MESSAGE)
        if allowed := allowed_methods(path):
            return error_response(
                405, "method_not_allowed", f"{method} is not allowed here", {"Allow": ", ".join(allowed)}
            )
        return error_response(404, "not_found", f"no route for {path}")

    @app.exception_handler(Exception)
    def _crash(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal error")

    return app
