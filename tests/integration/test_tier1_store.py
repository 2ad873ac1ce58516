"""Tier-1 index through a real (moto) DynamoDB: popular-tier reader, chunked store, holder."""

import pytest

from musicboxd.adapters.dynamo import DynamoCache, make_model
from musicboxd.adapters.index_store import DynamoIndexStore, DynamoPopularAlbums
from musicboxd.ports import TIER_POPULAR, TIER_SEARCHED
from musicboxd.services.tier1 import Tier1Holder, rebuild_index
from tests.fakes import FakeClock, make_album

INDEX_TTL = 7 * 86_400


@pytest.fixture
def world(table_settings):
    clock = FakeClock()
    model = make_model(table_settings)
    cache = DynamoCache(model, clock=clock)
    store = DynamoIndexStore(model, clock=clock, chunk_bytes=200, ttl_seconds=INDEX_TTL)  # tiny chunks
    return clock, model, cache, store, DynamoPopularAlbums(model, clock=clock)


def test_build_load_round_trip_only_popular_and_fresh(world):
    clock, model, cache, store, source = world
    names = ["Homogenic", "Кино — Группа крови", "坂本龍一 async", "Ágætis byrjun"]
    for n, name in enumerate(names):
        cache.put_album(make_album(f"{n:022d}", name=name), tier=TIER_POPULAR, ttl_seconds=1000)
    cache.put_album(make_album("S" * 22, name="Searched Only"), tier=TIER_SEARCHED, ttl_seconds=1000)
    cache.put_album(make_album("E" * 22, name="Expired Popular"), tier=TIER_POPULAR, ttl_seconds=1)
    clock.advance(5)

    pointer = rebuild_index(source, store, clock=clock)
    assert pointer.albums == 4 and pointer.chunks > 1
    assert store.current() == pointer

    holder = Tier1Holder(store, recheck_seconds=300, clock=clock)
    index = holder.index()
    assert index.version == pointer.version and len(index) == 4
    assert sorted(index.cols["name"]) == sorted(names)
    assert [s.name for s in holder.suggest("agae", limit=3)] == ["Ágætis byrjun"]
    assert holder.suggest("searched", limit=3) == [] and holder.suggest("expired", limit=3) == []


def test_new_version_replaces_the_pointer_and_old_chunks_expire(world):
    clock, model, cache, store, source = world
    cache.put_album(make_album(), tier=TIER_POPULAR, ttl_seconds=10_000)
    first = rebuild_index(source, store, clock=clock)
    holder = Tier1Holder(store, recheck_seconds=300, clock=clock)
    assert holder.version == first.version or holder.index().version == first.version

    cache.put_album(make_album("V" * 22, name="Vespertine"), tier=TIER_POPULAR, ttl_seconds=10_000)
    clock.advance(60)
    second = rebuild_index(source, store, clock=clock)
    assert second.version != first.version
    old = list(model.query(f"INDEX#{first.version}"))
    assert old and all(item.expires_at == int(clock()) + 86_400 for item in old)
    live = list(model.query(f"INDEX#{second.version}")) + [model.get("INDEX#current", "P")]
    assert all(item.expires_at == int(clock()) + INDEX_TTL for item in live)  # renewed by every build

    assert holder.suggest("vesp", limit=5) == []  # still the first version
    clock.advance(300)
    assert [s.name for s in holder.suggest("vesp", limit=5)] == ["Vespertine"]
    assert holder.version == second.version


def test_corrupt_artifact_is_refused_and_the_old_index_kept(world):
    clock, model, cache, store, source = world
    cache.put_album(make_album(), tier=TIER_POPULAR, ttl_seconds=10_000)
    rebuild_index(source, store, clock=clock)
    holder = Tier1Holder(store, recheck_seconds=1, clock=clock)
    good = holder.index()
    clock.advance(10)
    pointer = rebuild_index(source, store, clock=clock)
    model(f"INDEX#{pointer.version}", "C#0000", kind="INDEX", data=b"garbage").save()
    clock.advance(10)
    assert holder.index() is good


def test_sweep_pages_round_trip_and_expire(world):
    from musicboxd.adapters.index_store import DynamoSweepStore
    from musicboxd.ports import SweepPage

    clock, model, *_ = world
    sweeps = DynamoSweepStore(model, clock=clock)
    albums = tuple(make_album(f"{n:022d}", name=f"Album {n}").summary() for n in range(3))
    sweeps.put_page(SweepPage("y1997", 0, 1200, albums[:2]), ttl_seconds=100)
    sweeps.put_page(SweepPage("y1997", 2, 1200, albums[2:]), ttl_seconds=100)
    sweeps.put_page(SweepPage("all", 0, 5, albums[:1]), ttl_seconds=10)
    sweeps.put_page(SweepPage("y1997", 0, 1201, albums[:2]), ttl_seconds=100)  # a later sweep overwrites
    clock.advance(50)
    got = sorted(sweeps.pages(), key=lambda p: (p.list_id, p.offset))
    assert [(p.list_id, p.offset, p.total, [a.name for a in p.items]) for p in got] == [
        ("y1997", 0, 1201, ["Album 0", "Album 1"]),
        ("y1997", 2, 1200, ["Album 2"]),
    ]  # the global list's page expired
    assert got[0].items[0] == albums[0]


def test_searched_pages_are_the_fresh_first_pages_of_cached_searches(world):
    from musicboxd.adapters.index_store import DynamoSearchedPages
    from musicboxd.models import SearchPage
    from musicboxd.services.catalog import search_key

    clock, model, cache, *_ = world
    page = SearchPage(items=[make_album().summary()], total=1)
    cache.put_search(search_key("US", "homogenic", offset=0, limit=10), page, ttl_seconds=100)
    cache.put_search(search_key("US", "homogenic", offset=10, limit=10), page, ttl_seconds=100)  # not a first page
    cache.put_search(search_key("US", "old news", offset=0, limit=5), page, ttl_seconds=1)
    clock.advance(10)
    got = list(DynamoSearchedPages(model, clock=clock).searched_pages())
    assert got == [("homogenic", page)]
    assert list(DynamoSearchedPages(model, clock=clock, max_pages=0).searched_pages()) == []


def test_an_index_no_build_renews_expires(world):
    """Nothing is kept indefinitely: the live index too stops answering once expired (docs/compliance.md)."""
    clock, model, cache, store, source = world
    cache.put_album(make_album(), tier=TIER_POPULAR, ttl_seconds=10 * INDEX_TTL)
    rebuild_index(source, store, clock=clock)
    assert store.current() is not None
    clock.advance(INDEX_TTL)
    assert store.current() is None
    assert Tier1Holder(store, clock=clock).suggest("homo", limit=5) == []
