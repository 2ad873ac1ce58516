"""HTTP caching of answers: Cache-Control chosen by where an answer came from, a strong ETag, 304.

One Powertools middleware (``http_cache_middleware``), registered once by the app factory;
errors get theirs from ``error_cache_control`` (they never reach route middlewares).
Design and figures: docs/design/http-caching.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

# Answers as good as Spotify's own page: the cache, Spotify, the tier-1 index (`popular` for
# /search, `index` for /suggest). Every other source (stale, musicbrainz, cache-only, any
# added later) is a degraded answer: kept briefly, so a client soon asks again.
FRESH_SOURCES = frozenset({"cache", "spotify", "popular", "index"})

# Shared caches must key on Origin when CORS answers a specific origin (Powertools only adds
# Access-Control-Allow-Origin when the request's Origin matches).
VARY = "Origin"

Serializer = Callable[[Any], str]


@dataclass(frozen=True)
class CachePolicy:
    """Lifetimes (seconds) of the answers that may be cached; from the settings."""

    max_age: int  # browsers and apps, a fresh answer
    shared_max_age: int  # CDN, a fresh answer (also how long it may serve it while we fail)
    degraded_max_age: int  # everyone, a stale or fallback answer

    def cache_control(self, source: str | None) -> str:
        if source is None:  # not a catalog answer (health, the document): revalidate every time
            return "no-cache"
        if source in FRESH_SOURCES:
            return (
                f"public, max-age={self.max_age}, s-maxage={self.shared_max_age}, stale-if-error={self.shared_max_age}"
            )
        return f"public, max-age={self.degraded_max_age}, s-maxage={self.degraded_max_age}"


def error_cache_control(status: int) -> str:
    """Bad input answers the same for a while; a failure (5xx, 429) must never be kept."""
    return "public, max-age=60" if 400 <= status < 500 and status != 429 else "no-store"


def etag_of(body: str | bytes) -> str:
    data = body.encode() if isinstance(body, str) else body
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when ``If-None-Match`` names ``etag`` (RFC 9110 13.1.2: weak comparison, or ``*``)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def http_cache_middleware(
    policy: CachePolicy, serializer: Serializer
) -> Callable[[ApiGatewayResolver, NextMiddleware], Response]:
    """Adds Cache-Control, ETag and Vary to a GET's 200 and turns a matching revalidation into 304.

    The body is serialized here with the resolver's own serializer, so the ETag is computed over
    the exact bytes sent. A route that set Cache-Control itself (``/stats``: no-store) keeps it.
    """

    def middleware(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response:
        response = next_middleware(app)
        if app.current_event.http_method != "GET" or response.status_code != 200:
            return response
        headers = response.headers
        if "Cache-Control" in headers:
            return response
        source = response.body.get("source") if isinstance(response.body, dict) else None
        if response.is_json() and not isinstance(response.body, (str, bytes)):
            response.body = serializer(response.body)
        etag = etag_of(response.body or "")
        headers.update({"Cache-Control": policy.cache_control(source), "ETag": etag, "Vary": VARY})
        if none_match(app.current_event.headers.get("if-none-match"), etag):
            return Response(
                304, None, "", headers={key: value for key, value in headers.items() if key != "Content-Type"}
            )
        return response

    return middleware
