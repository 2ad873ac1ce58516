"""The DynamoDB budget/circuit item against a real (moto) server over HTTP."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from musicboxd.adapters.aws import DeadlineClient
from musicboxd.adapters.rate_budget import DynamoBudgetStore, dynamodb_client
from musicboxd.errors import CacheUnavailable, RateLimited
from musicboxd.ports import CIRCUIT_CLOSED, PROBE_BUSY, WINDOW_FULL
from musicboxd.services.budget import SharedBudget
from tests.fakes import FakeClock
from tools.localstack.moto_fidelity import serialize_dynamodb_writes

NOW = 1_800_000_000.0


@pytest.fixture
def make_store(table_settings):
    serialize_dynamodb_writes()  # moto (in-process) made atomic per write, like DynamoDB
    # The production client times out after 1 s and retries; a busy box makes moto slower than
    # that, and an UpdateItem applied but timed out counts a call nobody was granted. Counting
    # is what these tests check, so their client waits (timeouts have their own test below).
    client = DeadlineClient(
        "dynamodb",
        table_settings.aws_region,
        table_settings.dynamodb_endpoint_url,
        remaining=lambda: float("inf"),
        connect_timeout=5,
        read_timeout=30,
        max_attempts=1,
        max_pool_connections=20,
    )

    def make(**kw):
        kw.setdefault("name", "spotify")
        kw.setdefault("limit", 10)
        kw.setdefault("window_seconds", 30)
        kw.setdefault("slice_seconds", 5)
        return DynamoBudgetStore(client, table_settings.table_name, **kw)

    return make


def test_concurrent_instances_never_exceed_the_limit(make_store):
    stores = [make_store() for _ in range(4)]  # four "instances", one item
    with ThreadPoolExecutor(16) as pool:
        grants = list(pool.map(lambda i: stores[i % 4].take(now=NOW, interactive=True), range(40)))
    granted = sum(g.granted for g in grants)
    assert granted == 10  # never more than the limit, and no call refused below it
    assert int(stores[0].read()["n"]["N"]) == granted
    assert {g.reason for g in grants if not g.granted} == {WINDOW_FULL}


def test_background_share_and_sliding_span(make_store):
    store = make_store(limit=6, background_fraction=0.5)
    assert [store.take(now=NOW, interactive=False).granted for _ in range(4)] == [True] * 3 + [False]
    assert [store.take(now=NOW + 5, interactive=True).granted for _ in range(4)] == [True] * 3 + [False]
    # 30 s later the first slice is still in the span (it covers any 30 s rolling window)
    assert not store.take(now=NOW + 30, interactive=True).granted
    # once it leaves the span only the 3 calls of NOW+5 count
    assert [store.take(now=NOW + 35, interactive=True).granted for _ in range(4)] == [True] * 3 + [False]
    # background calls stop at half of the limit, whoever used it
    assert not store.take(now=NOW + 35, interactive=False).granted
    # stale slice attributes are cleaned up by later updates
    store.take(now=NOW + 200, interactive=True)
    store.take(now=NOW + 200, interactive=True)
    slices = [k for k in store.read() if k[0] in "ig" and k[1:].isdigit()]
    assert len(slices) == 2


def test_circuit_is_shared_and_exactly_one_instance_probes(make_store):
    stores = [make_store(limit=1000) for _ in range(5)]
    assert stores[0].take(now=NOW, interactive=True).granted
    stores[0].close(until=NOW + 60, quota=False, now=NOW)
    stores[1].close(until=NOW + 10, quota=False, now=NOW)  # never shortens a closure
    refused = stores[2].take(now=NOW + 1, interactive=True)
    assert (refused.granted, refused.reason, refused.retry_at) == (False, CIRCUIT_CLOSED, NOW + 60)
    with ThreadPoolExecutor(10) as pool:
        grants = list(pool.map(lambda i: stores[i % 5].take(now=NOW + 61, interactive=True), range(30)))
    winners = [g for g in grants if g.granted]
    assert len(winners) == 1 and winners[0].probe
    assert {g.reason for g in grants if not g.granted} == {PROBE_BUSY}
    stores[0].reopen(now=NOW + 62)
    after = stores[3].take(now=NOW + 62, interactive=True)
    assert after.granted and not after.probe


def test_shared_budget_over_dynamodb_one_round_trip_per_call(make_store):
    clock = FakeClock(NOW)
    b = SharedBudget(make_store(limit=3), name="spotify", local_limit=1, window_seconds=30, clock=clock)
    assert [b.acquire() for _ in range(5)] == [True, True, True, False, False]
    assert b.store_calls == 4  # the second refusal was answered in-process
    b.on_rate_limited(RateLimited(3600, quota=True))
    other = SharedBudget(make_store(limit=3), name="spotify", local_limit=1, window_seconds=30, clock=clock)
    clock.advance(40)
    assert not other.acquire()
    assert other.retry_after() >= 3600 - 40


def test_dead_endpoint_fails_fast_and_budget_fails_open():
    client = dynamodb_client("us-east-1", "http://127.0.0.1:9")  # nothing listens on the discard port
    store = DynamoBudgetStore(client, "nope", name="spotify", limit=10, window_seconds=30, slice_seconds=5)
    started = time.perf_counter()
    with pytest.raises(CacheUnavailable):
        store.take(now=NOW, interactive=True)
    assert time.perf_counter() - started < 3
    b = SharedBudget(store, name="spotify", local_limit=2, window_seconds=30)
    assert [b.acquire() for _ in range(3)] == [True, True, False]
