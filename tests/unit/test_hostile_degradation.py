"""Findings 3, 7, 8 and 9 of issue 15: bad upstream answers degrade, thin pages stay thin,
the token stays on Spotify's origin, Retry-After is clamped, secrets stay out of reprs."""

import httpx
import pytest

from musicboxd.api.errors import retry_after_header
from musicboxd.config import Settings
from musicboxd.errors import BadUpstreamRequest, Forbidden, RateLimited, Unavailable
from musicboxd.models import SearchPage
from musicboxd.ports import Token
from musicboxd.services.catalog import SearchService, search_key
from tests.fakes import FakeCatalog, FakeClock, MemoryCache, make_album
from tests.unit.test_spotify_adapter import make_client as spotify_client
from tests.unit.test_spotify_adapter import raw_album, tracks_page

DAY = 86_400


def test_a_200_with_an_html_body_is_unavailable_not_a_parser_message():
    client, _, _ = spotify_client(lambda request: httpx.Response(200, text="<html>Bad gateway</html>"))
    with pytest.raises(Unavailable, match="non-JSON"):
        client.search_albums("homogenic", limit=10, offset=0)
    client, _, _ = spotify_client(lambda request: httpx.Response(200, json=["not", "an", "object"]))
    with pytest.raises(Unavailable):
        client.get_album("4aawyAB9vmqN3uQ7FjRGTy")


@pytest.mark.parametrize(
    "failure", [Forbidden("endpoint removed"), Unavailable("html body"), BadUpstreamRequest("odd"), RateLimited(5)]
)
def test_every_catalog_error_serves_the_stale_copy_first(failure):
    clock = FakeClock()
    cache = MemoryCache(clock)
    catalog = FakeCatalog([make_album()])
    service = SearchService(cache, catalog, market="US", ttl_seconds=10, clock=clock)
    service.search("homogenic", limit=5, offset=0)
    clock.advance(60)  # expired, not reaped
    catalog.search_albums = lambda *args, **kwargs: (_ for _ in ()).throw(failure)
    answer = service.search("homogenic", limit=5, offset=0)
    assert (answer.source, answer.cache) == ("stale", "STALE")


def test_empty_and_short_pages_get_the_negative_ttl_and_are_provisional():
    clock = FakeClock()
    cache = MemoryCache(clock)
    catalog = FakeCatalog([make_album()])
    service = SearchService(cache, catalog, market="US", ttl_seconds=30 * DAY, negative_ttl_seconds=3600, clock=clock)
    service.search("nothing like this", limit=5, offset=0)  # empty page during an incident
    key = search_key("US", "nothing like this", offset=0, limit=10)
    assert cache.searches[key].expires_at == clock() + 3600 and key in cache.provisional
    catalog.search_albums = lambda query, *, limit, offset: SearchPage(items=[make_album().summary()], total=500)
    service.search("short page", limit=5, offset=0)
    assert search_key("US", "short page", offset=0, limit=10) in cache.provisional
    catalog.search_albums = lambda query, *, limit, offset: SearchPage(items=[make_album().summary()], total=1)
    service.search("complete", limit=5, offset=0)
    complete = search_key("US", "complete", offset=0, limit=10)
    assert cache.searches[complete].expires_at == clock() + 30 * DAY and complete not in cache.provisional


def test_the_token_is_never_sent_to_a_next_url_off_spotifys_origin():
    def handler(request):
        if request.url.host != "api.test":
            return httpx.Response(200, json=tracks_page(50, 10, 60))
        return httpx.Response(
            200, json={**raw_album(n=60), "tracks": {**tracks_page(0, 50, 60), "next": "https://evil.test/steal"}}
        )

    client, recorder, _ = spotify_client(handler)
    with pytest.raises(Unavailable):
        client.get_album("4aawyAB9vmqN3uQ7FjRGTy")
    assert [request.url.host for request in recorder.requests] == ["api.test"]


@pytest.mark.parametrize("header", ["inf", "nan", "1e308", "-5", "soon"])
def test_retry_after_is_clamped(header):
    client, _, _ = spotify_client(lambda request: httpx.Response(429, headers={"Retry-After": header}))
    with pytest.raises(RateLimited) as caught:
        client.search_albums("homogenic", limit=10, offset=0)
    assert 1 <= caught.value.retry_after <= DAY
    assert 1 <= int(retry_after_header(caught.value.retry_after)["Retry-After"]) <= DAY
    assert RateLimited(float("inf")).retry_after == DAY
    assert retry_after_header(float("inf")) == {"Retry-After": "30"}


def test_secrets_stay_out_of_reprs():
    assert "s3cret-token" not in repr(Token("s3cret-token", 1.0))
    assert "s3cret-client" not in repr(Settings(spotify_client_secret="s3cret-client"))
