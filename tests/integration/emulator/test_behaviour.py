"""Behaviour of the emulator over real HTTP: paging, Unicode search, filters, faults, limits, modes."""

from __future__ import annotations

import datetime as dt
import time
import unicodedata

import httpx
import pytest

from tests.integration.emulator.contract import validate_response
from tests.integration.emulator.helpers import TODAY, UA, add_faults, set_config, stats


def strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def search(api, q, **params):
    resp = api.get("/v1/search", params={"q": q, "type": "album", **params})
    assert resp.status_code == 200, resp.text
    return resp.json()["albums"]


def search_ids(api, q, pages=1, **params):
    ids, url, n = [], None, 0
    page = search(api, q, **params)
    while True:
        ids.extend(a["id"] for a in page["items"])
        url, n = page["next"], n + 1
        if not url or n >= pages:
            return ids
        page = api.get(url).json()["albums"]


# -- paging -----------------------------------------------------------------------------------------


def test_paging_via_next_collects_every_track_once(api, catalog):
    album = next(a for a in catalog.albums if a.total_tracks > 120)
    body = api.get(f"/v1/albums/{album.id}").json()
    page = body["tracks"]
    seen, pages = [], 0
    while True:
        pages += 1
        seen.extend(t["id"] for t in page["items"])
        assert page["total"] == album.total_tracks
        if not page["next"]:
            break
        assert page["next"].startswith(api.base_url.scheme + "://")
        resp = api.get(page["next"])
        page = validate_response(resp, "development")
    assert seen == [t.id for t in catalog.tracks(album)]
    assert len(set(seen)) == album.total_tracks > 120
    assert pages == -(-album.total_tracks // 50)
    # and backwards via previous
    assert page["previous"] and api.get(page["previous"]).json()["offset"] == page["offset"] - 50


def test_search_paging_is_consistent(api):
    first = search(api, "love", limit=10)
    assert first["previous"] is None and first["next"]
    second = api.get(first["next"]).json()["albums"]
    assert second["offset"] == 10 and second["previous"]
    both = [a["id"] for a in first["items"]] + [a["id"] for a in second["items"]]
    assert len(set(both)) == 20
    assert [a["id"] for a in search(api, "love", limit=10, offset=5)["items"]] == both[5:15]
    assert "query=love" in first["href"] and "type=album" in first["href"]


def test_search_ranking_is_deterministic_and_popularity_driven(api, catalog):
    a = search(api, "greatest hits", limit=10)
    b = search(api, "greatest hits", limit=10)
    assert a == b
    exact = [catalog.album(i["id"]) for i in a["items"] if i["name"] == "Greatest Hits"]
    pops = [x.popularity for x in exact]
    assert pops == sorted(pops, reverse=True) and len(exact) >= 2


# -- Unicode ----------------------------------------------------------------------------------------


def _find(catalog, predicate):
    return next(a for a in sorted(catalog.albums, key=lambda a: -a.popularity) if predicate(a))


def _name_and_artist_query(catalog, album, transform=lambda s: s):
    return f"{transform(album.name)} {transform(catalog.artist_names(album).split(', ')[0])}"


def test_accented_titles_found_without_accents(api, catalog):
    album = _find(
        catalog,
        lambda a: a.name != strip_accents(a.name) and a.name.isascii() is False and all(ord(c) < 0x250 for c in a.name),
    )
    q = _name_and_artist_query(catalog, album, lambda s: strip_accents(s).lower())
    assert q.isascii() or not album.name.isascii()
    assert album.id in search_ids(api, q, limit=10)
    assert album.id in search_ids(api, f'album:"{strip_accents(album.name).upper()}"', pages=20, limit=10)


def test_cjk_titles_found(api, catalog):
    album = _find(
        catalog,
        lambda a: (
            a.locale in ("zh_CN", "ja_JP")
            and len(a.name.replace(" ", "")) >= 3
            and " " not in catalog.artist_names(album=a)
        ),
    )
    artist = catalog.artist_names(album)
    # the whole title without its spaces, and a two-character substring of it, both find it
    title = album.name.replace(" ", "")
    assert album.id in search_ids(api, f"{title} artist:{artist}", limit=10)
    assert album.id in search_ids(api, f"{title[1:3]} artist:{artist}", limit=10)


def test_cyrillic_and_arabic_titles_found(api, catalog):
    for locale in ("ru_RU", "ar_AA"):
        album = _find(catalog, lambda a, loc=locale: a.locale == loc and a.album_type == "album")
        q = _name_and_artist_query(catalog, album, str.upper)
        assert album.id in search_ids(api, q, limit=10), (locale, q)


# -- field filters ----------------------------------------------------------------------------------


def test_year_filters(api, catalog):
    today = dt.date.fromisoformat(TODAY)
    for q in ("year:1999", "love year:1990-1999", "year:2010-2005"):
        page = search(api, q, limit=10)
        assert page["total"] > 0, q
        lo, hi = sorted(int(y) for y in q.split("year:")[1].split("-")) if "-" in q else (1999, 1999)
        for item in page["items"]:
            assert lo <= catalog.album(item["id"]).year(today) <= hi
            assert item["release_date"][:4].isdigit()
    assert search(api, "year:abc")["total"] == 0


def test_album_and_artist_filters(api, catalog):
    album = _find(catalog, lambda a: a.name.startswith("Live ") and a.artists != (0,))
    artist = catalog.artists[album.artists[0]]
    page = search(api, f'album:"{album.name}" artist:"{artist.name}"', limit=10)
    assert album.id in [i["id"] for i in page["items"]]
    for item in search(api, "album:live", limit=10)["items"]:
        assert "live" in item["name"].lower()
    for item in search(api, f'artist:"{artist.name}"', limit=10)["items"]:
        assert artist.name in [a["name"] for a in item["artists"]]


def test_tag_new_follows_the_clock(api, http, catalog):
    page = search(api, "tag:new", limit=10)
    assert page["total"] > 10
    today = dt.date.fromisoformat(TODAY)
    for item in page["items"]:
        released = dt.date.fromisoformat(item["release_date"])
        assert today - dt.timedelta(days=13) <= released <= today
    # move the clock back to a day with absolute (not relative) releases
    http.post("/_emulator/clock", json={"today": "2019-06-30"}).raise_for_status()
    old = search(api, "tag:new", limit=10)
    assert old["total"] > 0
    for item in old["items"]:
        assert "2019-06-17" <= item["release_date"] <= "2019-06-30"
    http.post("/_emulator/reset").raise_for_status()
    assert search(api, "tag:new", limit=10)["total"] == page["total"]


def test_market_is_honoured(api, catalog):
    album = _find(catalog, lambda a: len(a.markets) < 5 and "JP" not in a.markets and a.album_type == "album")
    q = _name_and_artist_query(catalog, album)
    assert album.id in search_ids(api, q, limit=10)
    assert album.id not in search_ids(api, q, limit=10, market="JP")
    track = api.get(f"/v1/albums/{album.id}/tracks", params={"market": "JP"}).json()["items"][0]
    assert track["is_playable"] is False and track["restrictions"] == {"reason": "market"}


# -- faults -----------------------------------------------------------------------------------------


def test_fault_429_with_retry_after_and_quota_body(api, http):
    body = {"error": {"status": 429, "message": "Quota exceeded", "reason": "QUOTA_EXCEEDED"}}
    add_faults(http, {"path": "^/v1/search$", "status": 429, "retry_after": 3600, "body": body, "times": 2})
    for _ in range(2):
        resp = api.get("/v1/search", params={"q": "love", "type": "album"})
        assert resp.status_code == 429 and resp.headers["Retry-After"] == "3600"
        assert validate_response(resp) == body
    assert api.get("/v1/search", params={"q": "love", "type": "album"}).status_code == 200
    assert api.get("/v1/albums/0000000000000000000000").status_code == 404  # other paths unaffected
    assert stats(http)["by_endpoint"]["search"] == {"429": 2, "200": 1}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_fault_5xx_default_body(api, http, catalog, status):
    add_faults(http, {"path": "/v1/albums/", "status": status, "method": "GET", "times": 1})
    resp = api.get(f"/v1/albums/{catalog.albums[0].id}")
    assert resp.status_code == status
    assert resp.json()["error"]["status"] == status
    assert api.get(f"/v1/albums/{catalog.albums[0].id}").status_code == 200


def test_fault_latency_only_and_duration_expiry(api, http):
    add_faults(http, {"path": "^/v1/search", "latency_ms": 300, "duration_s": 0.8})
    started = time.perf_counter()
    assert api.get("/v1/search", params={"q": "love", "type": "album"}).status_code == 200
    assert time.perf_counter() - started >= 0.3
    rules = http.get("/_emulator/faults").json()["rules"]
    assert len(rules) == 1 and rules[0]["latency_ms"] == 300
    time.sleep(0.6)
    started = time.perf_counter()
    api.get("/v1/search", params={"q": "love", "type": "album"})
    assert time.perf_counter() - started < 0.25
    assert http.get("/_emulator/faults").json()["rules"] == []


def test_fault_method_filter_delete_and_token_path(api, http):
    add_faults(http, {"path": ".*", "status": 503, "method": "POST"})
    tok = http.post("/api/token", data={"grant_type": "client_credentials"}, auth=("a", "b"))
    assert tok.status_code == 503 and tok.json()["error"] == "server_error"
    assert api.get("/v1/search", params={"q": "x", "type": "album"}).status_code == 200
    http.delete("/_emulator/faults").raise_for_status()
    assert http.post("/api/token", data={"grant_type": "client_credentials"}, auth=("a", "b")).status_code == 200


def test_fault_rules_are_validated(http):
    assert http.post("/_emulator/faults", json={"rules": [{"path": "("}]}).status_code == 400
    assert http.post("/_emulator/faults", json={"rules": [{"path": "x", "times": 0}]}).status_code == 400
    assert http.post("/_emulator/faults", json={"nope": 1}).status_code == 400


def test_configured_latency_applies_to_api_not_control_plane(api, http):
    set_config(http, latency_ms=250)
    started = time.perf_counter()
    api.get("/v1/search", params={"q": "love", "type": "album"})
    assert time.perf_counter() - started >= 0.25
    started = time.perf_counter()
    http.get("/_emulator/stats")
    assert time.perf_counter() - started < 0.2


def test_ranking_drift_via_the_control_api_and_reset(api, http):
    plain = search_ids(api, "love", limit=10)
    set_config(http, ranking_drift=20, ranking_drift_seed=3)
    drifted = search_ids(api, "love", limit=10)
    assert drifted != plain and set(drifted) & set(plain)
    assert http.post("/_emulator/config", json={"ranking_drift": -1}).status_code == 400
    http.post("/_emulator/reset")
    assert search_ids(api, "love", limit=10) == plain


# -- rate window, token expiry ----------------------------------------------------------------------


def test_rolling_rate_window(api, http):
    set_config(http, rate_limit=5)
    codes = [api.get("/v1/search", params={"q": "love", "type": "album"}).status_code for _ in range(5)]
    assert codes == [200] * 5
    resp = api.get("/v1/search", params={"q": "love", "type": "album"})
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 30
    assert validate_response(resp) == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    # tokens and the control plane are outside the window
    assert http.post("/api/token", data={"grant_type": "client_credentials"}, auth=("a", "b")).status_code == 200
    s = stats(http)
    assert s["by_endpoint"]["search"] == {"200": 5, "429": 1} and s["total"] == 6
    http.post("/_emulator/reset").raise_for_status()
    assert api.get("/v1/search", params={"q": "love", "type": "album"}).status_code == 200


def test_rate_window_is_exact_under_concurrency(api, http):
    from concurrent.futures import ThreadPoolExecutor

    set_config(http, rate_limit=10)
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(
            pool.map(lambda _: api.get("/v1/search", params={"q": "love", "type": "album"}).status_code, range(24))
        )
    assert sorted(codes) == [200] * 10 + [429] * 14
    assert stats(http)["by_endpoint"]["search"] == {"200": 10, "429": 14}


def test_expired_token(http):
    set_config(http, token_ttl=1)
    tok = http.post("/api/token", data={"grant_type": "client_credentials"}, auth=("a", "b")).json()
    assert tok["expires_in"] == 1
    headers = {"Authorization": f"Bearer {tok['access_token']}"}
    assert http.get("/v1/search", params={"q": "a", "type": "album"}, headers=headers).status_code == 200
    time.sleep(1.1)
    resp = http.get("/v1/search", params={"q": "a", "type": "album"}, headers=headers)
    assert resp.status_code == 401
    assert validate_response(resp) == {"error": {"status": 401, "message": "The access token expired"}}


# -- modes ------------------------------------------------------------------------------------------


def test_development_mode_limits_and_fields(api, catalog):
    assert search(api, "love")["limit"] == 5
    assert search(api, "love", limit=10)["limit"] == 10
    assert api.get("/v1/search", params={"q": "love", "type": "album", "limit": 20}).json() == {
        "error": {"status": 400, "message": "Invalid limit"}
    }
    assert search(api, "love", offset=1000, limit=10)["next"] is None
    album = api.get(f"/v1/albums/{catalog.albums[3].id}").json()
    assert not {"popularity", "label", "available_markets"} & album.keys()


def test_extended_mode(api, http, catalog, extended):
    page = search(api, "love")
    assert page["limit"] == 20
    album = api.get(f"/v1/albums/{catalog.albums[3].id}").json()
    assert album["popularity"] == catalog.albums[3].popularity and album["label"] and album["available_markets"]
    ids = [a.id for a in catalog.albums[100:120]] + ["0000000000000000000000"]
    assert api.get("/v1/albums", params={"ids": ",".join(ids[:20])}).status_code == 200
    batch = api.get("/v1/albums", params={"ids": ",".join(ids[-5:])}).json()["albums"]
    assert batch[-1] is None and batch[0]["id"] == ids[-5]
    releases = api.get("/v1/browse/new-releases", params={"limit": 50}).json()["albums"]
    dates = [a["release_date"] for a in releases["items"]]
    assert dates == sorted(dates, reverse=True) and dates[0] <= TODAY
    # back to development: same endpoints are forbidden again
    set_config(http, mode="development")
    assert api.get("/v1/browse/new-releases").status_code == 403


# -- control plane, stats, MusicBrainz --------------------------------------------------------------


def test_stats_format(api, http, catalog):
    http.post("/api/token", data={"grant_type": "client_credentials"}, auth=("a", "b"))
    api.get("/v1/search", params={"q": "love", "type": "album"})
    api.get(f"/v1/albums/{catalog.albums[0].id}")
    api.get(f"/v1/albums/{catalog.albums[0].id}/tracks")
    api.get(f"/v1/artists/{catalog.artists[1].id}")
    api.get(f"/v1/playlists/{catalog.playlists[0].id}/items")
    api.get("/v1/browse/featured-playlists")
    api.get("/v1/me")
    http.get("/ws/2/release-group", params={"query": "love", "fmt": "json"}, headers={"User-Agent": UA})
    http.get(f"/release-group/{catalog.albums[0].mbid}/front-500")
    s = stats(http)
    assert s == {
        "total": 7,
        "by_endpoint": {
            "search": {"200": 1},
            "album": {"200": 1},
            "album_tracks": {"200": 1},
            "albums": {},
            "artist": {"200": 1},
            "playlist_items": {"200": 1},
            "new_releases": {},
            "removed": {"403": 1},
            "other": {"404": 1},
        },
        "tokens_issued": 1,
        "musicbrainz": 2,
    }


def test_catalog_sample_is_deterministic(http, catalog):
    a = http.get("/_emulator/catalog/sample", params={"n": 5, "seed": 3}).json()
    b = http.get("/_emulator/catalog/sample", params={"n": 5, "seed": 3}).json()
    assert a == b and len(a["albums"]) == 5 and a["seed"] == catalog.seed
    assert catalog.album(a["albums"][0]["id"]).name == a["albums"][0]["name"]
    assert a != http.get("/_emulator/catalog/sample", params={"n": 5, "seed": 4}).json()


def test_musicbrainz_finds_the_same_catalog(http, catalog):
    album = _find(catalog, lambda a: a.album_type == "album" and a.artists != (0,))
    artist = catalog.artist_names(album).split(", ")[0]
    resp = http.get(
        "/ws/2/release-group",
        headers={"User-Agent": UA},
        params={"query": f'releasegroup:"{album.name}" AND artist:"{artist}"', "fmt": "json"},
    )
    groups = resp.json()["release-groups"]
    assert groups[0]["id"] == album.mbid and groups[0]["score"] == 100
    assert groups[0]["artist-credit"][0]["name"] == artist


def test_musicbrainz_rate_limit_per_user_agent(http):
    set_config(http, musicbrainz_rps=1)
    params = {"query": "love", "fmt": "json"}
    assert http.get("/ws/2/release-group", params=params, headers={"User-Agent": "A/1 ( a@x )"}).status_code == 200
    fast = http.get("/ws/2/release-group", params=params, headers={"User-Agent": "A/1 ( a@x )"})
    assert fast.status_code == 503 and "rate limit" in fast.json()["error"]
    assert http.get("/ws/2/release-group", params=params, headers={"User-Agent": "B/1 ( b@x )"}).status_code == 200
    time.sleep(1.0)
    assert http.get("/ws/2/release-group", params=params, headers={"User-Agent": "A/1 ( a@x )"}).status_code == 200


def test_handle_is_a_context_manager():
    from tools.emulator import start_emulator

    with start_emulator(port=0, seed=2026) as emu:
        assert httpx.get(f"{emu.url}/_emulator/health").json()["counts"]["albums"] == 20_000
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{emu.url}/_emulator/health", timeout=1)
