"""PopulateService over fakes: sources, budget, checkpoint/resume, 429, modes, skip-fresh."""

from __future__ import annotations

import math
import time

import pytest

from musicboxd.ports import TIER_POPULAR
from musicboxd.services.call_counter import CallCounter
from musicboxd.services.populate import PopulateOptions, PopulateService
from tests.fakes import FakeClock, make_album
from tests.job_fakes import FakeSpotify, MemoryCheckpoints, MemoryDemand, MemoryStore, album_id

DAY = 86_400


class Rig:
    def __init__(self, *, extended: bool, **spotify):
        self.clock = FakeClock()
        self.spotify = FakeSpotify(extended=extended, **spotify)
        self.store = MemoryStore(self.clock)
        self.checkpoints = MemoryCheckpoints()
        self.demand = MemoryDemand()
        self.progress = []
        self.logs = []
        self.sweeps = None

    def options(self, **kw):
        base = dict(
            budget=1000,
            sources=("new_releases",),
            extended=self.spotify.extended,
            search_page=50 if self.spotify.extended else 10,
            max_per_source=200,
            popular_ttl_seconds=10 * DAY,
            fresh_margin_seconds=7 * DAY,
        )
        base.update(kw)
        return PopulateOptions(**base)

    def run(self, remaining=lambda: math.inf, **kw):
        options = self.options(**kw)
        self.spotify.counter = CallCounter(options.budget)
        service = PopulateService(
            self.spotify,
            self.store,
            self.checkpoints,
            self.spotify.counter,
            demand=self.demand,
            sweeps=self.sweeps,
            log=lambda message, extra: self.logs.append(message),
            clock=self.clock,
        )
        return service.run(options, remaining=remaining, progress=self.progress.append)


@pytest.mark.parametrize("extended", [False, True])
def test_caches_albums_from_every_source_and_records_the_source(extended):
    rig = Rig(extended=extended, new_releases=30, playlists={"P1": [100, 101, 5]}, search={"björk": [200, 201]})
    rig.demand.counts = {"A#" + album_id(300): 5, "Q#björk": 3, "A#" + album_id(301): 1}
    report = rig.run(sources=("demand", "new_releases", "playlists"), playlists=("P1",))
    assert report.status == "done"
    sources = {k: v["source"] for k, v in rig.store.items.items()}
    assert sources[album_id(300)] == "demand" and sources[album_id(200)] == "demand"
    assert sources[album_id(1)] == "new_releases" and sources[album_id(30)] == "new_releases"
    assert sources[album_id(100)] == "playlists"
    assert sources[album_id(5)] == "new_releases"  # first source wins
    assert all(v["tier"] == TIER_POPULAR for v in rig.store.items.values())
    assert all(v["expires_at"] == rig.clock() + 10 * DAY for v in rig.store.items.values())
    assert report.albums_cached == 2 + 2 + 30 + 2
    assert report.by_source == {"demand": 4, "new_releases": 30, "playlists": 2}
    assert report.calls == len(rig.spotify.calls)
    assert report.albums_per_call == round(report.albums_cached / report.calls, 3)
    assert rig.checkpoints.states["populate"]["status"] == "done"


def test_development_mode_one_album_per_call_extended_batches_twenty():
    dev = Rig(extended=False, new_releases=60)
    dev_report = dev.run()
    ext = Rig(extended=True, new_releases=60)
    ext_report = ext.run()
    assert dev_report.albums_cached == ext_report.albums_cached == 60
    # development: 6 search pages of 10 + 60 album calls; extended: 2 pages of 50 + 3 batches of 20
    assert [c[0] for c in dev.spotify.calls].count("album") == 60
    assert dev_report.calls == 6 + 60
    assert [c[0] for c in ext.spotify.calls].count("albums") == 3
    assert ext_report.calls == 2 + 2 + 3  # new-releases pages + tag:new pages + batches
    assert ext_report.albums_per_call > 8 > dev_report.albums_per_call


@pytest.mark.parametrize("extended", [False, True])
def test_budget_is_never_exceeded_and_the_run_resumes_without_refetching(extended):
    n = 300 if extended else 60
    rig = Rig(extended=extended, new_releases=n, big={7: 180, 150: 120})  # more track pages
    budget = 12 if extended else 25
    first = rig.run(budget=budget, max_per_source=n)
    assert first.status == "stopped" and first.reason == "budget"
    assert first.calls <= budget and len(rig.spotify.calls) <= budget
    cached_first = set(rig.store.items)
    state = rig.checkpoints.states["populate"]
    assert state["status"] == "stopped" and state["next"] == len(cached_first)
    rig.spotify.calls.clear()
    second = rig.run(budget=1000, max_per_source=n)
    assert second.status == "done" and second.resumed
    refetched = set(rig.spotify.fetched()) & cached_first
    assert refetched == set()
    assert set(rig.store.items) == {album_id(i) for i in range(1, n + 1)}
    assert second.run_albums_cached == n


def test_tiny_budget_stops_before_any_fetch():
    rig = Rig(extended=False, new_releases=60)
    report = rig.run(budget=1)
    assert report.reason == "budget" and report.calls == 1 and rig.store.items == {}


@pytest.mark.parametrize("extended", [False, True])
def test_429_mid_run_stops_cleanly_with_checkpoint_and_not_before(extended):
    n = 300 if extended else 60
    rig = Rig(extended=extended, new_releases=n)
    rig.spotify.fail_after = 10
    report = rig.run(max_per_source=n)
    assert report.status == "stopped" and report.reason == "rate_limited"
    assert len(rig.spotify.calls) == 11  # exactly one 429 answered, then no more calls
    state = rig.checkpoints.states["populate"]
    assert state["not_before"] == rig.clock() + 3600
    cached = set(rig.store.items)
    assert state["next"] >= len(cached) > 0
    # a run before Retry-After has passed makes no call at all
    rig.spotify.calls.clear()
    deferred = rig.run(max_per_source=n)
    assert deferred.status == "deferred" and rig.spotify.calls == []
    # after it, the run resumes and refetches nothing already cached
    rig.clock.advance(3601)
    rig.spotify.fail_after = None
    resumed = rig.run(max_per_source=n)
    assert resumed.status == "done" and resumed.resumed
    assert not set(rig.spotify.fetched()) & cached
    assert len(rig.store.items) == n


def test_deadline_stops_the_run_and_the_next_one_resumes():
    rig = Rig(extended=False, new_releases=60)
    # the Lambda "runs out of time" once 30 calls were made
    report = rig.run(remaining=lambda: 100.0 if len(rig.spotify.calls) < 30 else 1.0, reserve_seconds=5)
    assert report.status == "stopped" and report.reason == "deadline"
    done = set(rig.store.items)
    assert 0 < len(done) < 60 and len(rig.spotify.calls) <= 6 + 20 + 20
    rig.spotify.calls.clear()
    second = rig.run()
    assert second.status == "done" and not set(rig.spotify.fetched()) & done


def test_skips_albums_still_fresh_and_refreshes_those_expiring_before_next_run():
    rig = Rig(extended=False, new_releases=10)
    rig.store.put_popular(make_album(album_id(1)), tier="searched", ttl_seconds=30 * DAY, source="user")
    rig.store.put_popular(make_album(album_id(2)), tier=TIER_POPULAR, ttl_seconds=2 * DAY, source="old")
    report = rig.run()
    fetched = rig.spotify.fetched()
    assert album_id(1) not in fetched and album_id(2) in fetched
    assert report.skipped_fresh == 1 and report.albums_cached == 9
    assert rig.store.items[album_id(1)]["tier"] == "searched"


def test_a_new_run_after_a_finished_one_skips_everything_fresh():
    rig = Rig(extended=True, new_releases=40)
    rig.run()
    rig.clock.advance(DAY)
    rig.spotify.calls.clear()
    report = rig.run()
    assert report.status == "done" and not report.resumed
    assert rig.spotify.fetched() == [] and report.skipped_fresh == 40
    assert report.calls == 2  # only the candidate pages


def test_missing_albums_are_negative_cached_and_unknown_playlists_skipped():
    rig = Rig(extended=False, new_releases=3, playlists={"P1": [9]})
    rig.spotify.missing = {album_id(2)}
    report = rig.run(sources=("new_releases", "playlists"), playlists=("NOPE", "P1"))
    assert report.status == "done" and report.missing == 1
    assert rig.store.items[album_id(2)]["source"] is None
    assert rig.store.items[album_id(9)]["source"] == "playlists"


def test_progress_is_reported_per_batch():
    rig = Rig(extended=False, new_releases=45)
    rig.run()
    fetch = [p for p in rig.progress if p.phase == "fetch"]
    assert [p.done for p in fetch] == [20, 40, 45]
    assert all(p.total == 45 for p in fetch)
    assert any("populate fetch: 45/45" in line for line in rig.logs)


def test_demand_reads_days_since_the_last_completed_run():
    rig = Rig(extended=False, new_releases=0)
    rig.run(sources=("demand",))
    rig.clock.advance(3 * DAY)
    rig.run(sources=("demand",))
    assert len(rig.demand.asked[-1]) == 4  # the day of the last run .. today


def test_max_per_source_caps_candidates():
    rig = Rig(extended=True, new_releases=300)
    report = rig.run(max_per_source=120)
    assert report.candidates == 120 and report.albums_cached == 120


def sweep_rig(**spotify):
    from tests.unit.test_tier1 import MemorySweepStore

    year = time.gmtime(FakeClock()()).tm_year
    older = list(range(5000, 5025)) + list(range(6000, 6010))  # 25 albums of year-1, 10 of year-2
    search = {
        f"year:{year - 2}-{year}": list(range(1, 31)),
        f"year:{year}": list(range(1, 1101)),
        f"year:{year} tag:hipster": list(range(2000, 2040)),
        f"year:{year - 1}": older[:25],
        f"year:{year - 2}": older[25:],
        f"year:{year - 2}-{year - 1}": sorted(older, key=lambda n: n % 7),
    }
    rig = Rig(extended=True, new_releases=0, search=search, **spotify)
    rig.sweeps = MemorySweepStore()
    return rig, year


def test_sweep_reads_spotifys_order_list_by_list_within_the_offset_cap():
    rig, year = sweep_rig()
    report = rig.run(sources=(), sweep_from_year=year - 2)
    assert report.status == "done"
    lists = {}
    for page in rig.sweeps.stored:
        lists.setdefault(page.list_id, []).append((page.offset, len(page.items), page.total))
    assert lists[f"y{year - 2}-{year}"] == [(0, 30, 30)]  # the most popular overall
    # one probe page per year (its total), then the big year continued up to offset 1000 of 1,100
    assert [o for o, _, _ in lists[f"y{year}"]] == list(range(0, 1001, 50))
    assert lists[f"h{year}"] == [(0, 40, 40)]  # ... and its least popular albums
    assert lists[f"y{year - 1}"] == [(0, 25, 25)] and lists[f"y{year - 2}"] == [(0, 10, 10)]
    assert lists[f"y{year - 2}-{year - 1}"] == [(0, 35, 35)]  # the small years as one range: exact order
    assert f"h{year - 1}" not in lists
    assert report.calls == 1 + 3 + 20 + 1 + 1 and report.sweep_pages == 26
    assert report.sweep_albums == 30 + 1050 + 40 + 25 + 10 + 35 and report.albums_cached == 0  # no detail calls


def test_a_sweep_cut_by_the_budget_resumes_at_the_next_page():
    rig, year = sweep_rig()
    first = rig.run(sources=(), sweep_from_year=year - 2, budget=10)
    assert first.status == "stopped" and first.reason == "budget" and first.calls == 10
    second = rig.run(sources=(), sweep_from_year=year - 2, budget=100, resume_only=True)
    assert second.status == "done" and second.resumed and second.calls == 16
    searched = [c[1:] for c in rig.spotify.calls if c[0] == "search"]
    assert len(searched) == len(set(searched)) == 26  # no page read twice
    assert rig.run(sources=(), resume_only=True).status == "idle"  # nothing left: the hourly run does nothing
    assert len(rig.spotify.calls) == 26


def test_a_year_of_millions_is_read_at_its_top_only():
    rig, year = sweep_rig()
    rig.spotify.search[f"year:{year}"] = list(range(1, 100_001))  # far more than 4x what a search pages
    report = rig.run(sources=(), sweep_from_year=year - 2)
    assert report.status == "done" and not any(p.list_id == f"h{year}" for p in rig.sweeps.stored)
    assert report.calls == 1 + 3 + 20 + 1


def test_no_sweep_without_a_store_or_when_disabled():
    rig, year = sweep_rig()
    rig.run(sources=(), sweep=False)
    rig.sweeps = None
    rig.run(sources=(), restart=True)
    assert rig.spotify.calls == []
