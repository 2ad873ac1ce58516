"""Usage analytics and demand counters: accumulated per request, written once at the end.

Design: docs/design/usage-counters.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from musicboxd import metric_names as m
from musicboxd.ports import UsageStore

CACHE_METRICS = frozenset(
    {
        m.CACHE_HIT_POPULAR,
        m.CACHE_HIT_SEARCHED,
        m.CACHE_HIT_STALE,
        m.CACHE_MISS,
        m.FALLBACK_MUSICBRAINZ,
        m.FALLBACK_CACHE_ONLY,
    }
)
DEMAND_ALBUM = "A#"
DEMAND_QUERY = "Q#"


class NullDemand:
    def record_album(self, album_id: str, *, client: str | None = None) -> None:
        pass

    def record_query(self, normalized_query: str, *, client: str | None = None) -> None:
        pass


def hour_key(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H")


def day_key(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d")


def last_hours(now: float, hours: int) -> list[str]:
    """The ``hours`` hour keys ending with the current hour, oldest first."""
    return [hour_key(now - 3600 * i) for i in range(hours - 1, -1, -1)]


def days_between(since: float, now: float, *, max_days: int = 8) -> list[str]:
    """Day keys from ``since``'s day to today (at most ``max_days``, the most recent ones)."""
    start = dt.datetime.fromtimestamp(max(since, now - max_days * 86_400 + 1), dt.UTC).date()
    end = dt.datetime.fromtimestamp(now, dt.UTC).date()
    out = []
    while start <= end:
        out.append(start.isoformat())
        start += dt.timedelta(days=1)
    return out[-max_days:]


class UsageRecorder:
    """Telemetry + DemandRecorder + Spotify call observer that buffers until ``flush()``.

    Thread-safe: the local stack serves several functions from one process, so a flush
    may carry another thread's counts; totals stay exact.
    """

    def __init__(
        self,
        store: Callable[[], UsageStore] | UsageStore,
        *,
        clock: Callable[[], float] = time.time,
        on_error: Callable[[Exception], None] | None = None,
        flush_interval: float = 0.0,
        demand_per_client_per_day: int = 0,
    ):
        self._store = store
        self._clock = clock
        self._on_error = on_error
        self._flush_interval = flush_interval
        self._last_flush = clock()
        self._lock = threading.Lock()
        self._counters: defaultdict[str, float] = defaultdict(float)  # call counts and latency sums
        # demand keys per caller ("": none known), so each caller's share can be claimed at flush
        self._demand: defaultdict[str, Counter[str]] = defaultdict(Counter)
        # Per caller and day, across containers: a flood from one address cannot fill the demand
        # counters, and so populate's top queries. 0: no cap. The in-container count only spares
        # the claims of a caller this container already saw reach the cap.
        self._demand_cap = demand_per_client_per_day
        self._client_day = ""
        self._client_counts: Counter[str] = Counter()
        self.flushes = 0
        self.failures = 0
        self._flush_hooks: list[Callable[[], None]] = []

    def on_flush(self, hook: Callable[[], None]) -> None:
        """Also run ``hook`` at every flush (other per-request buffers: sampled tier-1 checks)."""
        self._flush_hooks.append(hook)

    # -- Telemetry port (cache outcomes only; the rest goes to Powertools)
    def count(self, name: str, value: float = 1) -> None:
        if name in CACHE_METRICS:
            with self._lock:
                self._counters[f"cache:{name}"] += value

    # -- SpotifyCatalog observe callback
    def observe(self, endpoint: str, status: int, seconds: float) -> None:
        with self._lock:
            self._counters[f"call:{endpoint}:{status}"] += 1
            self._counters[f"lat_ms:{endpoint}"] += round(seconds * 1000, 3)

    # -- the verify job (services/verification.py)
    def record_verification(self, by_shape: dict[str, list[int]], *, calls: int) -> None:
        """Checked and agreeing tier-1 answers per query shape, and the Spotify calls they cost."""
        with self._lock:
            for shape, (checked, agreed) in by_shape.items():
                self._counters[f"verify:{shape}:checked"] += checked
                self._counters[f"verify:{shape}:agreed"] += agreed
            self._counters["verify:calls"] += calls

    # -- DemandRecorder port
    def record_album(self, album_id: str, *, client: str | None = None) -> None:
        self._record(DEMAND_ALBUM + album_id, client)

    def record_query(self, normalized_query: str, *, client: str | None = None) -> None:
        self._record(DEMAND_QUERY + normalized_query, client)

    def _record(self, key: str, client: str | None) -> None:
        with self._lock:
            capped_client = client if client and self._demand_cap > 0 else ""
            if capped_client:
                today = day_key(self._clock())
                if today != self._client_day:
                    self._client_day, self._client_counts = today, Counter()
                if self._client_counts[capped_client] >= self._demand_cap:
                    return
                self._client_counts[capped_client] += 1
            self._demand[capped_client][key] += 1

    def pending(self) -> dict[str, float]:
        with self._lock:
            return dict(self._counters)

    def maybe_flush(self) -> None:
        """Flush when ``flush_interval`` seconds have passed since the last flush.

        After each request: most requests then cost no counter write at all (a cache hit stays
        one DynamoDB round trip); a container that dies loses at most one interval of counts.
        """
        if self._clock() - self._last_flush >= self._flush_interval:
            self.flush()

    def flush(self) -> None:
        """Write what accumulated (one hourly update, one demand update); never raises."""
        self._last_flush = self._clock()
        for hook in self._flush_hooks:
            try:
                hook()
            except Exception as exc:  # never fails a request
                self.failures += 1
                if self._on_error is not None:
                    with contextlib.suppress(Exception):
                        self._on_error(exc)
        with self._lock:
            counters, self._counters = self._counters, defaultdict(float)
            by_client, self._demand = self._demand, defaultdict(Counter)
        if not counters and not by_client:
            return
        now = self._clock()
        try:
            store = self._store() if callable(self._store) else self._store
            if counters:
                store.add_hourly(hour_key(now), dict(counters))
            demand = self._claimed(store, day_key(now), by_client)
            if demand:
                store.add_demand(day_key(now), dict(demand))
            self.flushes += 1
        except Exception as exc:  # counters must never fail a request
            self.failures += 1
            if self._on_error is not None:
                with contextlib.suppress(Exception):  # a broken logger must not fail the request either
                    self._on_error(exc)

    def _claimed(self, store: UsageStore, day: str, by_client: dict[str, Counter[str]]) -> Counter[str]:
        """The demand keys to write: a capped caller's only as far as its shared daily cap allows."""
        demand: Counter[str] = Counter()
        for client, keys in by_client.items():
            allowed = sum(keys.values())
            if client:  # one atomic ADD per caller and flush; the table answers how much fits
                allowed = store.claim_demand(day, client, allowed, cap=self._demand_cap)
            for key, hits in keys.items():
                taken = min(hits, allowed)
                if taken <= 0:
                    break
                demand[key] += taken
                allowed -= taken
        return demand


class FanoutTelemetry:
    """Telemetry port that forwards every count to several targets; a failing target is skipped."""

    def __init__(self, *targets: Any):
        self.targets = targets

    def count(self, name: str, value: float = 1) -> None:
        for target in self.targets:
            with contextlib.suppress(Exception):  # metrics never fail a request (e.g. no namespace set)
                target.count(name, value)


# ----------------------------------------------------------------------------- reading


def summarize(rows: dict[str, dict[str, float]], hours: Iterable[str]) -> dict[str, Any]:
    """The ``GET /stats`` body from hourly counter rows (missing hours count as zero)."""
    hours = list(hours)
    by_endpoint: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    cache: Counter[str] = Counter()
    latency_ms = 0.0
    verify: Counter[str] = Counter()
    hourly = []
    for hour in hours:
        row = rows.get(hour, {})
        calls = 0
        hour_latency = 0.0
        hour_cache: Counter[str] = Counter()
        for name, value in row.items():
            kind, _, rest = name.partition(":")
            if kind == "call":
                endpoint, _, status = rest.rpartition(":")
                by_endpoint[endpoint] += int(value)
                by_status[status] += int(value)
                calls += int(value)
            elif kind == "lat_ms":
                hour_latency += value
            elif kind == "cache":
                hour_cache[rest] += int(value)
            elif kind == "verify":
                verify[rest] += int(value)
        latency_ms += hour_latency
        cache.update(hour_cache)
        hourly.append(
            {
                "hour": hour,
                "spotify_calls": calls,
                "avg_upstream_latency_ms": round(hour_latency / calls, 2) if calls else None,
                **_cache_figures(hour_cache),
            }
        )
    total = sum(by_endpoint.values())
    return {
        "hours": len(hours),
        "from": hours[0] if hours else None,
        "to": hours[-1] if hours else None,
        "spotify_calls": {
            "total": total,
            "by_endpoint": dict(sorted(by_endpoint.items())),
            "by_status": dict(sorted(by_status.items())),
        },
        "avg_upstream_latency_ms": round(latency_ms / total, 2) if total else None,
        "cache": _cache_figures(cache),
        "tier1_verification": _verification_figures(verify),
        "hourly": hourly,
    }


def _verification_figures(verify: Counter[str]) -> dict[str, Any]:
    """Tier-1 answers checked against Spotify over the period: agreement overall and per query shape."""
    by_shape: dict[str, dict[str, Any]] = {}
    for name, value in verify.items():
        shape, _, what = name.rpartition(":")
        if shape and what in ("checked", "agreed"):
            by_shape.setdefault(shape, {"checked": 0, "agreed": 0})[what] += value
    for figures in by_shape.values():
        figures["agreement"] = round(figures["agreed"] / figures["checked"], 4) if figures["checked"] else None
    checked = sum(f["checked"] for f in by_shape.values())
    agreed = sum(f["agreed"] for f in by_shape.values())
    return {
        "checked": checked,
        "agreed": agreed,
        "agreement": round(agreed / checked, 4) if checked else None,
        "spotify_calls": int(verify.get("calls", 0)),
        "by_shape": dict(sorted(by_shape.items())),
    }


def _cache_figures(cache: Counter[str]) -> dict[str, Any]:
    popular = int(cache.get(m.CACHE_HIT_POPULAR, 0))
    searched = int(cache.get(m.CACHE_HIT_SEARCHED, 0))
    stale = int(cache.get(m.CACHE_HIT_STALE, 0))
    misses = int(cache.get(m.CACHE_MISS, 0))
    lookups = popular + searched + misses
    return {
        "hits_popular": popular,
        "hits_searched": searched,
        "hits_stale": stale,
        "misses": misses,
        "hit_rate": round((popular + searched) / lookups, 4) if lookups else None,
    }
