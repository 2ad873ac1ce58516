import threading
import time

import pytest

from musicboxd import metric_names as m
from musicboxd.errors import CacheUnavailable, NotFound, RateLimited, Unavailable
from musicboxd.models import SearchPage
from musicboxd.ports import TIER_POPULAR, TIER_SEARCHED
from musicboxd.services.catalog import AlbumService, SearchFallback, SearchService
from musicboxd.services.memory_telemetry import CountingTelemetry
from tests.fakes import FakeCatalog, FakeClock, MemoryCache, make_album

DAY = 86400


@pytest.fixture
def world():
    clock = FakeClock()
    cache = MemoryCache(clock)
    catalog = FakeCatalog([make_album(), make_album("0" * 22, name="Vespertine")])
    tele = CountingTelemetry()
    search = SearchService(cache, catalog, market="US", ttl_seconds=30 * DAY, telemetry=tele, clock=clock)
    albums = AlbumService(cache, catalog, ttl_seconds=30 * DAY, negative_ttl_seconds=3600, telemetry=tele, clock=clock)
    return clock, cache, catalog, tele, search, albums


def test_repeat_search_is_served_from_cache(world):
    clock, cache, catalog, tele, search, _ = world
    first = search.search("Homogenic", limit=20, offset=0)
    second = search.search("  HOMOGENIC ", limit=20, offset=0)
    assert (first.source, first.cache) == ("spotify", "MISS")
    assert (second.source, second.cache) == ("cache", "HIT")
    assert second.value == first.value
    assert len(catalog.calls) == 1
    assert catalog.calls[0][1] == "homogenic"  # normalized query goes upstream
    assert tele.counts[m.CACHE_MISS] == 1 and tele.counts[m.CACHE_HIT_SEARCHED] == 1


def test_limit_variants_share_the_cached_blocks(world):
    _, _, catalog, _, search, _ = world
    search.search("homogenic", limit=20, offset=0)
    assert search.search("homogenic", limit=5, offset=0).cache == "HIT"
    assert len(catalog.calls) == 1  # one block: the catalog has a single match


def test_expired_search_is_refetched(world):
    clock, _, catalog, _, search, _ = world
    search.search("homogenic", limit=20, offset=0)
    clock.advance(30 * DAY + 1)
    again = search.search("homogenic", limit=20, offset=0)
    assert again.cache == "MISS" and len(catalog.calls) == 2


def test_stale_search_when_upstream_fails(world):
    clock, _, catalog, tele, search, _ = world
    page = search.search("homogenic", limit=20, offset=0).value
    clock.advance(31 * DAY)
    catalog.fail_with = RateLimited(3600)
    stale = search.search("homogenic", limit=20, offset=0)
    assert (stale.source, stale.cache, stale.value) == ("stale", "STALE", page)
    assert tele.counts[m.CACHE_HIT_STALE] == 1


def test_failure_without_cache_tries_fallbacks_then_raises(world):
    _, cache, catalog, _, _, _ = world
    catalog.fail_with = Unavailable("down")
    seen = []

    def nothing(q, limit, offset):
        seen.append(q)
        return None

    svc = SearchService(cache, catalog, market="US", ttl_seconds=1, fallbacks=[SearchFallback("x", nothing)])
    with pytest.raises(Unavailable):
        svc.search("anything", limit=5, offset=0)
    assert seen == ["anything"]
    rescue = SearchFallback("musicbrainz", lambda q, limit, offset: SearchPage(items=[], total=0))
    svc = SearchService(cache, catalog, market="US", ttl_seconds=1, fallbacks=[rescue])
    assert svc.search("anything", limit=5, offset=0).source == "musicbrainz"
    assert cache.searches == {}  # fallback answers are never written as Spotify's


def test_broken_cache_still_answers_from_upstream(world):
    _, cache, catalog, _, search, albums = world

    def boom(*a, **k):
        raise CacheUnavailable("throttled")

    cache.get_search = cache.put_search = cache.get_album = cache.put_album = boom
    assert search.search("homogenic", limit=20, offset=0).source == "spotify"
    assert albums.get(make_album().id).source == "spotify"


def test_empty_query_after_normalization_is_rejected(world):
    *_, search, _ = world
    with pytest.raises(ValueError):
        search.search("\u200b\u200b", limit=5, offset=0)


def test_album_write_through_and_hit(world):
    _, cache, catalog, tele, _, albums = world
    album_id = make_album().id
    assert albums.get(album_id).cache == "MISS"
    hit = albums.get(album_id)
    assert (hit.source, hit.cache) == ("cache", "HIT")
    assert cache.albums[album_id].tier == TIER_SEARCHED
    assert catalog.calls == [("album", album_id)]
    assert tele.counts[m.CACHE_HIT_SEARCHED] == 1


def test_popular_tier_hit_is_counted_as_popular(world):
    _, cache, _, tele, _, albums = world
    cache.put_album(make_album(), tier=TIER_POPULAR, ttl_seconds=DAY)
    assert albums.get(make_album().id).cache == "HIT"
    assert tele.counts[m.CACHE_HIT_POPULAR] == 1


def test_not_found_is_negative_cached(world):
    clock, _, catalog, _, _, albums = world
    missing = "1" * 22
    for _ in range(3):
        with pytest.raises(NotFound):
            albums.get(missing)
    assert catalog.calls == [("album", missing)]
    clock.advance(3601)
    with pytest.raises(NotFound):
        albums.get(missing)
    assert len(catalog.calls) == 2


def test_expired_album_is_refetched_and_stale_served_on_failure(world):
    clock, _, catalog, _, _, albums = world
    album_id = make_album().id
    albums.get(album_id)
    clock.advance(30 * DAY + 1)
    assert albums.get(album_id).cache == "MISS"
    clock.advance(30 * DAY + 1)
    catalog.fail_with = Unavailable("timeout")
    stale = albums.get(album_id)
    assert (stale.source, stale.cache) == ("stale", "STALE")
    assert len(catalog.calls) == 3


def test_upstream_failure_without_cache_raises_and_keeps_cache_empty(world):
    _, cache, catalog, _, _, albums = world
    catalog.fail_with = RateLimited(10)
    with pytest.raises(RateLimited):
        albums.get(make_album().id)
    assert cache.albums == {}


def test_identical_concurrent_misses_fetch_once(world):
    _, _, catalog, _, search, _ = world
    catalog.gate = threading.Event()
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(search.search("homogenic", limit=20, offset=0)))
        for _ in range(5)
    ]
    for t in threads:
        t.start()
    time.sleep(0.3)  # every thread is now either the leader (gated) or waiting on it
    catalog.gate.set()
    for t in threads:
        t.join()
    assert len(results) == 5
    assert len([c for c in catalog.calls if c[0] == "search"]) == 1
    assert len({r.value.model_dump_json() for r in results}) == 1
