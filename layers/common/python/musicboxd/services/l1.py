"""Per-container in-memory L1 in front of the DynamoDB cache, for hot items.

Design: docs/design/l1-cache.md.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from musicboxd.models import Album, SearchPage
from musicboxd.ports import AlbumCache, CachedAlbum, CachedSearch


class L1Cache:
    """An AlbumCache wrapping another one (the DynamoDB cache) with a small in-memory LRU."""

    def __init__(
        self,
        inner: AlbumCache,
        *,
        max_items: int = 512,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.inner = inner
        self._max_items = max_items
        self._max_age = max_age
        self._clock = clock
        self._monotonic = monotonic
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()  # key -> (loaded at, value)
        self._lock = threading.Lock()
        self.hits = 0

    def __getattr__(self, name: str) -> Any:  # anything else the inner adapter offers (model, ...)
        return getattr(self.inner, name)

    # -- the port

    def get_album(self, album_id: str) -> CachedAlbum | None:
        return self._get(f"A#{album_id}", lambda: self.inner.get_album(album_id))

    def put_album(self, album: Album, *, tier: str, ttl_seconds: int) -> None:
        self.inner.put_album(album, tier=tier, ttl_seconds=ttl_seconds)
        self._remember(f"A#{album.id}", CachedAlbum(album, self._clock() + ttl_seconds, tier))

    def put_missing(self, album_id: str, *, ttl_seconds: int) -> None:
        self._forget(f"A#{album_id}")
        self.inner.put_missing(album_id, ttl_seconds=ttl_seconds)

    def get_search(self, key: str) -> CachedSearch | None:
        return self._get(f"S#{key}", lambda: self.inner.get_search(key))

    def put_search(self, key: str, page: SearchPage, *, ttl_seconds: int, provisional: bool = False) -> None:
        self.inner.put_search(key, page, ttl_seconds=ttl_seconds, provisional=provisional)
        self._remember(f"S#{key}", CachedSearch(page, self._clock() + ttl_seconds))

    # -- plumbing

    def _get(self, key: str, load: Callable[[], Any]) -> Any:
        now = self._monotonic()
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                loaded_at, value = entry
                if now - loaded_at < self._max_age and value.fresh(self._clock()):
                    self._items.move_to_end(key)
                    self.hits += 1
                    return value
                del self._items[key]
        value = load()
        if value is not None and value.fresh(self._clock()) and getattr(value, "album", True) is not None:
            self._remember(key, value)
        return value

    def _remember(self, key: str, value: Any) -> None:
        if self._max_items <= 0:
            return
        with self._lock:
            self._items[key] = (self._monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self._max_items:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Drop everything (what a new container starts with)."""
        with self._lock:
            self._items.clear()

    def _forget(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)
