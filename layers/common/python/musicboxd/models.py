"""Domain objects: what the cache stores and what the API returns."""

from __future__ import annotations

from pydantic import BaseModel, Field

SPOTIFY_LINK = (
    "Link back to it on Spotify (Spotify's `external_urls.spotify`), to be shown with it (Spotify's "
    "attribution duty); null only in a MusicBrainz answer (`source: musicbrainz`), which is not Spotify Content"
)
COVER_ART = "Cover art URL exactly as Spotify serves it (Cover Art Archive's for `source: musicbrainz`)"


class ArtistRef(BaseModel):
    id: str
    name: str
    spotify_url: str | None = Field(default=None, description=SPOTIFY_LINK)


class AlbumSummary(BaseModel):
    id: str = Field(description="22-character base62 Spotify id (a MusicBrainz fallback's own: its MBID)")
    name: str
    artists: list[ArtistRef]
    artist_name: str = Field(description="Artists joined with ', '")
    release_date: str | None = None
    release_date_precision: str | None = None
    total_tracks: int = 0
    album_type: str | None = None
    image_url: str | None = Field(default=None, description=COVER_ART)
    spotify_url: str | None = Field(default=None, description=SPOTIFY_LINK)
    mbid: str | None = Field(default=None, description="MusicBrainz release-group id (source musicbrainz)")


class Track(BaseModel):
    id: str | None = None
    name: str
    track_number: int
    disc_number: int = 1
    duration_ms: int
    explicit: bool = False
    artists: list[ArtistRef] = Field(default_factory=list)


class Album(AlbumSummary):
    tracks: list[Track] = Field(default_factory=list)
    total_duration_ms: int = 0
    label: str | None = None
    popularity: int | None = None

    def summary(self) -> AlbumSummary:
        return AlbumSummary.model_validate(self.model_dump(include=set(AlbumSummary.model_fields)))


class SearchPage(BaseModel):
    """One page of album search results, in the upstream's order."""

    items: list[AlbumSummary]
    total: int
