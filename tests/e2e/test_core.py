"""The walking core end to end: curl-like requests to the local API, Spotify = the emulator."""

from __future__ import annotations

import time
import uuid

import botocore.session
import pytest

from musicboxd.config import settings
from musicboxd.wiring import container
from tests.e2e.conftest import spotify_calls


def sample(emulator, n=5, seed=0):
    return emulator.get("/_emulator/catalog/sample", params={"n": n, "seed": seed}).json()


def test_health_and_docs(api):
    assert api.get("/health").json() == {"status": "ok"}
    spec = api.get("/openapi.json").json()
    assert {"/search", "/albums/{id}"} <= set(spec["paths"])
    assert api.get("/docs").status_code == 200


def test_repeat_search_makes_no_new_spotify_call(api, emulator):
    name = sample(emulator, 1, seed=1)["albums"][0]["name"]
    first = api.get("/search", params={"q": name, "limit": 5})
    assert first.status_code == 200, first.text
    assert first.headers["X-Cache"] == "MISS" and first.json()["source"] == "spotify"
    assert name in [a["name"] for a in first.json()["albums"]]
    calls = spotify_calls(emulator)
    second = api.get("/search", params={"q": f"  {name.upper()}  ", "limit": 5})
    assert second.headers["X-Cache"] == "HIT" and second.json()["source"] == "cache"
    assert second.json()["albums"] == first.json()["albums"]
    assert spotify_calls(emulator) == calls


def test_limit_above_the_development_cap_pages_upstream(api, emulator):
    body = api.get("/search", params={"q": "love", "limit": 25}).json()
    assert len(body["albums"]) == 25 and body["total"] > 25
    by_endpoint = emulator.get("/_emulator/stats").json()["by_endpoint"]
    assert by_endpoint["search"]["200"] == 3  # 10 + 10 + 5 in Development Mode
    assert len({a["id"] for a in body["albums"]}) == 25


def test_repeat_album_view_makes_no_new_spotify_call(api, emulator):
    album = sample(emulator, 1, seed=2)["albums"][0]
    first = api.get(f"/albums/{album['id']}")
    assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
    assert first.json()["name"] == album["name"] and len(first.json()["tracks"]) == album["total_tracks"]
    calls = spotify_calls(emulator)
    second = api.get(f"/albums/{album['id']}")
    assert second.headers["X-Cache"] == "HIT" and second.json()["source"] == "cache"
    assert spotify_calls(emulator) == calls


def test_album_with_more_than_50_tracks_returns_all(api, emulator):
    big = max(sample(emulator, 1)["big_albums"], key=lambda a: a["total_tracks"])
    body = api.get(f"/albums/{big['id']}").json()
    assert len(body["tracks"]) == big["total_tracks"] > 50
    assert len({(t["disc_number"], t["track_number"]) for t in body["tracks"]}) == big["total_tracks"]
    assert body["total_duration_ms"] == sum(t["duration_ms"] for t in body["tracks"])


def test_expired_items_are_refetched(api, emulator):
    album = sample(emulator, 1, seed=3)["albums"][0]
    api.get(f"/albums/{album['id']}")
    s = settings()
    ddb = botocore.session.get_session().create_client(
        "dynamodb", region_name="us-east-1", endpoint_url=s.dynamodb_endpoint_url
    )
    # Expired but not reaped (DynamoDB deletes lazily; moto never does).
    ddb.update_item(
        TableName=s.table_name,
        Key={"pk": {"S": f"ALBUM#{album['id']}"}, "sk": {"S": "A"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 5)}},
    )
    container().cache.clear()  # a new container: its L1 is empty, so it reads the expired item
    calls = spotify_calls(emulator)
    again = api.get(f"/albums/{album['id']}")
    assert again.headers["X-Cache"] == "MISS" and again.json()["source"] == "spotify"
    assert spotify_calls(emulator) > calls
    assert api.get(f"/albums/{album['id']}").headers["X-Cache"] == "HIT"


@pytest.mark.parametrize("field", ["name", "artist"])
def test_unicode_queries_find_their_albums(api, emulator, stack, field):
    catalog = stack.emulator.catalog
    us = {a.id for a in catalog.albums if "US" in a.markets}  # we search with market=US
    albums = [a for a in sample(emulator, 600, seed=4)["albums"] if a["id"] in us]
    wanted = [a for a in albums if any(ord(ch) > 0x2E80 for ch in a[field])][:2]
    wanted += [a for a in albums if any(0x400 <= ord(ch) < 0x500 for ch in a[field])][:1]
    wanted += [a for a in albums if any(0xC0 <= ord(ch) < 0x250 for ch in a[field])][:1]
    assert len(wanted) >= 3
    for album in wanted:
        body = api.get("/search", params={"q": album[field], "limit": 50}).json()
        assert album["id"] in [a["id"] for a in body["albums"]], (album, body["total"])


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 201},
        {"q": "x", "limit": 0},
        {"q": "x", "limit": 51},
        {"q": "x", "offset": 1001},
        {"q": "x", "limit": "ten"},
    ],
)
def test_bad_search_input_is_400_and_makes_no_call(api, emulator, params):
    response = api.get("/search", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400
    assert spotify_calls(emulator) == 0


@pytest.mark.parametrize("album_id", ["abc", "a" * 23, "%20" * 22, "0" * 21 + "!"])
def test_bad_album_id_is_400(api, emulator, album_id):
    response = api.get(f"/albums/{album_id}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_id"
    assert spotify_calls(emulator) == 0


def test_spotify_404_is_404_and_remembered(api, emulator):
    unknown = uuid.uuid4().hex[:22]
    first = api.get(f"/albums/{unknown}")
    assert first.status_code == 404 and first.json()["error"]["code"] == "not_found"
    calls = spotify_calls(emulator)
    assert calls >= 1
    assert api.get(f"/albums/{unknown}").status_code == 404
    assert spotify_calls(emulator) == calls


def test_token_is_shared_through_ssm_and_refreshed_on_401(api, emulator, stack):
    from musicboxd import wiring

    api.get("/search", params={"q": "live"})
    # A new "instance" (fresh container) takes the token from SSM instead of fetching one.
    wiring.set_container(None)
    issued = emulator.get("/_emulator/stats").json()["tokens_issued"]
    assert api.get("/search", params={"q": "greatest hits"}).status_code == 200
    assert emulator.get("/_emulator/stats").json()["tokens_issued"] == issued
    # The token is rejected once mid-flight: one 401, one refresh, then success.
    emulator.post("/_emulator/faults", json={"rules": [{"path": "^/v1/search", "status": 401, "times": 1}]})
    response = api.get("/search", params={"q": "love songs"})
    assert response.status_code == 200, response.text
    stats = emulator.get("/_emulator/stats").json()
    assert stats["tokens_issued"] == issued + 1


def test_revalidation_is_a_304_without_body_and_without_a_spotify_call(api, emulator):
    album = sample(emulator, 1, seed=5)["albums"][0]
    for path in (f"/albums/{album['id']}", f"/search?q={album['name']}&limit=3"):
        api.get(path)  # the Spotify answer; from now on the cached one (its own bytes, its own ETag)
        cached = api.get(path)
        assert (
            cached.headers["Cache-Control"].startswith("public, max-age=")
            and "s-maxage" in cached.headers["Cache-Control"]
        )
        calls = spotify_calls(emulator)
        revalidated = api.get(path, headers={"If-None-Match": cached.headers["ETag"]})
        assert revalidated.status_code == 304 and revalidated.content == b""
        assert revalidated.headers["ETag"] == cached.headers["ETag"]
        assert spotify_calls(emulator) == calls
        assert api.get(path, headers={"If-None-Match": '"stale-tag"'}).content == cached.content


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT", "PATCH", "TRACE", "HEAD"])
def test_undeclared_methods_are_405_with_allow_as_deployed(api, method):
    response = api.request(method, "/search", params={"q": "x"})
    assert response.status_code == 405 and response.headers["Allow"] == "GET, OPTIONS"
    if method != "HEAD":
        assert response.json()["error"]["code"] == "method_not_allowed"


def test_cors_preflight_is_answered_by_the_gateway(api):
    response = api.options(
        "/albums", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code == 204 and "GET" in response.headers["Access-Control-Allow-Methods"]


def test_answers_are_checked_against_the_document_and_a_wrong_one_is_refused(api, contract):
    import httpx

    before = contract.checked
    assert api.get("/health").status_code == 200
    assert contract.checked == before + 1
    wrong = httpx.Response(200, json={"status": 1}, request=httpx.Request("GET", api.base_url.join("/health")))
    with pytest.raises(Exception, match="(?i)invalid|valid"):
        contract(wrong)
