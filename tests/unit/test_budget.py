"""The shared budget + circuit logic over an in-memory store (no AWS)."""

from __future__ import annotations

import math

import pytest

from musicboxd.errors import CacheUnavailable, RateLimited
from musicboxd.ports import CIRCUIT_CLOSED, PROBE_BUSY, WINDOW_FULL, Grant
from musicboxd.services.budget import LocalWindow, SharedBudget
from tests.fakes import FakeClock


class MemoryBudgetStore:
    """Same semantics as DynamoBudgetStore, in memory: sliding sum of slices + circuit + probe lease."""

    def __init__(self, limit=10, background_fraction=0.5, window=30.0, slice_s=5.0):
        self.limit = limit
        self.background_limit = max(1, math.floor(limit * background_fraction))
        self.slice_s = slice_s
        self.span = math.ceil(window / slice_s) + 1
        self.calls: list[int] = []  # slice of each granted call
        self.closed_until: float | None = None
        self.probe_until: float | None = None
        self.takes = 0
        self.fail = False

    def take(self, *, now, interactive):
        self.takes += 1
        if self.fail:
            raise CacheUnavailable("down")
        k = int(now // self.slice_s)
        if self.closed_until is not None:
            if self.closed_until > now:
                return Grant(False, CIRCUIT_CLOSED, retry_at=self.closed_until)
            if self.probe_until is not None and self.probe_until > now:
                return Grant(False, PROBE_BUSY, retry_at=now + 1)
        used = sum(1 for s in self.calls if s > k - self.span)
        if used >= (self.limit if interactive else self.background_limit):
            return Grant(False, WINDOW_FULL, retry_at=(k + 1) * self.slice_s)
        self.calls.append(k)
        probe = self.closed_until is not None
        self.probe_until = now + 10
        return Grant(True, probe=probe)

    def close(self, *, until, quota, now):
        if self.fail:
            raise CacheUnavailable("down")
        if self.closed_until is None or self.closed_until < until:
            self.closed_until = until
            self.probe_until = None

    def reopen(self, *, now):
        if self.closed_until is not None and self.closed_until <= now:
            self.closed_until = self.probe_until = None


def budget(store, clock, **kw):
    kw.setdefault("local_limit", 2)
    kw.setdefault("window_seconds", 30)
    return SharedBudget(store, name="spotify", clock=clock, **kw)


def test_window_limit_and_background_share():
    clock = FakeClock(1_000_000.0)
    store = MemoryBudgetStore(limit=4)
    b = budget(store, clock)
    assert [b.acquire(interactive=False) for _ in range(3)] == [True, True, False]
    # background refusal does not block interactive traffic
    assert [b.acquire(interactive=True) for _ in range(3)] == [True, True, False]
    assert 1 <= b.retry_after() <= 5


def test_refusals_are_cached_in_process():
    clock = FakeClock(1_000_000.0)
    store = MemoryBudgetStore(limit=1)
    b = budget(store, clock)
    assert b.acquire()
    assert not b.acquire()
    takes = store.takes
    for _ in range(50):
        assert not b.acquire()
    assert store.takes == takes  # no round trip while the refusal is known
    clock.advance(1.0)
    assert not b.acquire() and store.takes == takes + 1


def test_window_slides():
    clock = FakeClock(1_000_000.0)
    store = MemoryBudgetStore(limit=2)
    b = budget(store, clock)
    assert b.acquire() and b.acquire() and not b.acquire()
    clock.advance(30)  # still inside the span of slices covering the last 30 s
    assert not b.acquire()
    clock.advance(6)
    assert b.acquire()


def test_429_closes_circuit_locally_and_in_store_without_sleeping():
    clock = FakeClock(1_000_000.0)
    store = MemoryBudgetStore()
    b = budget(store, clock)
    assert b.acquire()
    b.on_rate_limited(RateLimited(3600))
    assert store.closed_until == clock() + 3600
    takes = store.takes
    for _ in range(100):
        assert not b.acquire()
    assert store.takes == takes  # the in-process copy answers
    assert b.retry_after() == 3600
    other = budget(store, clock)  # another instance learns it from the store in one round trip
    assert not other.acquire() and not other.acquire()
    assert store.takes == takes + 1
    assert other.retry_after() == 3600


def test_quota_exceeded_closes_longer():
    clock = FakeClock(1_000_000.0)
    store = MemoryBudgetStore()
    b = budget(store, clock, quota_close_seconds=7200)
    b.on_rate_limited(RateLimited(60, quota=True))
    assert store.closed_until == clock() + 7200


def test_exactly_one_probe_after_the_circuit_expires_then_reopen():
    clock = FakeClock(1_000_000.0)
    store = MemoryBudgetStore(limit=100)
    instances = [budget(store, clock) for _ in range(5)]
    instances[0].on_rate_limited(RateLimited(30))
    clock.advance(31)
    granted = [i.acquire() for i in instances for _ in range(3)]
    assert granted.count(True) == 1
    prober = next(i for i in instances if i._probing)
    prober.observe(200)
    assert store.closed_until is None
    clock.advance(1.1)  # past the cached "probe busy" refusals
    assert all(i.acquire() for i in instances)


def test_probe_answered_429_closes_again():
    clock = FakeClock(1_000_000.0)
    store = MemoryBudgetStore(limit=100)
    a, b = budget(store, clock), budget(store, clock)
    a.on_rate_limited(RateLimited(10))
    clock.advance(11)
    assert a.acquire() and not b.acquire()
    a.observe(429)
    a.on_rate_limited(RateLimited(10))
    assert store.closed_until == clock() + 10
    clock.advance(1.1)
    assert not b.acquire() and not a.acquire()


def test_store_outage_fails_open_on_a_conservative_local_limiter():
    clock = FakeClock(1_000_000.0)
    store = MemoryBudgetStore(limit=100)
    store.fail = True
    b = budget(store, clock, local_limit=3, outage_backoff_seconds=5)
    assert [b.acquire() for _ in range(5)] == [True, True, True, False, False]
    assert store.takes == 1  # backing off: no DynamoDB timeout per call
    assert b.local_grants == 3
    b.on_rate_limited(RateLimited(100))  # the circuit still works in-process
    clock.advance(31)
    assert not b.acquire()
    clock.advance(100)
    store.fail = False
    assert b.acquire() and store.takes == 2


def test_while_the_store_is_down_background_calls_keep_to_their_fraction_of_the_local_window():
    clock = FakeClock(1_000_000.0)
    store = MemoryBudgetStore(limit=100)
    store.fail = True
    b = budget(store, clock, local_limit=4, background_fraction=0.5)
    assert [b.acquire(interactive=False) for _ in range(3)] == [True, True, False]  # jobs, deep paging
    assert [b.acquire(interactive=True) for _ in range(3)] == [True, True, False]  # the reserve is there


def test_local_window():
    w = LocalWindow(2, 10)
    assert w.take(0) and w.take(1) and not w.take(5)
    assert w.retry_at(5) == 10
    assert w.take(10.5)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_only_real_answers_reopen(status):
    clock = FakeClock(1_000_000.0)
    store = MemoryBudgetStore()
    b = budget(store, clock)
    b.on_rate_limited(RateLimited(5))
    clock.advance(6)
    assert b.acquire()
    b.observe(status)
    assert store.closed_until is not None


class Remaining:
    def __init__(self, seconds):
        self.seconds = seconds

    def remaining(self):
        return self.seconds


def test_background_jobs_wait_for_the_window_but_never_for_the_circuit_or_past_the_deadline():
    from musicboxd.services.budget import BackgroundBudget

    clock = FakeClock(1_000_000.0)
    store = MemoryBudgetStore(limit=4, background_fraction=0.5)
    shared = budget(store, clock, refusal_cache_seconds=0.0)
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock.advance(seconds)

    left = Remaining(600.0)
    job = BackgroundBudget(shared, deadline=lambda: left, clock=clock, sleep=sleep, max_wait_seconds=60)
    assert job.acquire() and job.acquire()
    assert job.acquire()  # waited until the background share of the window freed up
    assert 30 <= sum(slept) <= 41
    left.seconds = 20.0  # too close to the end of the invocation: refuse instead of sleeping
    slept.clear()
    assert job.acquire() and not job.acquire() and slept == []
    left.seconds = 600.0
    job.on_rate_limited(RateLimited(30))
    assert not job.acquire() and slept == []  # a closed circuit is never waited for
