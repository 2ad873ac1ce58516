"""Response bodies of the public API (they also make the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from pydantic import BaseModel, Field

from musicboxd.models import COVER_ART, SPOTIFY_LINK, Album, AlbumSummary
from musicboxd.normalize import MAX_QUERY_LENGTH, SEARCHABLE_PATTERN

ATTRIBUTION = (
    "Album and artist metadata and cover art come from Spotify (or, when Spotify is unavailable, "
    "MusicBrainz and the Cover Art Archive: `source: musicbrainz`). Clients must follow Spotify's "
    "Developer Terms: show Spotify attribution with the metadata and cover art, link each album and "
    "artist back to Spotify with its `spotify_url`, show cover art as served (`image_url`, unmodified: "
    "no cropping, overlays or re-hosting), and not store or resell the content. A MusicBrainz answer has "
    "no `spotify_url`: attribute it to MusicBrainz instead. This API is for the Musicboxd apps, not a "
    "standalone metadata service."
)


# `q` of /search and /suggest, exactly as accepted (the document's maxLength and pattern are the rule).
QueryText = Annotated[
    str,
    Query(
        description=f"At most {MAX_QUERY_LENGTH} characters, at least one of them a letter, digit, mark, "
        "punctuation or symbol (whitespace, control and format characters alone are not searchable). "
        "Rare: a query whose Unicode normalization (NFKC) grows past 200 characters or 600 UTF-8 bytes is "
        "answered 400 query_too_long.",
        max_length=MAX_QUERY_LENGTH,
        pattern=SEARCHABLE_PATTERN,
    ),
]


class SearchAlbum(AlbumSummary):
    # Nullable here only: a MusicBrainz answer has no Spotify id for /albums/{id} (only its mbid).
    id: str | None = Field(  # type: ignore[assignment]
        description="22-character base62 Spotify id (GET /albums/{id}); null in a musicbrainz answer: see mbid"
    )


class SearchResponse(BaseModel):
    query: str
    limit: int
    offset: int
    total: int
    albums: list[SearchAlbum]
    source: Literal["cache", "spotify", "popular", "stale", "musicbrainz", "cache-only"] = Field(
        description="cache: our cache; spotify: asked Spotify now; popular: the tier-1 index; stale: an expired cache "
        "entry while Spotify fails; musicbrainz / cache-only: fallbacks while Spotify fails"
    )
    next: str | None = Field(
        description="The next page as a query-only relative URL (?q=..&limit=..&offset=..; resolves against this "
        "page's path); null on the last reachable page"
    )
    prev: str | None = Field(description="The previous page, same form; null on the first")
    last_page: bool = Field(
        description="No next page: the results end here, or the next offset would pass 1000 (Spotify's limit) "
        "although total is larger"
    )


class SuggestItem(BaseModel):
    type: Literal["album", "artist"]
    id: str
    name: str
    artist_name: str
    image_url: str | None = Field(default=None, description=COVER_ART)
    spotify_url: str | None = Field(default=None, description=SPOTIFY_LINK)


class SuggestResponse(BaseModel):
    query: str
    limit: int
    suggestions: list[SuggestItem]
    source: Literal["index"] = Field(description="the tier-1 index, never Spotify")


class AlbumResponse(Album):
    source: Literal["cache", "spotify", "stale"]


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

# HTTP caching (api/http_cache.py): on every cacheable 200 and on its 304.
CACHE_HEADERS: dict[str, OpenAPIResponseHeader] = {
    "ETag": {
        "description": "Strong validator of the body (send it back in If-None-Match)",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"description": "How long the answer may be reused, by its source", "schema": {"type": "string"}},
}
NOT_MODIFIED: dict[int, OpenAPIResponse] = {
    304: {"description": "Not modified: If-None-Match named the current ETag (no body)", "headers": CACHE_HEADERS}
}


def _error(description: str, headers: dict[str, OpenAPIResponseHeader] | None = None) -> OpenAPIResponse:
    response: OpenAPIResponse = {"description": description, "content": {"application/json": {"model": ErrorResponse}}}
    if headers:
        response["headers"] = headers
    return response


BAD_REQUEST: dict[int, OpenAPIResponse] = {400: _error("Invalid input")}
NOT_FOUND: dict[int, OpenAPIResponse] = {404: _error("Not found")}
THROTTLED: dict[int, OpenAPIResponse] = {429: _error("Throttled by the API stage (deployed only)")}
# IAM routes: an unsigned call is 401 (also locally, where the signature is not verified), a denied one 403.
IAM_REFUSED: dict[int, OpenAPIResponse] = {
    401: _error("Unsigned: sign the request with AWS SigV4"),
    403: _error("Signed, but not allowed (deployed)"),
}
UNAVAILABLE: dict[int, OpenAPIResponse] = {
    503: _error("Upstream unavailable or rate-limited and nothing cached (see Retry-After)", RETRY_AFTER_HEADER)
}
ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    **BAD_REQUEST,
    **THROTTLED,
    **UNAVAILABLE,
}  # what any catalog route may answer


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


class ShapeAgreement(BaseModel):
    checked: int
    agreed: int
    agreement: float | None


class VerificationStats(BaseModel):
    checked: int = Field(description="tier-1 answers compared with Spotify's page (sampled, off the request path)")
    agreed: int
    agreement: float | None = Field(description="share whose first five ids and order equal Spotify's")
    spotify_calls: int = Field(description="Spotify calls the checks cost (background share)")
    by_shape: dict[str, ShapeAgreement] = Field(description="per query shape: title, artist, partial, unicode, typo")


class StatsResponse(BaseModel):
    hours: int
    from_: str | None = Field(alias="from", serialization_alias="from")
    to: str | None
    spotify_calls: SpotifyCallStats
    avg_upstream_latency_ms: float | None
    cache: CacheStats
    tier1_verification: VerificationStats
    hourly: list[HourStats]
