"""MusicBrainz adapter (httpx.MockTransport), cache-only search, and the degradation order."""

from __future__ import annotations

import httpx
import pytest

from musicboxd.adapters.musicbrainz import MusicBrainzCatalog, lucene_escape
from musicboxd.deadline import Deadline
from musicboxd.errors import RateLimited, Unavailable
from musicboxd.index.core import IndexedAlbum, Tier1Index
from musicboxd.models import SearchPage
from musicboxd.services.catalog import AlbumService, SearchFallback, SearchService
from musicboxd.services.fallbacks import CacheOnlySearch
from tests.fakes import FakeCatalog, FakeClock, MemoryCache, make_album

MBID = "0f1c2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
GROUP = {
    "id": MBID,
    "title": "Homogenic",
    "first-release-date": "1997-09-22",
    "primary-type": "Album",
    "artist-credit": [
        {"name": "Björk", "joinphrase": " & ", "artist": {"id": "a1", "name": "Björk"}},
        {"name": "Sjón", "joinphrase": "", "artist": {"id": "a2", "name": "Sjón"}},
    ],
}


class Budget:
    def __init__(self, allow=True):
        self.allow = allow
        self.calls = 0

    def acquire(self, *, interactive=True):
        self.calls += 1
        return self.allow


def mb(handler, *, budget=None, seconds=3.0, limited=None):
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return MusicBrainzCatalog(
        "http://mb.test",
        "http://caa.test",
        "Musicboxd/0.1 ( ops@musicboxd.example )",
        http,
        deadline=lambda: Deadline(seconds),
        budget=budget,
        on_rate_limited=limited,
    )


def test_musicbrainz_search_maps_release_groups():
    seen = {}

    def handler(request: httpx.Request):
        seen["url"], seen["ua"] = request.url, request.headers["User-Agent"]
        return httpx.Response(200, json={"count": 42, "offset": 0, "release-groups": [GROUP, {"bad": 1}]})

    page = mb(handler).search("björk homogenic", 5, 0)
    assert page.total == 42 and len(page.items) == 1
    album = page.items[0]
    assert (album.id, album.mbid, album.name) == (MBID, MBID, "Homogenic")
    assert album.artist_name == "Björk & Sjón" and album.album_type == "album"
    assert album.image_url == f"http://caa.test/release-group/{MBID}/front-500"
    assert album.spotify_url is None
    assert seen["url"].path == "/ws/2/release-group" and seen["url"].params["fmt"] == "json"
    assert seen["url"].params["limit"] == "5"
    assert "( ops@musicboxd.example )" in seen["ua"]


def test_musicbrainz_respects_budget_deadline_and_never_raises():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json={"release-groups": [GROUP], "count": 1})

    assert mb(handler, budget=Budget(False)).search("x", 5, 0) is None
    assert mb(handler, seconds=0.0).search("x", 5, 0) is None
    assert calls == []
    limited = []
    busy = mb(lambda r: httpx.Response(503, headers={"Retry-After": "2"}), limited=limited.append)
    assert busy.search("x", 5, 0) is None
    assert isinstance(limited[0], RateLimited) and limited[0].retry_after == 2

    def boom(request):
        raise httpx.ConnectError("down")

    assert mb(boom).search("x", 5, 0) is None
    assert mb(lambda r: httpx.Response(200, text="not json")).search("x", 5, 0) is None


def test_lucene_escape():
    assert lucene_escape('AC/DC: "live"') == 'AC\\/DC\\: \\"live\\"'


def _index(names):
    albums = [IndexedAlbum(make_album(f"{i:022d}", name=n).summary()) for i, n in enumerate(names)]
    return Tier1Index.build(albums, version="v", built_at=0, now_year=2026)


def test_cache_only_answers_from_the_in_memory_index_whatever_its_confidence():
    index = _index(["Homogenic", "Vespertine", "Début"])
    search = CacheOnlySearch(lambda: index)
    assert index.answer("bjork debut", limit=10, offset=0) is None  # not confident: tier 1 would not answer
    assert [a.name for a in search.search("bjork debut", 10, 0).items] == ["Début"]
    assert search.search("björk", 2, 1).total == 3
    assert search.search("nothing here", 10, 0) is None
    assert CacheOnlySearch(lambda: None).search("homogenic", 10, 0) is None  # no index loaded yet


def test_cache_only_answers_are_remembered_briefly():
    index = _index(["Homogenic"])
    looked_up = []

    def holder():
        looked_up.append(1)
        return index

    now = [0.0]
    search = CacheOnlySearch(holder, memo_seconds=10, monotonic=lambda: now[0])
    for _ in range(5):
        assert search.search("Homogenic", 10, 0).items[0].name == "Homogenic"
    assert len(looked_up) == 1
    now[0] = 11.0
    search.search("homogenic", 10, 0)
    assert len(looked_up) == 2


@pytest.fixture
def world():
    clock = FakeClock()
    cache = MemoryCache(clock)
    catalog = FakeCatalog([make_album()])
    return clock, cache, catalog


def test_degradation_order_fresh_spotify_stale_fallbacks_error(world):
    clock, cache, catalog = world
    order = []

    def fallback(name, result):
        def search(q, limit, offset):
            order.append(name)
            return result

        return SearchFallback(name, search)

    page = SearchPage(items=[], total=0)
    svc = SearchService(
        cache,
        catalog,
        market="US",
        ttl_seconds=10,
        clock=clock,
        fallbacks=[fallback("musicbrainz", None), fallback("cache-only", page)],
    )
    assert svc.search("homogenic", limit=5, offset=0).source == "spotify"
    assert svc.search("homogenic", limit=5, offset=0).source == "cache"
    clock.advance(11)
    catalog.fail_with = RateLimited(3600)
    assert svc.search("homogenic", limit=5, offset=0).source == "stale"
    assert order == []
    answer = svc.search("uncached", limit=5, offset=0)
    assert (answer.source, answer.cache) == ("cache-only", "MISS") and order == ["musicbrainz", "cache-only"]

    def crash(q, limit, offset):
        raise RuntimeError("bug")

    failing = SearchService(
        cache, catalog, market="US", ttl_seconds=10, clock=clock, fallbacks=[SearchFallback("musicbrainz", crash)]
    )
    with pytest.raises(RateLimited):  # the original failure, with its Retry-After
        failing.search("other", limit=5, offset=0)


def test_album_without_cache_is_an_error_not_a_fallback(world):
    """MusicBrainz cannot look up Spotify ids: an uncached album while Spotify is down is a 503."""
    clock, cache, catalog = world
    albums = AlbumService(cache, catalog, ttl_seconds=10, negative_ttl_seconds=5, clock=clock)
    albums.get(make_album().id)
    clock.advance(11)
    catalog.fail_with = Unavailable("down")
    assert albums.get(make_album().id).source == "stale"
    with pytest.raises(Unavailable):
        albums.get("Q" * 22)
