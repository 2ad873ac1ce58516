"""Response bodies of the public API (they also make the OpenAPI document)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from pydantic import BaseModel, Field

from musicboxd.models import Album, AlbumSummary


class SearchResponse(BaseModel):
    query: str
    limit: int
    offset: int
    total: int
    albums: list[AlbumSummary]
    source: str = Field(description="cache | spotify | stale | musicbrainz | cache-only | popular")


class SuggestItem(BaseModel):
    type: str = Field(description="album | artist")
    id: str
    name: str
    artist_name: str
    image_url: str | None = None


class SuggestResponse(BaseModel):
    query: str
    limit: int
    suggestions: list[SuggestItem]
    source: str = Field(description="always index: the tier-1 index, never Spotify")


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


X_CACHE_HEADER: dict[str, OpenAPIResponseHeader] = {
    "X-Cache": {
        "description": "HIT (fresh cache), MISS (asked an upstream), STALE (expired cache served while upstreams fail)",
        "schema": {"type": "string", "enum": ["HIT", "MISS", "STALE"]},
    }
}
RETRY_AFTER_HEADER: dict[str, OpenAPIResponseHeader] = {
    "Retry-After": {
        "description": "Seconds after which the request may succeed (e.g. when Spotify's rate limit lifts)",
        "schema": {"type": "string", "pattern": "^[1-9][0-9]*$"},
    }
}

ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    400: {"description": "Invalid input", "content": {"application/json": {"model": ErrorResponse}}},
    404: {"description": "Not found", "content": {"application/json": {"model": ErrorResponse}}},
    503: {
        "description": "Upstream unavailable or rate-limited and nothing cached (see Retry-After)",
        "headers": RETRY_AFTER_HEADER,
        "content": {"application/json": {"model": ErrorResponse}},
    },
}


class SpotifyCallStats(BaseModel):
    total: int
    by_endpoint: dict[str, int] = Field(description="search | album | albums | album_tracks | playlist_items | ...")
    by_status: dict[str, int]


class CacheStats(BaseModel):
    hits_popular: int
    hits_searched: int
    hits_stale: int = Field(description="served stale because Spotify failed (also counted in misses)")
    misses: int
    hit_rate: float | None = Field(description="(hits_popular + hits_searched) / lookups")


class HourStats(CacheStats):
    hour: str = Field(description="UTC hour, yyyy-mm-ddThh")
    spotify_calls: int
    avg_upstream_latency_ms: float | None


class StatsResponse(BaseModel):
    hours: int
    from_: str | None = Field(alias="from", serialization_alias="from")
    to: str | None
    spotify_calls: SpotifyCallStats
    avg_upstream_latency_ms: float | None
    cache: CacheStats
    hourly: list[HourStats]
