"""Finding 4 of issue 15 (demand): only answered requests count, and one caller's share of
the day's demand is capped."""

import pytest

from musicboxd.errors import Unavailable
from musicboxd.services.catalog import AlbumService, SearchService
from musicboxd.services.usage import UsageRecorder
from tests.fakes import FakeCatalog, FakeClock, MemoryCache, MemoryUsage, make_album


def demand_of(store: MemoryUsage) -> dict[str, int]:
    """Every day's demand counters summed."""
    totals: dict[str, int] = {}
    for day in store.demand.values():
        for key, hits in day.items():
            totals[key] = totals.get(key, 0) + hits
    return totals


def test_only_answered_requests_count_as_demand():
    clock, store = FakeClock(), MemoryUsage()
    usage = UsageRecorder(store, clock=clock)
    catalog = FakeCatalog([make_album()])
    search = SearchService(MemoryCache(clock), catalog, market="US", ttl_seconds=60, clock=clock, demand=usage)
    albums = AlbumService(
        MemoryCache(clock), catalog, ttl_seconds=60, negative_ttl_seconds=60, clock=clock, demand=usage
    )
    catalog.fail_with = Unavailable("down")
    with pytest.raises(Unavailable):
        search.search("never answered", limit=10, offset=0)
    with pytest.raises(Unavailable):
        albums.get(make_album().id)
    catalog.fail_with = None
    search.search("homogenic", limit=10, offset=0)
    usage.flush()
    assert demand_of(store) == {"Q#homogenic": 1}


def test_one_caller_adds_at_most_its_daily_cap_of_demand():
    clock, store = FakeClock(), MemoryUsage()
    usage = UsageRecorder(store, clock=clock, demand_per_client_per_day=3)
    for word in range(50):
        usage.record_query(f"attack {word}", client="127.0.0.2")
    usage.record_query("legit", client="127.0.0.1")
    usage.flush()
    assert sum(hits for key, hits in demand_of(store).items() if key.startswith("Q#attack")) == 3
    assert demand_of(store)["Q#legit"] == 1
    clock.advance(86_400)  # a new day
    usage.record_query("attack again", client="127.0.0.2")
    usage.flush()
    assert demand_of(store)["Q#attack again"] == 1
