"""Issue 15 against moto: long key parts are hashed, rejected calls are CacheRejected (finding 1),
unreadable items are misses (3), thin pages stay out of the index (7), demand is capped per client across containers (4)."""

import zlib

import pytest

from musicboxd.adapters.dynamo import MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES, DynamoCache, bounded_key, make_model
from musicboxd.adapters.index_store import DynamoSearchedPages
from musicboxd.adapters.job_stores import HOT_DEMAND_HITS, DynamoUsage
from musicboxd.errors import CacheRejected
from musicboxd.models import SearchPage
from musicboxd.services.catalog import search_key
from musicboxd.services.usage import UsageRecorder, day_key
from tests.fakes import FakeClock, make_album


def test_bounded_key_keeps_short_keys_and_hashes_long_ones_distinctly():
    assert bounded_key("SEARCH#US#love", 2048) == "SEARCH#US#love"
    first, second = bounded_key("坂" * 1000 + "a", 1024), bounded_key("坂" * 1000 + "b", 1024)
    assert first != second
    assert all(len(key.encode()) <= 1024 for key in (first, second))
    assert first.startswith("坂")


def test_long_search_keys_round_trip(table_settings):
    cache = DynamoCache(make_model(table_settings), clock=FakeClock())
    page = SearchPage(items=[make_album().summary()], total=1)
    key = search_key("US", "ﷺ" * 3600, offset=0, limit=10)  # 10,800 bytes
    cache.put_search(key, page, ttl_seconds=60)
    assert cache.get_search(key).page == page


def test_long_demand_sort_keys_are_written(table_settings):
    usage = DynamoUsage(make_model(table_settings), ttl_seconds=60, clock=FakeClock())
    usage.add_demand("2026-01-01", {"Q#" + "坂" * 1000: 1})  # 3,002 bytes
    totals = usage.top_demand(["2026-01-01"])
    assert [len(key.encode()) <= MAX_SORT_KEY_BYTES for key in totals] == [True]


def test_a_request_dynamodb_rejects_is_cache_rejected(table_settings):
    model = make_model(table_settings)
    cache = DynamoCache(model, clock=FakeClock())
    oversized = model("x" * (MAX_PARTITION_KEY_BYTES + 1), "A", kind="SEARCH")
    with pytest.raises(CacheRejected, match="ValidationException"):
        cache._put(oversized)


def test_an_undecodable_cached_item_is_a_miss(table_settings):
    model = make_model(table_settings)
    cache = DynamoCache(model, clock=FakeClock())
    key = search_key("US", "corrupt", offset=0, limit=10)
    model("SEARCH#US#corrupt", "0:10", kind="SEARCH", expires_at=2_000_000_000, data=b"not zlib").save()
    model("ALBUM#" + "C" * 22, "A", kind="ALBUM", expires_at=2_000_000_000, data=zlib.compress(b'{"id": 1}')).save()
    assert cache.get_search(key) is None
    assert cache.get_album("C" * 22) is None


def test_provisional_pages_stay_out_of_the_tier1_index(table_settings):
    clock = FakeClock()
    model = make_model(table_settings)
    cache = DynamoCache(model, clock=clock)
    page = SearchPage(items=[make_album().summary()], total=1)
    cache.put_search(search_key("US", "kept", offset=0, limit=10), page, ttl_seconds=600)
    cache.put_search(search_key("US", "thin", offset=0, limit=10), page, ttl_seconds=600, provisional=True)
    queries = [query for query, _ in DynamoSearchedPages(model, clock=clock).searched_pages()]
    assert "kept" in queries and "thin" not in queries


def test_per_client_share_items_expire(table_settings):
    from musicboxd.adapters.rate_budget import DynamoBudgetStore, dynamodb_client

    client = dynamodb_client(table_settings.aws_region, table_settings.dynamodb_endpoint_url)
    store = DynamoBudgetStore(
        client, table_settings.table_name, name="spotify#client#127.0.0.2", limit=3,
        window_seconds=30, slice_seconds=5, ttl_seconds=120,
    )  # fmt: skip
    now = 1_800_000_000.0
    assert [store.take(now=now, interactive=True).granted for _ in range(4)] == [True, True, True, False]
    assert float(store.read()["expires_at"]["N"]) == now + 120


def test_top_demand_is_a_real_top_k_per_kind(table_settings):
    usage = DynamoUsage(make_model(table_settings), ttl_seconds=600, clock=FakeClock())
    noise = {f"A#{i:022d}": 1 for i in range(40)}  # sorts before every query
    usage.add_demand("2026-02-01", {**noise, "A#" + "z" * 22: 9, "Q#love": 7, "Q#rare": 1})
    usage.add_demand("2026-02-02", {"Q#love": 5})
    top = usage.top_demand(["2026-02-01", "2026-02-02"], max_items=40, top=2)
    assert top["Q#love"] == 12 and top["A#" + "z" * 22] == 9
    assert sum(key.startswith("Q#") for key in top) == 2 and sum(key.startswith("A#") for key in top) == 2


def test_deep_paging_is_refused_at_the_jobs_threshold_of_the_app_wide_budget(table_settings):
    from dataclasses import replace

    from musicboxd import deadline
    from musicboxd.errors import RateLimited
    from musicboxd.wiring import AppContainer

    deadline.begin(30.0)  # a request's time, as a handler starts it (not one an earlier test left in this thread)
    container = AppContainer(replace(table_settings, rate_limit_per_window=4, background_rate_fraction=0.5))
    assert [container.spotify_budget.acquire(interactive=False) for _ in range(3)] == [True, True, False]
    with pytest.raises(RateLimited, match="budget"):  # refused before any HTTP call: the jobs' threshold
        container.spotify_deep_paging.search_albums("deep", limit=10, offset=10)
    assert container.spotify_budget.acquire(interactive=True)  # the reserve: first pages and album views


def test_top_demand_finds_keys_asked_often_past_its_read_share(table_settings):
    """A day with more counters than its read share (a flood of one-off queries sorting first):
    the share bounds the read, yet every key asked HOT_DEMAND_HITS times that day is still ranked."""
    clock = FakeClock()
    usage = DynamoUsage(make_model(table_settings), ttl_seconds=600, clock=clock)
    usage.add_demand("2026-02-01", {f"Q#aaa flood {i:03d}": 1 for i in range(60)})
    for _ in range(HOT_DEMAND_HITS):  # asked once per flush, from different containers
        usage.add_demand("2026-02-01", {"Q#zzz real favourite": 1, "A#" + "z" * 22: 1})
    top = usage.top_demand(["2026-02-01"], max_items=40, top=3)  # 20 counters read per kind
    assert top["Q#zzz real favourite"] == HOT_DEMAND_HITS and top["A#" + "z" * 22] == HOT_DEMAND_HITS
    assert len([key for key in top if key.startswith("Q#")]) == 3


def test_one_clients_demand_is_capped_across_containers(table_settings):
    """Finding 4: a flood from one address spread over several containers (each with its own
    recorder and adapter, one table) adds at most the daily cap; another caller still counts."""
    clock = FakeClock()
    containers = [
        UsageRecorder(
            DynamoUsage(make_model(table_settings), ttl_seconds=600, clock=clock),
            clock=clock,
            demand_per_client_per_day=5,
        )
        for _ in range(4)
    ]
    for word in range(12):  # each container flushes a few of the attacker's queries, in turn
        for number, usage in enumerate(containers):
            usage.record_query(f"flood {number} {word}", client="127.0.0.2")
            usage.flush()
    containers[0].record_query("legit", client="127.0.0.1")
    containers[0].flush()
    reader = DynamoUsage(make_model(table_settings), ttl_seconds=600, clock=clock)
    counted = reader.top_demand([day_key(clock())], top=100)
    assert sum(hits for key, hits in counted.items() if key.startswith("Q#flood")) == 5
    assert counted["Q#legit"] == 1
    assert all(usage.failures == 0 for usage in containers)
