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


ERROR_RESPONSES = {
    400: {"description": "Invalid input", "content": {"application/json": {"model": ErrorResponse}}},
    404: {"description": "Not found", "content": {"application/json": {"model": ErrorResponse}}},
    503: {
        "description": "Upstream unavailable or rate-limited and nothing cached (see Retry-After)",
        "content": {"application/json": {"model": ErrorResponse}},
    },
}
