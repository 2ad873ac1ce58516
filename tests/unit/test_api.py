"""The HTTP layer over fakes: validation, envelope, headers, OpenAPI (no AWS, no HTTP)."""

import json

import pytest

from musicboxd import wiring
from musicboxd.errors import RateLimited, Unavailable
from tests.fakes import FakeContainer, make_album
from tools.localstack.apigw import Gateway

ALBUM_ID = make_album().id


def make_fake() -> FakeContainer:
    return FakeContainer([make_album(), make_album("B" * 22, n_tracks=120, name="Big")])


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Musicboxd")
    fake = make_fake()
    wiring.set_container(fake)
    gateway = Gateway()

    def call(path, method="GET"):
        status, headers, body = gateway.invoke(method, path, {"Host": "localhost"}, b"")
        return status, headers, json.loads(body) if body and body[:1] in b"{[" else body

    yield call, fake
    wiring.set_container(None)


def assert_envelope(status, body, expected):
    assert status == expected
    assert set(body) == {"error"}
    assert body["error"]["status"] == expected
    assert isinstance(body["error"]["code"], str) and body["error"]["message"]


def test_search_miss_then_hit(api):
    call, fake = api
    status, headers, body = call("/search?q=homogenic")
    assert status == 200 and headers["X-Cache"] == "MISS"
    assert body["source"] == "spotify" and body["query"] == "homogenic"
    assert (body["limit"], body["offset"], body["total"]) == (20, 0, 1)
    album = body["albums"][0]
    assert set(album) >= {
        "id",
        "name",
        "artists",
        "artist_name",
        "release_date",
        "total_tracks",
        "album_type",
        "image_url",
        "spotify_url",
    }
    status, headers, body = call("/search?q=HOMOGENIC")
    assert headers["X-Cache"] == "HIT" and body["source"] == "cache"
    assert len(fake.catalog.calls) == 1


@pytest.mark.parametrize(
    "query",
    [
        "/search",
        "/search?q=",
        "/search?q=%20%20%20",
        "/search?q=" + "a" * 201,
        "/search?q=x&limit=0",
        "/search?q=x&limit=51",
        "/search?q=x&limit=abc",
        "/search?q=x&offset=-1",
        "/search?q=x&offset=1001",
        "/search?q=%E2%80%8B",
    ],
)
def test_bad_search_input_is_a_400_envelope_and_touches_nothing(api, query):
    call, fake = api
    status, _, body = call(query)
    assert_envelope(status, body, 400)
    assert fake.catalog.calls == [] and fake.cache.writes == 0


def test_query_of_200_chars_after_trimming_is_fine(api):
    call, _ = api
    status, _, _ = call("/search?q=" + "%20" * 5 + "a" * 200 + "%20" * 5)
    assert status == 200


def test_album_with_every_track(api):
    call, _ = api
    status, headers, body = call(f"/albums/{'B' * 22}")
    assert status == 200 and headers["X-Cache"] == "MISS" and body["source"] == "spotify"
    assert len(body["tracks"]) == 120
    assert body["total_duration_ms"] == sum(t["duration_ms"] for t in body["tracks"])
    status, headers, body = call(f"/albums/{'B' * 22}")
    assert headers["X-Cache"] == "HIT" and body["source"] == "cache"


@pytest.mark.parametrize("album_id", ["short", "a" * 23, "!" * 22, "%C3%A9" * 11])
def test_bad_album_id_is_400(api, album_id):
    call, fake = api
    status, _, body = call(f"/albums/{album_id}")
    assert_envelope(status, body, 400)
    assert fake.catalog.calls == []


def test_unknown_album_is_404_and_negative_cached(api):
    call, fake = api
    for _ in range(2):
        status, _, body = call(f"/albums/{'Z' * 22}")
        assert_envelope(status, body, 404)
    assert fake.catalog.calls == [("album", "Z" * 22)]


def test_upstream_rate_limit_is_503_with_retry_after(api):
    call, fake = api
    fake.catalog.fail_with = RateLimited(3600, quota=True)
    status, headers, body = call("/search?q=new")
    assert_envelope(status, body, 503)
    assert headers["Retry-After"] == "3600"
    fake.catalog.fail_with = Unavailable("down")
    status, headers, body = call(f"/albums/{ALBUM_ID}")
    assert_envelope(status, body, 503)
    assert int(headers["Retry-After"]) >= 1


def test_unknown_route_and_method(api):
    call, _ = api
    status, _, body = call("/nope")
    assert_envelope(status, body, 404)
    status, _, body = call("/search?q=x", method="POST")
    assert_envelope(status, body, 405)


def test_health_openapi_docs(api):
    call, _ = api
    assert call("/health")[:3:2] == (200, {"status": "ok"})
    status, _, spec = call("/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    assert {"/search", "/albums/{id}", "/health"} <= set(spec["paths"])
    params = {p["name"]: p for p in spec["paths"]["/search"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 50
    status, headers, html = call("/docs")
    assert status == 200 and b"swagger" in html.lower()


def test_docs_load_swagger_ui_from_our_own_routes_not_a_cdn(api):
    call, _ = api
    _, _, html = call("/docs")
    assert b"http" not in html  # nothing fetched from another host: works offline
    for asset, marker in (("swagger-ui-bundle.min.js", b"SwaggerUIBundle"), ("swagger-ui.min.css", b".swagger-ui")):
        assert asset.encode() in html
        status, headers, body = call(f"/docs/{asset}")
        assert status == 200 and marker in body, asset
        assert headers["Content-Type"].startswith(("text/javascript", "text/css"))
    status, _, body = call("/docs/secrets.txt")
    assert_envelope(status, body, 404)


def test_cors_headers_for_the_web_app(api):
    call, _ = api
    from tools.localstack.apigw import Gateway

    status, headers, _ = Gateway().invoke("GET", "/health", {"Origin": "https://musicboxd.example"}, b"")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] in ("*", "https://musicboxd.example")
    assert "X-Cache" in headers["Access-Control-Expose-Headers"]


def test_validation_messages_are_readable(api):
    call, _ = api
    _, _, body = call("/search?q=%20%20&limit=99")
    message = body["error"]["message"]
    assert "q: must be 1-200 characters after trimming" in message and "limit" in message
    assert "\\S" not in message  # no regular expression shown to users


def test_the_fakes_and_the_real_container_implement_the_container_protocol():
    """Production code asks the container for what the protocol lists, never getattr for tests."""
    from musicboxd.container import Container, JobContainer
    from musicboxd.wiring import AppContainer

    members = [name for name in dir(Container) if not name.startswith("_")]
    assert set(members) >= {"search_service", "album_service", "tier1", "usage", "usage_store"}
    fake = make_fake()
    assert all(hasattr(fake, name) for name in members)
    job_members = [name for name in dir(JobContainer) if not name.startswith("_")]
    assert all(hasattr(AppContainer, name) for name in job_members if name != "settings")
