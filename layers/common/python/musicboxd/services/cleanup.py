"""Cleanup (daily): reap expired items, refresh the hottest albums ahead of expiry, publish stats.
See docs/design/cleanup.md."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from musicboxd import metric_names as m
from musicboxd.errors import CacheUnavailable, Forbidden, NotFound, RateLimited, Unavailable
from musicboxd.ports import (
    TIER_POPULAR,
    CallMeter,
    CheckpointStore,
    DemandReader,
    Maintenance,
    PopularStore,
    PopulateCatalog,
    Telemetry,
    UsageStore,
)
from musicboxd.services.memory_telemetry import NullTelemetry
from musicboxd.services.usage import DEMAND_ALBUM, days_between, last_hours, summarize

JOB = "cleanup"
# Every item kind with an expiry, reaped in this order (Spotify's terms: expired data is deleted,
# not only hidden - docs/compliance.md). tests/integration/test_retention.py writes each kind.
KINDS = ("ALBUM", "MISSING", "SEARCH", "LOCK", "SWEEP", "INDEX", "DEMAND", "JOB")
CACHE_KINDS = ("ALBUM", "MISSING", "SEARCH", "LOCK")  # counted per tier in the statistics
DAY = 86_400


@dataclass(frozen=True)
class CleanupOptions:
    kinds: tuple[str, ...] = KINDS
    page_size: int = 100
    refresh_budget: int = 50
    refresh_window_seconds: int = DAY
    demand_days: int = 7
    extended: bool = False
    album_ttl_seconds: int = 30 * DAY
    popular_ttl_seconds: int = 10 * DAY
    reserve_seconds: float = 5.0
    refresh: bool = True
    stats: bool = True


@dataclass
class CleanupReport:
    status: str  # done | stopped
    reason: str | None
    deleted: int
    skipped_fresh: int  # the condition said the item was refreshed in the meantime
    refreshed: int
    refresh_calls: int
    stats: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Stop(Exception):
    pass


class CleanupService:
    def __init__(
        self,
        maintenance: Maintenance,
        checkpoints: CheckpointStore,
        *,
        catalog: PopulateCatalog | None = None,
        store: PopularStore | None = None,
        meter: CallMeter | None = None,
        demand: DemandReader | None = None,
        usage: UsageStore | None = None,
        telemetry: Telemetry | None = None,
        log: Callable[[str, dict[str, Any]], None] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._maint = maintenance
        self._checkpoints = checkpoints
        self._catalog = catalog
        self._store = store
        self._meter = meter
        self._demand = demand
        self._usage = usage
        self._telemetry = telemetry or NullTelemetry()
        self._log = log or (lambda message, extra: None)
        self._clock = clock

    def run(self, options: CleanupOptions, *, remaining: Callable[[], float] = lambda: math.inf) -> CleanupReport:
        started = time.monotonic()
        report = CleanupReport("done", None, 0, 0, 0, 0)
        state = self._checkpoints.load(JOB) or {}
        if state.get("status") != "running":
            state = {"status": "running", "kind": 0, "start": None}
        now = self._clock()
        try:
            self._reap(state, options, now, remaining, report)
            state = {"status": "done", "kind": 0, "start": None, "completed_at": self._clock()}
            self._checkpoints.save(JOB, state)
            if options.refresh and self._catalog is not None and self._store is not None:
                self._refresh_ahead(self._catalog, self._store, options, remaining, report)
        except _Stop as stop:
            report.status, report.reason = "stopped", str(stop)
        finally:
            if state.get("status") == "running":
                self._checkpoints.save(JOB, state)
        if options.stats:
            report.stats = self._stats(now)
        self._telemetry.count(m.CLEANUP_DELETED, report.deleted)
        self._telemetry.count(m.CLEANUP_REFRESHED, report.refreshed)
        report.seconds = round(time.monotonic() - started, 3)
        self._log("cleanup " + report.status, report.as_dict())
        return report

    # -- 1. reap

    def _reap(self, state, options, now, remaining, report) -> None:
        kinds = list(options.kinds)
        while state["kind"] < len(kinds):
            kind = kinds[state["kind"]]
            while True:
                if remaining() < options.reserve_seconds:
                    raise _Stop("deadline")
                items, next_start = self._maint.expired_page(kind, now, limit=options.page_size, start=state["start"])
                for item in items:
                    if remaining() < options.reserve_seconds:
                        raise _Stop("deadline")  # the page restarts at state["start"]; reaped items are gone
                    if self._maint.delete_if_expired(item["pk"], item["sk"], now):
                        report.deleted += 1
                    else:
                        report.skipped_fresh += 1
                state["start"] = next_start
                self._checkpoints.save(JOB, state)
                self._log(f"cleanup {kind}: {report.deleted} deleted", {"kind": kind, "page": len(items)})
                if not next_start:
                    break
            state["kind"] += 1
            state["start"] = None
            self._checkpoints.save(JOB, state)

    # -- 2. refresh-ahead

    def _refresh_ahead(
        self,
        catalog: PopulateCatalog,
        store: PopularStore,
        options: CleanupOptions,
        remaining: Callable[[], float],
        report: CleanupReport,
    ) -> None:
        now = self._clock()
        expiring = self._maint.expiring_albums(now, now + options.refresh_window_seconds)
        if not expiring:
            return
        heat: dict[str, int] = {}
        if self._demand is not None:
            try:
                heat = self._demand.top_demand(days_between(now - options.demand_days * DAY, now))
            except CacheUnavailable as exc:
                self._log("demand counters unreadable; no refresh-ahead", {"error": str(exc)})
        hot = [(heat.get(DEMAND_ALBUM + album_id, 0), album_id, tier) for album_id, tier, _ in expiring]
        hot = sorted((h for h in hot if h[0] > 0), key=lambda h: (-h[0], h[1]))
        if not hot:
            return
        chunk = 20 if options.extended else 1
        start_calls = self._meter.used if self._meter is not None else 0
        tiers = {album_id: tier for _, album_id, tier in hot}
        for i in range(0, len(hot), chunk):
            used = (self._meter.used if self._meter is not None else 0) - start_calls
            report.refresh_calls = used
            if used >= options.refresh_budget:
                break
            if remaining() < options.reserve_seconds:
                raise _Stop("deadline")
            ids = [album_id for _, album_id, _ in hot[i : i + chunk]]
            try:
                albums = catalog.get_albums(ids)
            except RateLimited as exc:
                self._log("refresh-ahead rate limited; stopping", {"retry_after": exc.retry_after})
                break
            except (NotFound, Unavailable, Forbidden) as exc:
                self._log("refresh-ahead fetch failed", {"ids": ids, "error": str(exc)})
                continue
            for album in albums:
                tier = tiers.get(album.id) or TIER_POPULAR
                ttl = options.popular_ttl_seconds if tier == TIER_POPULAR else options.album_ttl_seconds
                try:
                    store.put_popular(album, tier=tier, ttl_seconds=ttl, source="refresh")
                    report.refreshed += 1
                except CacheUnavailable as exc:
                    self._log("refresh-ahead write failed", {"error": str(exc)})
        report.refresh_calls = (self._meter.used if self._meter is not None else 0) - start_calls

    # -- 3. statistics

    def _stats(self, now: float) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        try:
            items: dict[str, int] = {}
            expired = 0
            for kind in CACHE_KINDS:
                counts = self._maint.count_items(kind, now)
                expired += counts.pop("expired", 0)
                partial = counts.pop("partial", 0)
                stats.setdefault("partial", False)
                stats["partial"] = stats["partial"] or bool(partial)
                for tier, n in counts.items():
                    items[tier] = items.get(tier, 0) + n
            stats["items"] = items
            stats["expired_unreaped"] = expired
            self._telemetry.count(m.CACHE_ITEMS, sum(items.values()))
            self._telemetry.count(m.CACHE_ITEMS_POPULAR, items.get("popular", 0))
            self._telemetry.count(m.CACHE_ITEMS_SEARCHED, items.get("searched", 0))
            self._telemetry.count(m.CACHE_EXPIRED_UNREAPED, expired)
        except CacheUnavailable as exc:
            self._log("cache statistics unavailable", {"error": str(exc)})
        if self._usage is not None:
            try:
                hours = last_hours(now, 24)
                day = summarize(self._usage.read_hourly(hours), hours)
                stats["last_day"] = {"cache": day["cache"], "spotify_calls": day["spotify_calls"]["total"]}
                if day["cache"]["hit_rate"] is not None:
                    self._telemetry.count(m.CACHE_HIT_RATE_PCT, round(100 * day["cache"]["hit_rate"], 2))
            except CacheUnavailable as exc:
                self._log("usage counters unavailable", {"error": str(exc)})
        return stats
