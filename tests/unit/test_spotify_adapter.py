import httpx
import pytest

from musicboxd.adapters.spotify import SpotifyCatalog, fetch_token
from musicboxd.config import Settings
from musicboxd.deadline import Deadline
from musicboxd.errors import BadUpstreamRequest, Forbidden, NotFound, RateLimited, Unavailable

API = "https://api.test/v1"


def raw_album(album_id="4aawyAB9vmqN3uQ7FjRGTy", n=3):
    return {
        "id": album_id,
        "name": "Homogenic",
        "album_type": "album",
        "total_tracks": n,
        "release_date": "1997",
        "release_date_precision": "year",
        "artists": [{"id": "a" * 22, "name": "Björk"}],
        "images": [{"url": "small", "width": 64}, {"url": "big", "width": 640}],
        "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
    }


def tracks_page(start, count, total, album_id="4aawyAB9vmqN3uQ7FjRGTy", limit=50):
    items = [
        {
            "id": f"t{i}",
            "name": f"T{i}",
            "track_number": i + 1,
            "disc_number": 1,
            "duration_ms": 1000,
            "explicit": False,
            "artists": [{"id": "a" * 22, "name": "Björk"}],
        }
        for i in range(start, start + count)
    ]
    nxt = None
    if start + count < total:
        nxt = f"{API}/albums/{album_id}/tracks?offset={start + count}&limit={limit}"
    return {"items": items, "next": nxt, "total": total, "offset": start, "limit": limit}


class Recorder:
    def __init__(self, handler):
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request):
        self.requests.append(request)
        return self.handler(request)


def make_client(handler, *, mode="development", deadline=5.0, attempts=3, **kw):
    rec = Recorder(handler)
    settings = Settings(spotify_api_url=API, spotify_mode=mode)
    invalidated = []
    tokens = iter(["tok1", "tok2", "tok3"])
    current = {"t": next(tokens)}

    def token():
        return current["t"]

    def invalidate(t):
        invalidated.append(t)
        current["t"] = next(tokens)

    client = SpotifyCatalog(
        settings,
        httpx.Client(transport=httpx.MockTransport(rec)),
        token,
        invalidate,
        deadline=lambda: Deadline(deadline),
        max_attempts=attempts,
        **kw,
    )
    return client, rec, invalidated


def test_album_follows_every_tracks_page():
    def handler(req):
        if req.url.path.endswith("/tracks"):
            return httpx.Response(
                200,
                json=tracks_page(int(req.url.params["offset"]), 50 if int(req.url.params["offset"]) < 100 else 30, 130),
            )
        return httpx.Response(200, json={**raw_album(n=130), "tracks": tracks_page(0, 50, 130)})

    client, rec, _ = make_client(handler)
    album = client.get_album("4aawyAB9vmqN3uQ7FjRGTy")
    assert len(album.tracks) == 130
    assert [t.id for t in album.tracks] == [f"t{i}" for i in range(130)]
    assert album.total_duration_ms == 130_000
    assert album.image_url == "big"
    assert len(rec.requests) == 3
    assert rec.requests[0].url.params["market"] == "US"
    assert rec.requests[0].headers["Authorization"] == "Bearer tok1"


@pytest.mark.parametrize(("mode", "cap"), [("development", 10), ("extended", 50)])
def test_search_pages_within_mode_cap(mode, cap):
    def handler(req):
        limit, offset = int(req.url.params["limit"]), int(req.url.params["offset"])
        assert limit <= cap
        items = [raw_album(f"{i:022d}") for i in range(offset, min(offset + limit, 37))]
        nxt = "x" if offset + limit < 37 else None
        return httpx.Response(200, json={"albums": {"items": items, "total": 37, "next": nxt}})

    client, rec, _ = make_client(handler, mode=mode)
    page = client.search_albums("homogenic", limit=25, offset=3)
    assert page.total == 37
    assert [a.id for a in page.items] == [f"{i:022d}" for i in range(3, 28)]
    assert len(rec.requests) == (3 if mode == "development" else 1)
    assert rec.requests[0].url.params["type"] == "album"


def test_search_skips_null_items_and_stops_at_end():
    def handler(req):
        return httpx.Response(200, json={"albums": {"items": [None, raw_album()], "total": 2, "next": None}})

    client, rec, _ = make_client(handler)
    page = client.search_albums("x", limit=20, offset=0)
    assert len(page.items) == 1 and len(rec.requests) == 1


def test_429_raises_with_retry_after_and_never_sleeps():
    seen = []

    def handler(req):
        body = {"error": {"status": 429, "message": "quota", "reason": "QUOTA_EXCEEDED"}}
        return httpx.Response(429, headers={"Retry-After": "7200"}, json=body)

    client, rec, _ = make_client(handler, on_rate_limited=seen.append)
    with pytest.raises(RateLimited) as info:
        client.get_album("4aawyAB9vmqN3uQ7FjRGTy")
    assert info.value.retry_after == 7200 and info.value.quota
    assert len(rec.requests) == 1 and seen == [info.value]


def test_5xx_is_retried_then_succeeds():
    answers = iter(
        [
            httpx.Response(502),
            httpx.Response(503),
            httpx.Response(200, json={**raw_album(), "tracks": tracks_page(0, 3, 3)}),
        ]
    )
    client, rec, _ = make_client(lambda req: next(answers))
    assert client.get_album("4aawyAB9vmqN3uQ7FjRGTy").name == "Homogenic"
    assert len(rec.requests) == 3


def test_persistent_5xx_becomes_unavailable():
    client, rec, _ = make_client(lambda req: httpx.Response(500, json={"error": {"status": 500, "message": "x"}}))
    with pytest.raises(Unavailable):
        client.get_album("4aawyAB9vmqN3uQ7FjRGTy")
    assert len(rec.requests) == 3


def test_retries_stop_at_the_deadline():
    client, rec, _ = make_client(lambda req: httpx.Response(503), deadline=0.12, attempts=50)
    with pytest.raises(Unavailable):
        client.get_album("4aawyAB9vmqN3uQ7FjRGTy")
    assert len(rec.requests) < 10


def test_no_call_when_no_time_left():
    client, rec, _ = make_client(lambda req: httpx.Response(200, json={}), deadline=0.0)
    with pytest.raises(Unavailable):
        client.get_album("4aawyAB9vmqN3uQ7FjRGTy")
    assert rec.requests == []


def test_timeout_is_transient():
    def handler(req):
        raise httpx.ReadTimeout("slow", request=req)

    client, rec, _ = make_client(handler)
    with pytest.raises(Unavailable):
        client.search_albums("x", limit=5, offset=0)
    assert len(rec.requests) == 3


def test_401_refreshes_token_once():
    def handler(req):
        if req.headers["Authorization"] == "Bearer tok1":
            return httpx.Response(401, json={"error": {"status": 401, "message": "The access token expired"}})
        return httpx.Response(200, json={**raw_album(), "tracks": tracks_page(0, 3, 3)})

    client, rec, invalidated = make_client(handler)
    assert client.get_album("4aawyAB9vmqN3uQ7FjRGTy").total_tracks == 3
    assert invalidated == ["tok1"] and len(rec.requests) == 2


def test_401_twice_is_unavailable():
    client, rec, invalidated = make_client(
        lambda req: httpx.Response(401, json={"error": {"status": 401, "message": "Invalid access token"}})
    )
    with pytest.raises(Unavailable):
        client.get_album("4aawyAB9vmqN3uQ7FjRGTy")
    assert invalidated == ["tok1", "tok2"] and len(rec.requests) == 2


@pytest.mark.parametrize(("status", "exc"), [(404, NotFound), (403, Forbidden), (400, BadUpstreamRequest)])
def test_status_mapping(status, exc):
    client, _, _ = make_client(lambda req: httpx.Response(status, json={"error": {"status": status, "message": "m"}}))
    with pytest.raises(exc):
        client.get_album("4aawyAB9vmqN3uQ7FjRGTy")


def test_shared_budget_refusal_makes_no_call():
    class NoBudget:
        def acquire(self, *, interactive=True):
            return False

        def retry_after(self):
            return 12.0

    client, rec, _ = make_client(lambda req: httpx.Response(200, json={}), budget=NoBudget())
    with pytest.raises(RateLimited) as info:
        client.search_albums("x", limit=5, offset=0)
    assert rec.requests == [] and info.value.retry_after == 12.0


def test_batch_albums_only_in_extended_mode():
    def handler(req):
        if req.url.path == "/v1/albums":
            ids = req.url.params["ids"].split(",")
            assert len(ids) <= 20
            return httpx.Response(200, json={"albums": [{**raw_album(i), "tracks": tracks_page(0, 1, 1)} for i in ids]})
        return httpx.Response(200, json={**raw_album(req.url.path.split("/")[-1]), "tracks": tracks_page(0, 1, 1)})

    ids = [f"{i:022d}" for i in range(25)]
    ext, rec, _ = make_client(handler, mode="extended")
    assert [a.id for a in ext.get_albums(ids)] == ids and len(rec.requests) == 2
    dev, rec, _ = make_client(handler)
    assert [a.id for a in dev.get_albums(ids)] == ids and len(rec.requests) == 25


def test_fetch_token_uses_basic_auth_and_reports_auth_errors():
    def handler(req):
        assert req.headers["Authorization"].startswith("Basic ")
        assert b"grant_type=client_credentials" in req.content
        if req.headers["Authorization"] == "Basic aWQ6c2VjcmV0":  # id:secret
            return httpx.Response(200, json={"access_token": "abc", "token_type": "Bearer", "expires_in": 3600})
        return httpx.Response(400, json={"error": "invalid_client", "error_description": "Invalid client"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    token = fetch_token(http, "https://accounts.test/api/token", "id", "secret", now=100.0)
    assert (token.access_token, token.expires_at) == ("abc", 3700.0)
    with pytest.raises(Unavailable, match="Invalid client"):
        fetch_token(http, "https://accounts.test/api/token", "id", "wrong")
