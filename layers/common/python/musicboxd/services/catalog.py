"""Search and album use cases: cache first, Spotify when needed, then the degradation chain.

Order for every request: fresh cache -> [search only: the tier-1 index, for every page of a
query whose first block is not fresh in the cache and whose first page the index is confident
about: one list per query, docs/design/pagination.md] -> primary catalog (Spotify, written through) ->
stale cache (expired, not yet reaped) -> fallbacks (MusicBrainz, cache-only) -> error.
No AWS or HTTP imports: everything outside comes in through ports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from musicboxd import metric_names as m
from musicboxd.errors import CacheRejected, CacheUnavailable, CatalogError, NotFound, RateLimited
from musicboxd.models import Album, SearchPage
from musicboxd.normalize import searchable_query
from musicboxd.ports import (
    TIER_POPULAR,
    TIER_SEARCHED,
    AlbumCache,
    CachedSearch,
    CallShares,
    CatalogSource,
    DemandRecorder,
    Telemetry,
    Tier1Search,
)
from musicboxd.services.memory_telemetry import NullTelemetry
from musicboxd.services.singleflight import SingleFlight
from musicboxd.services.usage import NullDemand

T = TypeVar("T")

# Failures after which we degrade (stale copy, fallbacks) instead of failing the request: every
# catalog error (429, 5xx, timeouts, 403, unreadable bodies, ...) except "this does not exist".
DEGRADABLE = (CatalogError,)


def thin_page(page: SearchPage, *, limit: int, offset: int) -> bool:
    """An empty page, or one shorter than asked while the total says more exist.

    Both are what an upstream incident looks like; they are cached briefly (negative TTL) and
    kept out of the tier-1 index, so a 10-minute incident never pins "no results" for a month.
    """
    return not page.items or (len(page.items) < limit and page.total > offset + len(page.items))


HIT, MISS, STALE = "HIT", "MISS", "STALE"

FALLBACK_METRICS = {"musicbrainz": m.FALLBACK_MUSICBRAINZ, "cache-only": m.FALLBACK_CACHE_ONLY}

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer(Generic[T]):
    value: T
    source: str  # cache | spotify | stale | musicbrainz | cache-only ...
    cache: str  # HIT | MISS | STALE (the X-Cache header)


@dataclass(frozen=True)
class SearchFallback:
    """A last-resort search source, tried in order after the stale cache."""

    source: str
    search: Callable[[str, int, int], SearchPage | None]


def search_key(market: str, normalized_query: str, *, offset: int, limit: int) -> str:
    return f"SEARCH#{market}#{normalized_query}|{offset}:{limit}"


class _CacheGuard:
    """Cache calls that never fail a request: a broken cache is treated as empty.

    After a failure of the cache itself (DynamoDB throttled, 5xx, timeout, unreachable) the cache
    is skipped for ``cooldown_seconds``, so requests answer from the upstream at once instead of
    each paying DynamoDB's retries. A call DynamoDB rejects (``CacheRejected``, e.g. a
    ValidationException) is a miss for that call alone: one client's odd input never switches the
    cache off for everyone.
    """

    def __init__(
        self, cache: AlbumCache, *, cooldown_seconds: float = 5.0, monotonic: Callable[[], float] = time.monotonic
    ):
        self.cache = cache
        self._cooldown = cooldown_seconds
        self._monotonic = monotonic
        self._skip_until = 0.0

    def call(self, fn: Callable[..., T], *args, **kwargs) -> T | None:
        if self._monotonic() < self._skip_until:
            return None
        try:
            return fn(*args, **kwargs)
        except CacheRejected as exc:
            logger.warning("cache rejected the call, treated as a miss: %s", exc)
            return None
        except CacheUnavailable as exc:
            self._skip_until = self._monotonic() + self._cooldown
            logger.warning("cache unavailable, serving without it for %.0f s: %s", self._cooldown, exc)
            return None


class _NoShares:
    def allow(self, client: str | None, budget_class: str, *, calls: int = 1) -> bool:
        return True

    def retry_after(self) -> float:
        return 0.0


# Budget classes (SPOTIFY_*_SHARE): first pages and album views, deep paging; jobs are background.
CLASS_FIRST_PAGE, CLASS_DEEP_PAGING = "first_page", "deep_paging"


def block_starts(offset: int, limit: int, block: int, *, max_offset: int = 1000) -> list[int]:
    """Offsets of the upstream blocks (pages of ``block`` items) that cover ``[offset, offset + limit)``."""
    first = offset // block * block
    last = min(offset + limit - 1, max_offset + block - 1) // block * block
    return list(range(first, min(last, max_offset) + 1, block))


class _NoBlock(Exception):
    """A block neither cached nor fetchable: the whole request degrades."""

    def __init__(self, cause: CatalogError):
        super().__init__(str(cause))
        self.cause = cause


class SearchService:
    """Searches served from page-aligned upstream blocks (10 items in Development Mode, 50 in
    extended): every (limit, offset) variant of a query shares the same cached blocks, and no
    request costs more than ``len(block_starts(...))`` upstream calls (at most 6 for limit 50).
    Blocks past the first (deep paging) come from ``deep_catalog``: the wiring gives it the
    app-wide budget at the background jobs' threshold, so deep paging and jobs together never
    take the window's reserve for first pages and album views (docs/design/rate-budget.md).
    """

    def __init__(
        self,
        cache: AlbumCache,
        catalog: CatalogSource,
        *,
        market: str,
        ttl_seconds: int,
        negative_ttl_seconds: int = 3600,
        block_size: int = 10,
        telemetry: Telemetry | None = None,
        fallbacks: Sequence[SearchFallback] = (),
        clock: Callable[[], float] = time.time,
        tier1: Tier1Search | None = None,
        demand: DemandRecorder | None = None,
        shares: CallShares | None = None,
        deep_catalog: CatalogSource | None = None,
    ):
        self._telemetry = telemetry or NullTelemetry()
        self._demand = demand or NullDemand()
        self._cache = _CacheGuard(cache)
        self._catalog = catalog
        self._deep_catalog = deep_catalog or catalog
        self._tier1 = tier1
        self._market = market
        self._ttl = ttl_seconds
        self._negative_ttl = negative_ttl_seconds
        self._block = block_size
        self._fallbacks = tuple(fallbacks)
        self._clock = clock
        self._flight = SingleFlight()
        self._shares = shares or _NoShares()

    def search(self, query: str, *, limit: int, offset: int, client: str | None = None) -> Answer[SearchPage]:
        normalized = searchable_query(query)
        read: dict[int, CachedSearch | None] = {}

        def cached_block(start: int) -> CachedSearch | None:
            if start not in read:
                key = search_key(self._market, normalized, offset=start, limit=self._block)
                read[start] = self._cache.call(self._cache.cache.get_search, key)
            return read[start]

        # One list per query: the index's on every page while Spotify's first block is not cached
        # and the index is confident about the first page (docs/design/pagination.md).
        if self._tier1 is not None:
            first = cached_block(0)
            if first is None or not first.fresh(self._clock()):
                listed = self._tier1.answer(normalized, limit=limit, offset=offset)
                if listed is not None:
                    self._telemetry.count(m.CACHE_HIT_POPULAR)
                    self._demand.record_query(normalized, client=client)
                    return Answer(listed, "popular", HIT)
        pages: list[SearchPage] = []
        outcome, source = HIT, "cache"
        try:
            for start in block_starts(offset, limit, self._block):
                key = search_key(self._market, normalized, offset=start, limit=self._block)
                cached = cached_block(start)
                if cached is not None and cached.fresh(self._clock()):
                    page = cached.page
                else:
                    if outcome == HIT:
                        self._telemetry.count(m.CACHE_MISS)
                        outcome, source = MISS, "spotify"
                    page, stale = self._block_from_upstream(normalized, start, key, cached, client)
                    if stale and outcome != STALE:
                        self._telemetry.count(m.CACHE_HIT_STALE)
                        outcome, source = STALE, "stale"
                pages.append(page)
                if len(page.items) < self._block:
                    break  # the end of the results
        except _NoBlock as failed:
            return self._fallback(normalized, limit=limit, offset=offset, failure=failed.cause, client=client)
        if outcome == HIT:
            self._telemetry.count(m.CACHE_HIT_SEARCHED)
        self._demand.record_query(normalized, client=client)
        return Answer(_slice(pages, offset=offset, limit=limit, block=self._block), source, outcome)

    def _block_from_upstream(
        self, normalized: str, start: int, key: str, cached: CachedSearch | None, client: str | None
    ) -> tuple[SearchPage, bool]:
        """(block, served stale) for a block that is not fresh in the cache."""
        budget_class, catalog = (
            (CLASS_FIRST_PAGE, self._catalog) if start == 0 else (CLASS_DEEP_PAGING, self._deep_catalog)
        )
        try:
            if not self._shares.allow(client, budget_class):
                raise RateLimited(self._shares.retry_after(), message=f"{budget_class} share used up")
            page = self._flight.do(key, lambda: catalog.search_albums(normalized, limit=self._block, offset=start))
        except NotFound:
            raise
        except DEGRADABLE as exc:
            if cached is not None:
                return cached.page, True
            raise _NoBlock(exc) from exc
        if thin_page(page, limit=self._block, offset=start):
            self._cache.call(self._cache.cache.put_search, key, page, ttl_seconds=self._negative_ttl, provisional=True)
        else:
            self._cache.call(self._cache.cache.put_search, key, page, ttl_seconds=self._ttl)
        return page, False

    def _fallback(
        self, normalized: str, *, limit: int, offset: int, failure: CatalogError, client: str | None
    ) -> Answer[SearchPage]:
        for fallback in self._fallbacks:
            try:
                found = fallback.search(normalized, limit, offset)
            except Exception:  # a broken fallback must not hide the real failure
                logger.exception("search fallback %s failed", fallback.source)
                continue
            if found is not None:
                self._telemetry.count(FALLBACK_METRICS.get(fallback.source, m.FALLBACK_CACHE_ONLY))
                self._demand.record_query(normalized, client=client)
                return Answer(found, fallback.source, MISS)
        raise failure


def _slice(pages: list[SearchPage], *, offset: int, limit: int, block: int) -> SearchPage:
    items = [item for page in pages for item in page.items]
    skip = offset - offset // block * block
    return SearchPage(items=items[skip : skip + limit], total=pages[-1].total if pages else 0)


class AlbumService:
    def __init__(
        self,
        cache: AlbumCache,
        catalog: CatalogSource,
        *,
        ttl_seconds: int,
        negative_ttl_seconds: int,
        telemetry: Telemetry | None = None,
        clock: Callable[[], float] = time.time,
        demand: DemandRecorder | None = None,
        shares: CallShares | None = None,
        deep_catalog: CatalogSource | None = None,
    ):
        self._telemetry = telemetry or NullTelemetry()
        self._demand = demand or NullDemand()
        self._cache = _CacheGuard(cache)
        self._catalog = catalog
        self._ttl = ttl_seconds
        self._negative_ttl = negative_ttl_seconds
        self._clock = clock
        self._flight = SingleFlight()
        self._shares = shares or _NoShares()

    def get(self, album_id: str, *, client: str | None = None) -> Answer[Album]:
        answer = self._get(album_id, client)
        self._demand.record_album(album_id, client=client)  # only answered requests count as demand
        return answer

    def _get(self, album_id: str, client: str | None) -> Answer[Album]:
        cached = self._cache.call(self._cache.cache.get_album, album_id)
        if cached is not None and cached.fresh(self._clock()):
            if cached.album is None:
                self._telemetry.count(m.CACHE_HIT_SEARCHED)
                raise NotFound(f"album {album_id} not found")
            self._telemetry.count(m.CACHE_HIT_POPULAR if cached.tier == TIER_POPULAR else m.CACHE_HIT_SEARCHED)
            return Answer(cached.album, "cache", HIT)
        self._telemetry.count(m.CACHE_MISS)
        try:
            if not self._shares.allow(client, CLASS_FIRST_PAGE):
                raise RateLimited(self._shares.retry_after(), message="client share used up")
            album = self._flight.do(album_id, lambda: self._catalog.get_album(album_id))
        except NotFound:
            self._cache.call(self._cache.cache.put_missing, album_id, ttl_seconds=self._negative_ttl)
            raise
        except DEGRADABLE:
            if cached is not None and cached.album is not None:
                self._telemetry.count(m.CACHE_HIT_STALE)
                return Answer(cached.album, "stale", STALE)
            raise
        self._cache.call(self._cache.cache.put_album, album, tier=TIER_SEARCHED, ttl_seconds=self._ttl)
        return Answer(album, "spotify", MISS)
