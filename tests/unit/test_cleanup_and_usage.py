"""CleanupService and usage accounting over fakes."""

from __future__ import annotations

import math

from musicboxd import metric_names as m
from musicboxd.services.call_counter import CallCounter
from musicboxd.services.cleanup import CleanupOptions, CleanupService
from musicboxd.services.memory_telemetry import CountingTelemetry
from musicboxd.services.usage import UsageRecorder, days_between, hour_key, last_hours, summarize
from tests.fakes import FakeClock, MemoryUsage
from tests.job_fakes import FakeSpotify, MemoryCheckpoints, MemoryDemand, MemoryStore, album_id

DAY = 86_400


class MemoryMaintenance:
    """The table as (pk, sk) -> {kind, tier, expires_at}."""

    def __init__(self, clock):
        self.clock = clock
        self.items: dict[tuple[str, str], dict] = {}
        self.deletes = 0
        self.refresh_between_query_and_delete: set[str] = set()

    def add(self, pk, kind, expires_at, tier=""):
        self.items[(pk, "A")] = {"kind": kind, "expires_at": expires_at, "tier": tier}

    def expired_page(self, kind, now, *, limit, start=None):
        rows = sorted(
            (v["expires_at"], k) for k, v in self.items.items() if v["kind"] == kind and v["expires_at"] < now
        )
        if start:
            rows = [r for r in rows if (r[0], r[1]) > (start["e"], tuple(start["k"]))]
        page = rows[:limit]
        nxt = {"e": page[-1][0], "k": list(page[-1][1])} if len(rows) > limit else None
        return [{"pk": k[0], "sk": k[1], "expires_at": e} for e, k in page], nxt

    def delete_if_expired(self, pk, sk, now):
        self.deletes += 1
        if pk in self.refresh_between_query_and_delete:
            self.items[(pk, sk)]["expires_at"] = now + DAY
        item = self.items.get((pk, sk))
        if item is None or item["expires_at"] >= now:
            return False
        del self.items[(pk, sk)]
        return True

    def expiring_albums(self, now, until, *, limit=1000):
        return [
            (k[0].removeprefix("ALBUM#"), v["tier"], v["expires_at"])
            for k, v in self.items.items()
            if v["kind"] == "ALBUM" and now <= v["expires_at"] <= until
        ][:limit]

    def count_items(self, kind, now, *, max_pages=50):
        counts = {"expired": 0, "partial": 0}
        for v in self.items.values():
            if v["kind"] != kind:
                continue
            if v["expires_at"] < now:
                counts["expired"] += 1
            else:
                tier = v["tier"] or kind.lower()
                counts[tier] = counts.get(tier, 0) + 1
        return counts


def make_cleanup(clock, maint, *, spotify=None, demand=None, usage=None, telemetry=None, checkpoints=None):
    spotify = spotify or FakeSpotify(extended=False)
    store = MemoryStore(clock)
    return CleanupService(
        maint,
        checkpoints or MemoryCheckpoints(),
        catalog=spotify,
        store=store,
        meter=spotify.counter,
        demand=demand or MemoryDemand(),
        usage=usage,
        telemetry=telemetry,
        clock=clock,
    ), store


def test_cleanup_deletes_only_expired_items_never_fresh_ones():
    clock = FakeClock()
    now = clock()
    maint = MemoryMaintenance(clock)
    for i in range(250):
        maint.add(f"ALBUM#{i}", "ALBUM", now - 10 - i, "searched")
    for i in range(30):
        maint.add(f"SEARCH#{i}", "SEARCH", now - 1)
    for i in range(40):
        maint.add(f"FRESH#{i}", "ALBUM", now + 100, "popular")
    maint.add("ALBUM#refreshed", "ALBUM", now - 5, "searched")
    maint.refresh_between_query_and_delete.add("ALBUM#refreshed")
    service, _ = make_cleanup(clock, maint)
    report = service.run(CleanupOptions(page_size=50))
    assert report.status == "done" and report.deleted == 280 and report.skipped_fresh == 1
    assert {k[0] for k in maint.items} == {f"FRESH#{i}" for i in range(40)} | {"ALBUM#refreshed"}
    assert report.stats["items"] == {"popular": 40, "searched": 1}
    assert report.stats["expired_unreaped"] == 0


def test_cleanup_stops_at_the_deadline_and_resumes_from_its_checkpoint():
    clock = FakeClock()
    maint = MemoryMaintenance(clock)
    for i in range(100):
        maint.add(f"ALBUM#{i}", "ALBUM", clock() - 100 + i, "searched")
    checkpoints = MemoryCheckpoints()
    service, _ = make_cleanup(clock, maint, checkpoints=checkpoints)
    report = service.run(CleanupOptions(page_size=10), remaining=lambda: 100.0 if maint.deletes < 35 else 1.0)
    assert report.status == "stopped" and report.reason == "deadline"
    assert checkpoints.states["cleanup"]["status"] == "running"
    assert 30 <= report.deleted <= 35
    report = service.run(CleanupOptions(page_size=10))
    assert report.status == "done" and maint.items == {}
    assert checkpoints.states["cleanup"]["status"] == "done"


def test_refresh_ahead_fetches_the_hottest_expiring_albums_within_budget():
    clock = FakeClock()
    maint = MemoryMaintenance(clock)
    for i in range(1, 11):
        maint.add(f"ALBUM#{album_id(i)}", "ALBUM", clock() + 3600, "popular" if i % 2 else "searched")
    maint.add(f"ALBUM#{album_id(50)}", "ALBUM", clock() + 5 * DAY, "searched")  # not expiring soon
    demand = MemoryDemand({"A#" + album_id(i): i for i in range(1, 11)} | {"A#" + album_id(50): 99})
    spotify = FakeSpotify(extended=False)
    spotify.counter = CallCounter(3)
    telemetry = CountingTelemetry()
    service, store = make_cleanup(clock, maint, spotify=spotify, demand=demand, telemetry=telemetry)
    report = service.run(CleanupOptions(refresh_budget=3))
    assert report.refreshed == 3 and report.refresh_calls == 3
    assert set(store.items) == {album_id(10), album_id(9), album_id(8)}
    assert store.items[album_id(9)]["tier"] == "popular"
    assert store.items[album_id(9)]["expires_at"] == clock() + 10 * DAY
    assert store.items[album_id(10)]["expires_at"] == clock() + 30 * DAY
    assert telemetry.counts[m.CLEANUP_REFRESHED] == 3


def test_cleanup_publishes_cache_statistics_and_last_day_hit_rate():
    clock = FakeClock()
    maint = MemoryMaintenance(clock)
    maint.add("ALBUM#a", "ALBUM", clock() + 10, "popular")
    maint.add("ALBUM#b", "ALBUM", clock() - 10, "searched")
    usage = MemoryUsage()
    usage.rows[hour_key(clock())] = {
        "cache:CacheHitPopular": 3,
        "cache:CacheHitSearched": 1,
        "cache:CacheMiss": 4,
        "call:search:200": 4,
    }
    telemetry = CountingTelemetry()
    service, _ = make_cleanup(clock, maint, usage=usage, telemetry=telemetry)
    report = service.run(CleanupOptions(refresh=False, kinds=()))
    assert report.stats["items"] == {"popular": 1}
    assert report.stats["expired_unreaped"] == 1
    assert report.stats["last_day"]["cache"]["hit_rate"] == 0.5
    assert telemetry.counts[m.CACHE_HIT_RATE_PCT] == 50.0
    assert telemetry.counts[m.CACHE_EXPIRED_UNREAPED] == 1


def test_usage_recorder_buffers_and_flushes_once_per_request():
    clock = FakeClock()
    usage = MemoryUsage()
    recorder = UsageRecorder(usage, clock=clock)
    recorder.observe("search", 200, 0.1)
    recorder.observe("search", 429, 0.3)
    recorder.observe("album", 200, 0.2)
    recorder.count(m.CACHE_MISS)
    recorder.count(m.SPOTIFY_CALLS)  # not a cache metric: not stored
    recorder.record_query("björk")
    assert usage.writes == 0
    recorder.flush()
    assert usage.writes == 2  # one hourly update, one demand update
    recorder.flush()
    assert usage.writes == 2  # nothing pending: no write
    row = usage.rows[hour_key(clock())]
    assert row["call:search:200"] == 1 and row["call:search:429"] == 1 and row["lat_ms:search"] == 400
    assert row["cache:CacheMiss"] == 1 and "cache:SpotifyCalls" not in row


def test_a_failing_counter_store_never_raises():
    usage = MemoryUsage()
    usage.fail = True
    errors = []
    recorder = UsageRecorder(usage, on_error=errors.append)
    recorder.record_album("x")
    recorder.flush()
    assert recorder.failures == 1 and len(errors) == 1
    broken = UsageRecorder(lambda: (_ for _ in ()).throw(RuntimeError("no table")))
    broken.count(m.CACHE_MISS)
    broken.flush()
    assert broken.failures == 1


def test_summarize_totals_latency_and_hit_rate():
    rows = {
        "2026-01-01T10": {
            "call:search:200": 3,
            "call:album:200": 1,
            "lat_ms:search": 300,
            "lat_ms:album": 100,
            "cache:CacheHitPopular": 2,
            "cache:CacheMiss": 2,
        },
        "2026-01-01T11": {
            "call:search:429": 1,
            "lat_ms:search": 50,
            "cache:CacheHitSearched": 4,
            "cache:CacheHitStale": 1,
            "cache:CacheMiss": 1,
        },
    }
    out = summarize(rows, ["2026-01-01T09", "2026-01-01T10", "2026-01-01T11"])
    assert out["hours"] == 3
    assert out["spotify_calls"] == {
        "total": 5,
        "by_endpoint": {"album": 1, "search": 4},
        "by_status": {"200": 4, "429": 1},
    }
    assert out["avg_upstream_latency_ms"] == 90.0
    assert out["cache"] == {"hits_popular": 2, "hits_searched": 4, "hits_stale": 1, "misses": 3, "hit_rate": 0.6667}
    assert [h["spotify_calls"] for h in out["hourly"]] == [0, 4, 1]
    assert out["hourly"][0]["avg_upstream_latency_ms"] is None


def test_time_keys():
    assert hour_key(0) == "1970-01-01T00"
    assert last_hours(7200, 3) == ["1970-01-01T00", "1970-01-01T01", "1970-01-01T02"]
    assert days_between(0, 3 * DAY) == ["1970-01-01", "1970-01-02", "1970-01-03", "1970-01-04"]
    assert len(days_between(0, 100 * DAY)) == 8
    assert math.isfinite(DAY)


def test_usage_recorder_writes_at_most_once_per_interval():
    clock = FakeClock()
    usage = MemoryUsage()
    recorder = UsageRecorder(usage, clock=clock, flush_interval=10)
    for _ in range(5):  # five requests within the interval: no counter write at all
        recorder.count(m.CACHE_MISS)
        recorder.maybe_flush()
        clock.advance(1)
    assert usage.writes == 0
    clock.advance(5)
    recorder.count(m.CACHE_MISS)
    recorder.maybe_flush()
    assert usage.writes == 1
    assert usage.rows[hour_key(clock())]["cache:CacheMiss"] == 6
