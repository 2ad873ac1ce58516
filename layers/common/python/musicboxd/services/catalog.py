"""Search and album use cases: cache first, Spotify when needed, then the degradation chain.

Order for every request: fresh cache -> [search only: tier-1 index when confident] ->
primary catalog (Spotify, written through) ->
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
from musicboxd.errors import CacheUnavailable, NotFound, RateLimited, Unavailable
from musicboxd.models import Album, SearchPage
from musicboxd.normalize import normalize_query
from musicboxd.ports import TIER_POPULAR, TIER_SEARCHED, AlbumCache, CatalogSource, Telemetry, Tier1Search
from musicboxd.services.memory_telemetry import NullTelemetry
from musicboxd.services.singleflight import SingleFlight
from musicboxd.services.usage import DemandRecorder, NullDemand

T = TypeVar("T")

# Failures after which we degrade instead of failing the request.
DEGRADABLE = (RateLimited, Unavailable)

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

    After a failure (DynamoDB throttled or down) the cache is skipped for ``cooldown_seconds``,
    so requests answer from the upstream at once instead of each paying DynamoDB's retries.
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
        except CacheUnavailable as exc:
            self._skip_until = self._monotonic() + self._cooldown
            logger.warning("cache unavailable, serving without it for %.0f s: %s", self._cooldown, exc)
            return None


class SearchService:
    def __init__(
        self,
        cache: AlbumCache,
        catalog: CatalogSource,
        *,
        market: str,
        ttl_seconds: int,
        telemetry: Telemetry | None = None,
        fallbacks: Sequence[SearchFallback] = (),
        clock: Callable[[], float] = time.time,
        tier1: Tier1Search | None = None,
        demand: DemandRecorder | None = None,
    ):
        self._telemetry = telemetry or NullTelemetry()
        self._demand = demand or NullDemand()
        self._cache = _CacheGuard(cache)
        self._catalog = catalog
        self._tier1 = tier1
        self._market = market
        self._ttl = ttl_seconds
        self._fallbacks = tuple(fallbacks)
        self._clock = clock
        self._flight = SingleFlight()

    def search(self, query: str, *, limit: int, offset: int) -> Answer[SearchPage]:
        normalized = normalize_query(query)
        if not normalized:
            raise ValueError("query is empty after normalization")
        self._demand.record_query(normalized)
        key = search_key(self._market, normalized, offset=offset, limit=limit)
        cached = self._cache.call(self._cache.cache.get_search, key)
        if cached is not None and cached.fresh(self._clock()):
            self._telemetry.count(m.CACHE_HIT_SEARCHED)
            return Answer(cached.page, "cache", HIT)
        if self._tier1 is not None:
            popular = self._tier1.answer(normalized, limit=limit, offset=offset)
            if popular is not None:  # confident answer from the popular tier's index
                self._telemetry.count(m.CACHE_HIT_POPULAR)
                return Answer(popular, "popular", HIT)
        self._telemetry.count(m.CACHE_MISS)
        try:
            page = self._flight.do(key, lambda: self._catalog.search_albums(normalized, limit=limit, offset=offset))
        except DEGRADABLE:
            if cached is not None:
                self._telemetry.count(m.CACHE_HIT_STALE)
                return Answer(cached.page, "stale", STALE)
            for fallback in self._fallbacks:
                try:
                    found = fallback.search(normalized, limit, offset)
                except Exception:  # a broken fallback must not hide the real failure
                    logger.exception("search fallback %s failed", fallback.source)
                    continue
                if found is not None:
                    self._telemetry.count(FALLBACK_METRICS.get(fallback.source, m.FALLBACK_CACHE_ONLY))
                    return Answer(found, fallback.source, MISS)
            raise
        self._cache.call(self._cache.cache.put_search, key, page, ttl_seconds=self._ttl)
        return Answer(page, "spotify", MISS)


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
    ):
        self._telemetry = telemetry or NullTelemetry()
        self._demand = demand or NullDemand()
        self._cache = _CacheGuard(cache)
        self._catalog = catalog
        self._ttl = ttl_seconds
        self._negative_ttl = negative_ttl_seconds
        self._clock = clock
        self._flight = SingleFlight()

    def get(self, album_id: str) -> Answer[Album]:
        self._demand.record_album(album_id)
        cached = self._cache.call(self._cache.cache.get_album, album_id)
        if cached is not None and cached.fresh(self._clock()):
            if cached.album is None:
                self._telemetry.count(m.CACHE_HIT_SEARCHED)
                raise NotFound(f"album {album_id} not found")
            self._telemetry.count(m.CACHE_HIT_POPULAR if cached.tier == TIER_POPULAR else m.CACHE_HIT_SEARCHED)
            return Answer(cached.album, "cache", HIT)
        self._telemetry.count(m.CACHE_MISS)
        try:
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
