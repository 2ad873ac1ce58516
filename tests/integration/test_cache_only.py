"""Cache-only search over the real table's GSI (moto server)."""

from musicboxd.adapters.dynamo import DynamoCache, make_model
from musicboxd.models import SearchPage
from musicboxd.services.catalog import search_key
from musicboxd.services.fallbacks import CacheOnlySearch
from tests.fakes import FakeClock, make_album


def test_scan_albums_via_gsi_includes_stale_and_skips_other_kinds(table_settings):
    clock = FakeClock()
    cache = DynamoCache(make_model(table_settings), clock=clock)
    cache.put_album(make_album("A" * 22, name="Homogenic"), tier="searched", ttl_seconds=10)
    cache.put_album(make_album("B" * 22, name="Кино — Группа крови"), tier="popular", ttl_seconds=1000)
    cache.put_missing("C" * 22, ttl_seconds=100)
    cache.put_search(search_key("US", "x", offset=0, limit=5), SearchPage(items=[], total=0), ttl_seconds=100)
    clock.advance(20)  # the first album is now stale: still a last-resort answer
    summaries = list(cache.scan_albums(max_items=10))
    assert [s.id for s in summaries] == ["B" * 22, "A" * 22]  # latest expiry first
    search = CacheOnlySearch(lambda n: cache.scan_albums(max_items=n))
    assert [a.id for a in search.search("группа", 10, 0).items] == ["B" * 22]
    assert [a.id for a in search.search("bjork homogenic", 10, 0).items] == ["A" * 22]
