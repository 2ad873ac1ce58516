"""Last-resort search over the albums this container already holds in memory ("cache-only").

Used after Spotify, the stale cache and MusicBrainz all failed. Answers from the tier-1 index
the container has loaded (the same ranking as a confident tier-1 answer, without the
confidence rule), so a refused miss costs no table read. Answers are kept in a small
in-memory LRU for a few seconds: a burst of the same refused query is answered once.
Never raises (no index just means "nothing found").
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from musicboxd.models import SearchPage
from musicboxd.normalize import normalize_query
from musicboxd.ports import RankedIndex
from musicboxd.services.tier1 import list_page


class CacheOnlySearch:
    def __init__(
        self,
        index: Callable[[], RankedIndex | None],
        *,
        memo_seconds: float = 10.0,
        memo_items: int = 256,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._index = index
        self._memo_seconds = memo_seconds
        self._memo_items = memo_items
        self._monotonic = monotonic
        self._memo: OrderedDict[tuple[str, int, int], tuple[float, SearchPage | None]] = OrderedDict()
        self._lock = threading.Lock()

    def search(self, query: str, limit: int, offset: int) -> SearchPage | None:
        key = (normalize_query(query), limit, offset)
        now = self._monotonic()
        with self._lock:
            remembered = self._memo.get(key)
            if remembered is not None and now - remembered[0] < self._memo_seconds:
                return remembered[1]
        page = self._lookup(key[0], limit, offset)
        with self._lock:
            self._memo[key] = (now, page)
            self._memo.move_to_end(key)
            while len(self._memo) > self._memo_items:
                self._memo.popitem(last=False)
        return page

    def _lookup(self, query: str, limit: int, offset: int) -> SearchPage | None:
        index = self._index()
        if index is None or not query:
            return None
        _, ranked = index.ranked(query)
        if not ranked[offset : offset + limit]:
            return None
        return list_page(index, ranked, limit=limit, offset=offset)
