"""Response bodies of the public API (they also make the OpenAPI document)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from musicboxd.models import Album, AlbumSummary


class SearchResponse(BaseModel):
    query: str
    limit: int
    offset: int
    total: int
    albums: list[AlbumSummary]
    source: str = Field(description="cache | spotify | stale | musicbrainz | cache-only | popular")


class AlbumResponse(Album):
    source: str = Field(description="cache | spotify | stale")


class Health(BaseModel):
    status: str


class ErrorBody(BaseModel):
    status: int
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


X_CACHE_HEADER = {
    "X-Cache": {
        "description": "HIT (fresh cache), MISS (asked an upstream), STALE (expired cache served while upstreams fail)",
        "schema": {"type": "string", "enum": ["HIT", "MISS", "STALE"]},
    }
}
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds after which the request may succeed (e.g. when Spotify's rate limit lifts)",
        "schema": {"type": "string", "pattern": "^[1-9][0-9]*$"},
    }
}

ERROR_RESPONSES = {
    400: {"description": "Invalid input", "content": {"application/json": {"model": ErrorResponse}}},
    404: {"description": "Not found", "content": {"application/json": {"model": ErrorResponse}}},
    503: {
        "description": "Upstream unavailable or rate-limited and nothing cached (see Retry-After)",
        "headers": RETRY_AFTER_HEADER,
        "content": {"application/json": {"model": ErrorResponse}},
    },
}
