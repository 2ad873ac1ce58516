"""Finding 1 of issue 15: input that grows under NFKC never reaches a key, and one rejected
cache call never switches the cache off for everyone."""

import urllib.parse

import pytest

from musicboxd.errors import CacheRejected, CacheUnavailable
from musicboxd.normalize import MAX_QUERY_BYTES, MAX_QUERY_LENGTH, QueryTooLong, normalize_query, searchable_query
from musicboxd.services.catalog import SearchService
from tests.fakes import FakeCatalog, FakeClock, MemoryCache, make_album
from tests.unit.test_api import api, assert_envelope  # noqa: F401  (fixture)

GROWING = "\ufdfa"  # one character, 18 after NFKC


def test_a_query_that_grows_past_the_limits_under_nfkc_is_refused():
    assert len(normalize_query(GROWING * 200)) == 3600
    with pytest.raises(QueryTooLong):
        searchable_query(GROWING * 200)
    with pytest.raises(QueryTooLong):  # 200 characters, 4 bytes each: within characters, over bytes
        searchable_query("\U0001d11e" * MAX_QUERY_LENGTH)
    assert searchable_query("坂" * (MAX_QUERY_BYTES // 3)) == "坂" * 200


def test_growing_query_is_a_clear_400_and_touches_nothing(api):  # noqa: F811
    call, fake = api
    status, _, body = call("/search?q=" + urllib.parse.quote(GROWING * 200))
    assert_envelope(status, body, 400)
    assert body["error"]["code"] == "query_too_long" and "UTF-8 bytes" in body["error"]["message"]
    assert fake.catalog.calls == [] and fake.cache.searches == {}


def test_a_call_the_cache_rejects_is_a_miss_for_that_request_alone():
    clock = FakeClock()
    cache = MemoryCache(clock)
    catalog = FakeCatalog([make_album()])
    service = SearchService(cache, catalog, market="US", ttl_seconds=100, clock=clock)
    service.search("homogenic", limit=5, offset=0)  # cached
    original_get = cache.get_search

    def picky_get(key):
        if "odd" in key:
            raise CacheRejected("ValidationException: key too long")
        return original_get(key)

    cache.get_search = picky_get
    assert service.search("odd query", limit=5, offset=0).source == "spotify"
    calls = len(catalog.calls)
    assert service.search("homogenic", limit=5, offset=0).cache == "HIT"  # cache still on
    assert len(catalog.calls) == calls

    def throttled(key):
        raise CacheUnavailable("ProvisionedThroughputExceededException")

    cache.get_search = throttled
    service.search("odd query", limit=5, offset=0)
    cache.get_search = original_get
    assert service.search("homogenic", limit=5, offset=0).source == "spotify"  # outage: skipped for a while
