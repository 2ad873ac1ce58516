"""Job adapters, usage counters and GET /stats over a real moto server (Spotify mocked over HTTP)."""

from __future__ import annotations

import json
import time
from collections import Counter

import httpx
import pytest

from musicboxd import wiring
from musicboxd.adapters.dynamo import DynamoCache, make_model
from musicboxd.adapters.job_stores import DynamoAlbumStore, DynamoCheckpoints, DynamoMaintenance, DynamoUsage
from musicboxd.services.cleanup import CleanupOptions, CleanupService
from musicboxd.services.usage import hour_key
from tests.fakes import make_album
from tools.localstack.apigw import Gateway

DAY = 86_400


@pytest.fixture
def model(table_settings):
    return make_model(table_settings)


def test_hourly_counters_are_atomic_adds(model):
    usage = DynamoUsage(model, ttl_seconds=35 * DAY)
    usage.add_hourly("2026-01-01T10", {"call:search:200": 2, "lat_ms:search": 12.5, "cache:CacheMiss": 1})
    usage.add_hourly("2026-01-01T10", {"call:search:200": 1, "call:album:429": 1, "lat_ms:search": 0.25})
    rows = usage.read_hourly(["2026-01-01T09", "2026-01-01T10"])
    assert rows == {
        "2026-01-01T10": {"call:search:200": 3, "call:album:429": 1, "lat_ms:search": 12.75, "cache:CacheMiss": 1}
    }
    item = model.get("STATS#2026-01-01T10", "H")
    assert item.expires_at > time.time() + 34 * DAY and item.kind is None  # TTL'd, out of the GSI


def test_demand_counters_sum_over_days(model):
    usage = DynamoUsage(model, ttl_seconds=35 * DAY)
    usage.add_demand("2026-01-01", {"A#x": 1, "Q#björk": 2})
    usage.add_demand("2026-01-02", {"A#x": 3})
    usage.add_demand("2026-01-02", {"A#x": 1})
    assert usage.top_demand(["2026-01-01", "2026-01-02", "2026-01-03"]) == {"A#x": 5, "Q#björk": 2}


def test_checkpoints_round_trip(model):
    store = DynamoCheckpoints(model)
    assert store.load("populate") is None
    state = {"next": 3, "candidates": [["a" * 22, "demand", None]], "not_before": None, "since": 1.5}
    store.save("populate", state)
    assert store.load("populate") == state


def test_album_store_expiries_and_origin(model):
    store = DynamoAlbumStore(model)
    store.put_popular(make_album("A" * 22), tier="popular", ttl_seconds=100, source="playlists")
    store.put_missing("B" * 22, ttl_seconds=10)
    expiries = store.album_expiries(["A" * 22, "B" * 22, "C" * 22])
    assert set(expiries) == {"A" * 22, "B" * 22}
    assert model.get("ALBUM#" + "A" * 22, "A").origin == "playlists"
    cached = DynamoCache(model).get_album("A" * 22)
    assert cached.tier == "popular" and cached.album.name == "Homogenic"


def test_cleanup_over_the_gsi_removes_only_expired_items(model):
    now = time.time()
    past = DynamoCache(model, clock=lambda: now - 10 * DAY)
    fresh = DynamoCache(model, clock=lambda: now)
    for i in range(25):
        past.put_album(make_album(f"{i:022d}"), tier="searched", ttl_seconds=DAY)  # expired 9 days ago
    past.put_missing("M" * 22, ttl_seconds=60)
    past.put_search("SEARCH#US#old|0:20", make_search_page(), ttl_seconds=60)
    for i in range(5):
        fresh.put_album(make_album(f"F{i:021d}"), tier="popular", ttl_seconds=DAY)
    fresh.put_search("SEARCH#US#new|0:20", make_search_page(), ttl_seconds=DAY)
    DynamoUsage(model, ttl_seconds=DAY).add_hourly(hour_key(now), {"cache:CacheMiss": 1})
    service = CleanupService(
        DynamoMaintenance(model), DynamoCheckpoints(model), usage=DynamoUsage(model, ttl_seconds=DAY)
    )
    report = service.run(CleanupOptions(page_size=10, refresh=False))
    assert report.status == "done" and report.deleted == 27
    left = {(i.pk, i.kind) for i in model.scan() if i.kind}
    fresh_items = {(f"ALBUM#F{i:021d}", "ALBUM") for i in range(5)} | {("SEARCH#US#new", "SEARCH")}
    assert left == fresh_items | {("JOB#cleanup", "JOB")}  # its own checkpoint, fresh
    assert report.stats["items"] == {"popular": 5, "search": 1}
    assert report.stats["last_day"]["cache"]["misses"] == 1


def test_delete_condition_protects_a_refreshed_item(model):
    now = time.time()
    DynamoCache(model, clock=lambda: now + 10).put_album(make_album(), tier="searched", ttl_seconds=DAY)
    assert DynamoMaintenance(model).delete_if_expired("ALBUM#" + make_album().id, "A", now) is False
    assert DynamoCache(model).get_album(make_album().id) is not None


def make_search_page():
    from musicboxd.models import SearchPage

    return SearchPage(items=[make_album().summary()], total=1)


# ----------------------------------------------------------------------------- /stats end to end


class SpotifyMock:
    """Spotify over httpx.MockTransport: counts what it answered, by endpoint and status."""

    def __init__(self):
        self.counts: Counter[tuple[str, int]] = Counter()
        self.throttle_album = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/api/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        if path.startswith("/v1/search"):
            self.counts[("search", 200)] += 1
            album = raw(make_album())
            return httpx.Response(200, json={"albums": {"items": [album], "total": 1, "next": None}})
        if path.startswith("/v1/albums/"):
            if self.throttle_album:
                self.counts[("album", 429)] += 1
                return httpx.Response(429, headers={"Retry-After": "30"}, json={"error": {"status": 429}})
            self.counts[("album", 200)] += 1
            album = raw(make_album(path.rsplit("/", 1)[1]))
            album["tracks"] = {"items": [], "next": None}
            return httpx.Response(200, json=album)
        return httpx.Response(404, json={"error": {"status": 404, "message": "nope"}})


def raw(album):
    return {
        "id": album.id,
        "name": album.name,
        "artists": [{"id": "x", "name": "Björk"}],
        "total_tracks": album.total_tracks,
        "release_date": album.release_date,
        "album_type": "album",
    }


@pytest.fixture
def local_api(table_settings):
    from dataclasses import replace

    settings = replace(
        table_settings,
        spotify_api_url="http://spotify.test/v1",
        spotify_accounts_url="http://spotify.test/api/token",
        spotify_client_id="id",
        spotify_client_secret="secret",
        usage_flush_seconds=0,
        upstream_budget_seconds=30,  # counts, not latency: a CPU-starved box must not turn a search into a 503
    )
    mock = SpotifyMock()
    c = wiring.AppContainer(settings)
    c.http = httpx.Client(transport=httpx.MockTransport(mock))
    wiring.set_container(c)
    gateway = Gateway(timeout_seconds=120)  # counts, not latency (see upstream_budget_seconds)

    def call(path):
        signed = {"Host": "localhost", "Authorization": "AWS4-HMAC-SHA256 Credential=local"}  # /stats is IAM-only
        status, headers, body = gateway.invoke("GET", path, signed, b"")
        return status, headers, json.loads(body)

    yield call, mock, c
    wiring.set_container(None)


def test_stats_match_the_calls_spotify_answered(local_api):
    call, mock, c = local_api
    assert call("/search?q=homogenic")[0] == 200
    assert call("/search?q=homogenic")[1]["X-Cache"] == "HIT"
    assert call("/albums/" + "a" * 22)[0] == 200
    assert call("/albums/" + "a" * 22)[1]["X-Cache"] == "HIT"
    mock.throttle_album = True
    assert call("/albums/" + "b" * 22)[0] == 503
    status, _, body = call("/stats?hours=24")
    assert status == 200
    expected_by_endpoint = Counter()
    expected_by_status = Counter()
    for (endpoint, code), n in mock.counts.items():
        expected_by_endpoint[endpoint] += n
        expected_by_status[str(code)] += n
    assert body["spotify_calls"]["by_endpoint"] == dict(expected_by_endpoint)
    assert body["spotify_calls"]["by_status"] == dict(expected_by_status)
    assert body["spotify_calls"]["total"] == sum(mock.counts.values()) == 3
    assert body["cache"]["hits_searched"] == 2 and body["cache"]["misses"] == 3
    assert body["cache"]["hit_rate"] == 0.4
    assert body["avg_upstream_latency_ms"] >= 0 and body["hours"] == 24 and len(body["hourly"]) == 24
    # demand counters: one per answered request (the 503 is not demand), by album id / normalized query
    demand = DynamoUsage(c.model, ttl_seconds=DAY).top_demand([time.strftime("%Y-%m-%d", time.gmtime())])
    assert demand == {"Q#homogenic": 2, "A#" + "a" * 22: 2}


@pytest.mark.parametrize("hours", ["0", "169", "x"])
def test_stats_validates_hours(local_api, hours):
    call, _, _ = local_api
    status, _, body = call(f"/stats?hours={hours}")
    assert status == 400 and body["error"]["status"] == 400


def test_a_broken_counter_table_never_fails_a_request(local_api):
    call, _, c = local_api
    c.usage_store.table = "no-such-table"
    assert call("/search?q=homogenic")[0] == 200
    assert c.usage.failures == 1
