"""Last-resort search over the albums we already cached ("cache-only").

Used after Spotify, the stale cache and MusicBrainz all failed. Walks cached album summaries
(newest expiry first, stale ones included) and keeps those whose name + artists contain every
word of the query, with the same normalization as cache keys plus accent folding. Bounded in
items and in time; never raises (a broken cache just means "nothing found").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from musicboxd.errors import CacheUnavailable
from musicboxd.models import AlbumSummary, SearchPage
from musicboxd.normalize import normalize_query, strip_accents

logger = logging.getLogger(__name__)


def match_key(text: str) -> str:
    return strip_accents(normalize_query(text))


def matches(album: AlbumSummary, words: list[str]) -> bool:
    haystack = match_key(f"{album.name} {album.artist_name}")
    return all(w in haystack for w in words)


class CacheOnlySearch:
    def __init__(
        self,
        scan: Callable[[int], Iterable[AlbumSummary]],
        *,
        max_items: int = 2000,
        max_seconds: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._scan = scan
        self._max_items = max_items
        self._max_seconds = max_seconds
        self._monotonic = monotonic

    def search(self, query: str, limit: int, offset: int) -> SearchPage | None:
        words = match_key(query).split()
        if not words:
            return None
        stop_at = self._monotonic() + self._max_seconds
        found: list[AlbumSummary] = []
        seen: set[str] = set()
        try:
            for album in self._scan(self._max_items):
                if album.id not in seen and matches(album, words):
                    seen.add(album.id)
                    found.append(album)
                if self._monotonic() > stop_at:
                    break
        except CacheUnavailable as exc:
            logger.warning("cache-only search unavailable: %s", exc)
        if not found:
            return None
        return SearchPage(items=found[offset : offset + limit], total=len(found))
