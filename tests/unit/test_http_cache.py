"""HTTP caching through the gateway emulation: Cache-Control per answer, strong ETags, 304s."""

import json

import pytest

from musicboxd import wiring
from musicboxd.api.http_cache import etag_of, none_match
from musicboxd.errors import Unavailable
from musicboxd.models import SearchPage
from musicboxd.services.catalog import SearchFallback, SearchService
from tests.unit.test_api import ALBUM_ID, FakeContainer
from tools.localstack.apigw import Gateway

FRESH = "public, max-age=3600, s-maxage=86400, stale-if-error=86400"
DEGRADED = "public, max-age=60, s-maxage=60"


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    fake = FakeContainer()
    wiring.set_container(fake)
    gateway = Gateway()

    def call(path, **headers):
        return gateway.invoke("GET", path, {"Host": "localhost", **headers}, b"")

    yield call, fake
    wiring.set_container(None)


@pytest.mark.parametrize("path", ["/search?q=homogenic", f"/albums/{ALBUM_ID}"])
def test_fresh_answers_are_cacheable_with_a_strong_etag_of_the_exact_body(api, path):
    call, _ = api
    for expected_source in ("spotify", "cache"):
        status, headers, body = call(path)
        assert status == 200 and json.loads(body)["source"] == expected_source
        assert headers["Cache-Control"] == FRESH
        assert headers["ETag"] == etag_of(body) and not headers["ETag"].startswith("W/")
        assert headers["Vary"] == "Origin"


def test_revalidation_with_the_current_etag_is_a_304_without_body(api):
    call, fake = api
    call("/search?q=homogenic")
    _, headers, body = call("/search?q=homogenic")  # now from the cache: its own bytes, its own tag
    status, revalidated, empty = call("/search?q=homogenic", **{"If-None-Match": headers["ETag"]})
    assert (status, empty) == (304, b"")
    assert revalidated["ETag"] == headers["ETag"] and revalidated["Cache-Control"] == FRESH
    assert "Content-Type" not in revalidated
    assert len(fake.catalog.calls) == 1  # answered from the cache both times
    status, _, again = call("/search?q=homogenic", **{"If-None-Match": '"0000", W/' + headers["ETag"]})
    assert status == 304
    status, _, full = call("/search?q=homogenic", **{"If-None-Match": '"not-this-one"'})
    assert status == 200 and full == body


def test_stale_and_fallback_answers_are_kept_briefly(api):
    call, fake = api
    call("/search?q=homogenic")
    fake.clock.advance(1000)  # past the cache TTL: expired, not reaped
    fake.catalog.fail_with = Unavailable("down")
    status, headers, body = call("/search?q=homogenic")
    assert status == 200 and json.loads(body)["source"] == "stale"
    assert headers["Cache-Control"] == DEGRADED
    page = SearchPage(items=[], total=0)
    fake.search_service = SearchService(
        fake.cache,
        fake.catalog,
        market="US",
        ttl_seconds=100,
        clock=fake.clock,
        fallbacks=[SearchFallback("musicbrainz", lambda query, limit, offset: page)],
    )
    status, headers, body = call("/search?q=never-asked")
    assert status == 200 and json.loads(body)["source"] == "musicbrainz"
    assert headers["Cache-Control"] == DEGRADED


def test_failures_are_never_stored_and_bad_input_briefly(api):
    call, fake = api
    fake.catalog.fail_with = Unavailable("down")
    status, headers, _ = call("/search?q=nothing-cached")
    assert status == 503 and headers["Cache-Control"] == "no-store" and "ETag" not in headers
    status, headers, _ = call("/search?q=%20")
    assert status == 400 and headers["Cache-Control"] == "public, max-age=60"


def test_answers_without_a_source_are_revalidated_every_time(api):
    call, _ = api
    _, headers, _ = call("/health")
    assert headers["Cache-Control"] == "no-cache" and headers["ETag"]


def test_if_none_match_comparison_follows_rfc_9110():
    tag = etag_of("x")
    assert none_match(tag, tag) and none_match(f"W/{tag}", tag) and none_match(f'"a", {tag}', tag)
    assert none_match("*", tag)
    assert not none_match(None, tag) and not none_match('"a"', tag) and not none_match(tag[:-2] + '"', tag)
