"""Ports: what the services need from the outside world, as Protocols.

Adapters (httpx, PynamoDB, SSM) implement these; unit tests use in-memory fakes.
Nothing here imports AWS or HTTP libraries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from musicboxd.models import Album, AlbumSummary, SearchPage

# Cache tiers, recorded on every cached item.
TIER_POPULAR = "popular"  # filled by populate
TIER_SEARCHED = "searched"  # searched or opened by users, written through from Spotify (30 days)


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class Deadline(Protocol):
    def remaining(self) -> float:
        """Seconds left for upstream calls in this request/invocation."""
        ...


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)  # a secret: never in logs
    expires_at: float  # epoch seconds

    def valid(self, now: float, margin: float = 60.0) -> bool:
        return bool(self.access_token) and now < self.expires_at - margin


class TokenStore(Protocol):
    """Where the shared client-credentials token lives (SSM SecureString when deployed)."""

    def load(self) -> Token | None: ...

    def save(self, token: Token) -> None: ...


class CatalogSource(Protocol):
    """An album catalog (Spotify, MusicBrainz)."""

    def search_albums(self, query: str, *, limit: int, offset: int) -> SearchPage:
        """One page; ``limit`` may exceed the upstream's cap (the adapter pages)."""
        ...

    def get_album(self, album_id: str) -> Album:
        """Full album with every track. Raises NotFound, RateLimited, Unavailable."""
        ...


@dataclass(frozen=True)
class CachedAlbum:
    album: Album | None  # None: negative entry (upstream said 404)
    expires_at: float
    tier: str

    def fresh(self, now: float) -> bool:
        return now < self.expires_at


@dataclass(frozen=True)
class CachedSearch:
    page: SearchPage
    expires_at: float

    def fresh(self, now: float) -> bool:
        return now < self.expires_at


class AlbumCache(Protocol):
    """The DynamoDB cache. Reads return expired items too; callers check ``fresh``."""

    def get_album(self, album_id: str) -> CachedAlbum | None: ...

    def put_album(self, album: Album, *, tier: str, ttl_seconds: int) -> None: ...

    def put_missing(self, album_id: str, *, ttl_seconds: int) -> None: ...

    def get_search(self, key: str) -> CachedSearch | None: ...

    def put_search(self, key: str, page: SearchPage, *, ttl_seconds: int, provisional: bool = False) -> None:
        """``provisional``: a thin page (see services.catalog.thin_page), kept out of the tier-1 index."""
        ...


class RateBudget(Protocol):
    """App-wide Spotify call budget shared by every instance."""

    def acquire(self, *, interactive: bool = True) -> bool:
        """Reserve one call; False when the shared budget or the 429 circuit says no."""
        ...


# -- tier-1 index (musicboxd.index, musicboxd.services.tier1)


class PopularAlbumSource(Protocol):
    """Albums the tier-1 index is built from (the popular tier; expired items excluded)."""

    def popular_albums(self) -> Iterable[CachedAlbum]: ...


@dataclass(frozen=True)
class SweepPage:
    """One page of a popularity sweep: Spotify's own order for a filter-only search.

    ``list_id`` names the ordered list the page belongs to (``all``: the whole catalog,
    ``y2024``: one release year, ``h2024``: that year's least popular albums); ``offset`` is
    the position of the first item in it; ``total`` is Spotify's count for the whole list.
    """

    list_id: str
    offset: int
    total: int
    items: tuple[AlbumSummary, ...]


class SweepStore(Protocol):
    """Where populate keeps sweep pages until the index is built from them."""

    def put_page(self, page: SweepPage, *, ttl_seconds: int) -> None: ...

    def pages(self) -> Iterable[SweepPage]:
        """Every page not yet expired."""
        ...


class SearchedPages(Protocol):
    """First pages of searches users made, as Spotify answered them (the searched tier)."""

    def searched_pages(self) -> Iterable[tuple[str, SearchPage]]:
        """(normalized query, page) pairs, fresh ones only, at most a configured number."""
        ...


class DemandCounts(Protocol):
    """How often users asked for each album lately (populate's demand counters)."""

    def demand(self) -> dict[str, float]: ...


@dataclass(frozen=True)
class IndexPointer:
    version: str
    chunks: int
    checksum: str  # sha256 of the whole artifact
    size: int  # bytes
    built_at: float
    albums: int = 0


class IndexStore(Protocol):
    """Where the versioned, compressed tier-1 index artifact lives."""

    def current(self) -> IndexPointer | None:
        """The pointer to the live version (one small read)."""
        ...

    def load(self, pointer: IndexPointer) -> bytes:
        """The artifact of ``pointer``; raises ValueError when it is incomplete or corrupt."""
        ...

    def save(self, blob: bytes, *, version: str, built_at: float, albums: int) -> IndexPointer:
        """Write a new version, then make it current; older versions expire on their own."""
        ...


class Tier1Search(Protocol):
    """What SearchService asks when a query's first block is not fresh in its cache: any page of
    the index's list for a query whose first page it is confident about, else None
    (docs/design/pagination.md)."""

    def answer(self, query: str, *, limit: int, offset: int) -> SearchPage | None: ...


class Telemetry(Protocol):
    """Metrics: services count without importing Powertools (``adapters/metrics.py``)."""

    def count(self, name: str, value: float = 1) -> None: ...


class Lease(Protocol):
    """A short exclusive lease by name (the token fetch, a populate run)."""

    def acquire(self, name: str, *, ttl_seconds: float) -> bool: ...

    def release(self, name: str) -> None: ...


# ----------------------------------------------------------------------------- background jobs


class PopulateCatalog(Protocol):
    """Spotify as populate and cleanup use it (``SpotifyCatalog`` satisfies it)."""

    def search_raw(self, query: str, *, limit: int, offset: int) -> dict[str, Any]: ...

    def search_albums(self, query: str, *, limit: int, offset: int) -> SearchPage: ...

    def get_json(self, path_or_url: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def get_albums(self, album_ids: list[str]) -> list[Album]: ...


class CallMeter(Protocol):
    """Spotify calls observed so far (fed by the adapter's ``observe`` callback)."""

    @property
    def used(self) -> int: ...


class PopularStore(Protocol):
    def album_expiries(self, album_ids: list[str]) -> dict[str, float]: ...

    def put_popular(self, album: Album, *, tier: str, ttl_seconds: int, source: str) -> None: ...

    def put_missing(self, album_id: str, *, ttl_seconds: int) -> None: ...


class CheckpointStore(Protocol):
    def load(self, name: str) -> dict[str, Any] | None: ...

    def save(self, name: str, state: dict[str, Any]) -> None: ...


class DemandReader(Protocol):
    def top_demand(self, days: list[str], *, max_items: int = ...) -> dict[str, int]: ...


class Maintenance(Protocol):
    """Expired-item reaping and cache statistics (cleanup)."""

    def expired_page(
        self, kind: str, now: float, *, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]: ...

    def delete_if_expired(self, pk: str, sk: str, now: float) -> bool: ...

    def expiring_albums(self, now: float, until: float, *, limit: int = ...) -> list[tuple[str, str, float]]: ...

    def count_items(self, kind: str, now: float, *, max_pages: int = ...) -> dict[str, int]: ...


# -- usage counters and demand (services/usage.py)


class UsageStore(Protocol):
    """Where hourly counters and daily demand counters live (DynamoDB atomic ADDs)."""

    def add_hourly(self, hour: str, counters: dict[str, float]) -> None: ...

    def add_demand(self, day: str, counts: dict[str, int]) -> None: ...

    def claim_demand(self, day: str, client: str, wanted: int, *, cap: int) -> int:
        """Count ``wanted`` more of ``client``'s demand on ``day`` (for every container at once);
        how many of them fit under ``cap``."""
        ...

    def read_hourly(self, hours: list[str]) -> dict[str, dict[str, float]]: ...


class DemandRecorder(Protocol):
    """What the search/album services tell about each answered request (cheap, never fails)."""

    def record_album(self, album_id: str, *, client: str | None = None) -> None: ...

    def record_query(self, normalized_query: str, *, client: str | None = None) -> None: ...


# -- the shared upstream budget (services/budget.py, adapters/rate_budget.py)

OK, WINDOW_FULL, CIRCUIT_CLOSED, PROBE_BUSY = "ok", "window_full", "circuit_closed", "probe_busy"


@dataclass(frozen=True)
class Grant:
    """The store's answer to one ``take``."""

    granted: bool
    reason: str = OK  # OK | WINDOW_FULL | CIRCUIT_CLOSED | PROBE_BUSY
    retry_at: float = 0.0  # epoch seconds when asking again can succeed
    probe: bool = False  # granted as the one probe of a circuit that just expired


class BudgetStore(Protocol):
    """Shared state of one budget (DynamoDB item). Failures raise CacheUnavailable."""

    def take(self, *, now: float, interactive: bool) -> Grant:
        """Atomically reserve one call if the window and the circuit allow it."""
        ...

    def close(self, *, until: float, quota: bool, now: float) -> None:
        """Close the circuit until ``until`` (never shortens a longer closure)."""
        ...

    def reopen(self, *, now: float) -> None:
        """The probe succeeded: open the circuit (only if its closure has passed)."""
        ...


class CallShares(Protocol):
    """Per-client and per-class shares of the upstream budget (services.budget.ShareLimiter)."""

    def allow(self, client: str | None, budget_class: str, *, calls: int = 1) -> bool: ...

    def retry_after(self) -> float: ...


class RankedIndex(Protocol):
    """What cache-only search needs of the tier-1 index (index.core.Tier1Index)."""

    def ranked(self, query: str) -> tuple[str, list[tuple[int, int]]]: ...

    def summary(self, i: int) -> AlbumSummary: ...


# -- tier-1 verification (musicboxd.services.verification)


@dataclass(frozen=True)
class PendingCheck:
    """A tier-1 answer waiting to be compared with Spotify's page for the same query."""

    query: str  # normalized, as the search service asked tier 1
    shape: str  # title | artist | partial | unicode | typo
    limit: int
    tier1_ids: tuple[str, ...]  # tier 1's answer (its first ten ids)
    at: float  # epoch seconds when it was answered


class VerificationQueue(Protocol):
    """Pending checks, oldest first (DynamoDB items with a TTL: an unchecked one just expires)."""

    def put(self, checks: list[PendingCheck]) -> None:
        """Queue checks (one batch write)."""
        ...

    def take(self, max_items: int) -> list[tuple[str, PendingCheck]]:
        """Up to ``max_items`` (key, check) pairs, oldest first; they stay queued until ``done``."""
        ...

    def done(self, keys: list[str]) -> None: ...
