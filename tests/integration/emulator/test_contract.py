"""Every emulator response body validated against the shared Spotify OpenAPI schema (both modes)."""

from __future__ import annotations

import jsonschema
import pytest

from tests.integration.emulator.contract import schema_of, validate, validate_response
from tests.integration.emulator.helpers import UA, set_config

MODES = ("development", "extended")
DEV_ABSENT_ALBUM_FIELDS = ("popularity", "label", "available_markets")

TOKEN_SCHEMA = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in"],
    "additionalProperties": False,
    "properties": {
        "access_token": {"type": "string", "minLength": 20},
        "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer", "minimum": 1},
    },
}
AUTH_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "error_description"],
    "additionalProperties": False,
    "properties": {
        "error": {"enum": ["invalid_client", "unsupported_grant_type", "invalid_request"]},
        "error_description": {"type": "string"},
    },
}
MB_SEARCH_SCHEMA = {
    "type": "object",
    "required": ["created", "count", "offset", "release-groups"],
    "properties": {
        "created": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"},
        "count": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0},
        "release-groups": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "score",
                    "title",
                    "primary-type",
                    "first-release-date",
                    "artist-credit",
                    "releases",
                ],
                "properties": {
                    "id": {
                        "type": "string",
                        "format": "uuid",
                        "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                    },
                    "score": {"type": "integer", "minimum": 0, "maximum": 100},
                    "title": {"type": "string"},
                    "primary-type": {"enum": ["Album", "Single", "EP"]},
                    "secondary-types": {"type": "array", "items": {"type": "string"}},
                    "first-release-date": {"type": "string", "pattern": r"^\d{4}(-\d\d(-\d\d)?)?$"},
                    "artist-credit": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["name", "artist"],
                            "properties": {
                                "name": {"type": "string"},
                                "joinphrase": {"type": "string"},
                                "artist": {
                                    "type": "object",
                                    "required": ["id", "name", "sort-name"],
                                    "properties": {
                                        "id": {"type": "string"},
                                        "name": {"type": "string"},
                                        "sort-name": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                    "releases": {"type": "array", "items": {"type": "object", "required": ["id", "title"]}},
                },
            },
        },
    },
}
MB_ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}


def _big_album(catalog):
    return next(a for a in catalog.albums if a.total_tracks > 120)


# -- accounts ---------------------------------------------------------------------------------------


def test_token_basic_and_form_credentials(http):
    basic = http.post("/api/token", data={"grant_type": "client_credentials"}, auth=("id", "secret"))
    form = http.post(
        "/api/token", data={"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret"}
    )
    for resp in (basic, form):
        assert resp.status_code == 200
        jsonschema.validate(resp.json(), TOKEN_SCHEMA)
        assert resp.json()["expires_in"] == 3600


@pytest.mark.parametrize(
    ("data", "auth", "error"),
    [
        ({"grant_type": "client_credentials"}, None, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "id"}, None, "invalid_client"),
        ({"grant_type": "authorization_code"}, ("id", "secret"), "unsupported_grant_type"),
        ({}, ("id", "secret"), "unsupported_grant_type"),
    ],
)
def test_token_errors_have_the_accounts_shape(http, data, auth, error):
    resp = http.post("/api/token", data=data, auth=auth)
    assert resp.status_code == 400
    jsonschema.validate(resp.json(), AUTH_ERROR_SCHEMA)
    assert resp.json()["error"] == error


def test_token_checks_configured_credentials(http):
    set_config(http, client_id="right-id", client_secret="right-secret")
    wrong = http.post("/api/token", data={"grant_type": "client_credentials"}, auth=("right-id", "nope"))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"
    wrong_id = http.post("/api/token", data={"grant_type": "client_credentials"}, auth=("other", "right-secret"))
    assert wrong_id.status_code == 400
    ok = http.post("/api/token", data={"grant_type": "client_credentials"}, auth=("right-id", "right-secret"))
    assert ok.status_code == 200
    jsonschema.validate(ok.json(), TOKEN_SCHEMA)


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc"])
def test_v1_requires_a_valid_bearer(http, header):
    headers = {"Authorization": header} if header else {}
    resp = http.get("/v1/search", params={"q": "love", "type": "album"}, headers=headers)
    assert resp.status_code == 401
    validate_response(resp)
    if header == "Bearer not-a-token":
        assert resp.json() == {"error": {"status": 401, "message": "Invalid access token"}}


# -- Spotify endpoints, both modes ------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_search_albums(api, http, mode):
    set_config(http, mode=mode)
    resp = api.get("/v1/search", params={"q": "love", "type": "album", "market": "US"})
    assert resp.status_code == 200
    body = validate_response(resp, mode)
    page = body["albums"]
    assert page["limit"] == (5 if mode == "development" else 20)
    assert len(page["items"]) == page["limit"] and page["total"] > page["limit"]
    for item in page["items"]:
        validate(item, schema_of("SimplifiedAlbumObject"), mode)
        if mode == "development":
            assert "available_markets" not in item
        else:
            assert item["available_markets"]


@pytest.mark.parametrize("mode", MODES)
def test_search_artists_and_unemulated_types(api, http, mode):
    set_config(http, mode=mode)
    resp = api.get("/v1/search", params={"q": "the", "type": "artist,track,playlist,show,episode,audiobook"})
    body = validate_response(resp, mode)
    assert body["artists"]["total"] > 0
    assert body["tracks"]["total"] == 0 and body["tracks"]["items"] == []
    for artist in body["artists"]["items"]:
        validate(artist, schema_of("ArtistObject"), mode)


@pytest.mark.parametrize("mode", MODES)
def test_album_and_its_tracks(api, http, catalog, mode):
    set_config(http, mode=mode)
    album = _big_album(catalog)
    resp = api.get(f"/v1/albums/{album.id}")
    assert resp.status_code == 200
    body = validate_response(resp, mode)
    assert body["id"] == album.id and body["name"] == album.name
    assert len(body["tracks"]["items"]) == 50 and body["tracks"]["next"]
    for field in DEV_ABSENT_ALBUM_FIELDS:
        assert (field in body) == (mode == "extended"), field
    tracks = api.get(f"/v1/albums/{album.id}/tracks", params={"limit": 7, "offset": 3, "market": "US"})
    page = validate_response(tracks, mode)
    assert [t["id"] for t in page["items"]] == [t.id for t in catalog.tracks(album)[3:10]]
    assert page["total"] == album.total_tracks and page["offset"] == 3 and page["limit"] == 7


def test_validator_has_teeth(api, http, catalog):
    """The contract check rejects a broken body, and a development-mode album under extended rules."""
    album = catalog.albums[7]
    dev_body = api.get(f"/v1/albums/{album.id}").json()
    validate(dev_body, schema_of("AlbumObject"), "development")
    with pytest.raises(AssertionError, match="label"):
        validate(dev_body, schema_of("AlbumObject"), "extended")
    broken = {**dev_body, "images": [{"url": "x", "height": "640", "width": 640}]}
    with pytest.raises(AssertionError, match="not of type 'integer'"):
        validate(broken, schema_of("AlbumObject"), "development")
    no_next = {**dev_body, "tracks": {k: v for k, v in dev_body["tracks"].items() if k != "next"}}
    with pytest.raises(AssertionError, match="next"):
        validate(no_next, schema_of("AlbumObject"), "development")


@pytest.mark.parametrize("mode", MODES)
def test_artist(api, http, catalog, mode):
    set_config(http, mode=mode)
    artist = max(catalog.artists[1:], key=lambda a: len(a.albums))
    body = validate_response(api.get(f"/v1/artists/{artist.id}"), mode)
    assert body["name"] == artist.name
    assert ("popularity" in body) == (mode == "extended")
    albums = api.get(f"/v1/artists/{artist.id}/albums", params={"limit": 10})
    page = validate_response(albums, mode)
    assert page["total"] >= 10 and page["next"]


@pytest.mark.parametrize("mode", MODES)
def test_playlist_items(api, http, catalog, mode):
    set_config(http, mode=mode)
    playlist = max(catalog.playlists, key=lambda p: len(p.items))
    resp = api.get(f"/v1/playlists/{playlist.id}/items", params={"limit": 50, "market": "JP"})
    page = validate_response(resp, mode)
    assert page["total"] == len(playlist.items) and len(page["items"]) == 50
    for item in page["items"]:
        assert item["item"]["type"] == "track"
        validate(item, schema_of("PlaylistTrackObject"), mode)


def test_extended_only_endpoints(api, http, catalog, extended):
    ids = [a.id for a in catalog.albums[:20]]
    body = validate_response(api.get("/v1/albums", params={"ids": ",".join(ids)}))
    assert [a["id"] for a in body["albums"]] == ids
    releases = validate_response(api.get("/v1/browse/new-releases", params={"limit": 10}))
    assert releases["albums"]["items"]
    artist = max(catalog.artists[1:], key=lambda a: len(a.albums))
    validate_response(api.get(f"/v1/artists/{artist.id}/top-tracks"))
    playlist = catalog.playlists[0]
    validate_response(api.get(f"/v1/playlists/{playlist.id}/tracks"))


@pytest.mark.parametrize(
    "path",
    [
        "/v1/albums?ids=4aawyAB9vmqN3uQ7FjRGTy",
        "/v1/browse/new-releases",
        "/v1/browse/featured-playlists",
        "/v1/browse/categories/party/playlists",
        "/v1/artists/0LyfQWJT6nXafLPZqxe9Of/top-tracks",
        "/v1/playlists/37i9dQZF1DXcBWIGoYBM5M/tracks",
    ],
)
def test_development_mode_forbids_removed_endpoints(api, path):
    resp = api.get(path)
    assert resp.status_code == 403
    body = validate_response(resp, "development")
    assert body["error"]["status"] == 403 and body["error"]["message"]


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/v1/search", {"q": "love", "type": "album", "limit": 11}, 400, "Invalid limit"),
        ("/v1/search", {"q": "love", "type": "album", "limit": 0}, 400, "Invalid limit"),
        ("/v1/search", {"q": "love", "type": "album", "offset": 1001}, 400, "Invalid offset"),
        ("/v1/search", {"q": "", "type": "album"}, 400, "No search query"),
        ("/v1/search", {"q": "love"}, 400, "Missing parameter type"),
        ("/v1/search", {"q": "love", "type": "vinyl"}, 400, "Bad search type field vinyl"),
        ("/v1/search", {"q": "love", "type": "album", "market": "usa"}, 400, "Invalid market code"),
        ("/v1/albums/not-an-id!", {}, 400, "Invalid base62 id"),
        ("/v1/albums/0000000000000000000000", {}, 404, "Resource not found"),
        ("/v1/albums/0000000000000000000000/tracks", {}, 404, "Resource not found"),
        ("/v1/artists/0000000000000000000000", {}, 404, "Resource not found"),
        ("/v1/playlists/0000000000000000000000/items", {}, 404, "Resource not found"),
    ],
)
def test_errors_have_the_spotify_shape(api, path, params, status, message):
    resp = api.get(path, params=params)
    assert resp.status_code == status
    assert validate_response(resp, "development") == {"error": {"status": status, "message": message}}


def test_album_tracks_limit_is_capped_at_50(api, catalog):
    album = _big_album(catalog)
    resp = api.get(f"/v1/albums/{album.id}/tracks", params={"limit": 51})
    assert resp.status_code == 400
    validate_response(resp)


def test_extended_limits_and_batch_cap(api, catalog, extended):
    assert (
        validate_response(api.get("/v1/search", params={"q": "love", "type": "album", "limit": 50}))["albums"]["limit"]
        == 50
    )
    too_many = api.get("/v1/search", params={"q": "love", "type": "album", "limit": 51})
    assert too_many.status_code == 400
    ids = ",".join(a.id for a in catalog.albums[:21])
    resp = api.get("/v1/albums", params={"ids": ids})
    assert resp.status_code == 400
    validate_response(resp)


# -- MusicBrainz and Cover Art Archive --------------------------------------------------------------


def test_musicbrainz_release_group_search_shape(http, catalog):
    album = catalog.albums[0]
    resp = http.get(
        "/ws/2/release-group",
        params={"query": f'releasegroup:"{album.name}"', "fmt": "json", "limit": 5},
        headers={"User-Agent": UA},
    )
    assert resp.status_code == 200
    body = resp.json()
    jsonschema.validate(body, MB_SEARCH_SCHEMA)
    assert album.mbid in [rg["id"] for rg in body["release-groups"]] or body["count"] > 5


def test_musicbrainz_errors_shape(http):
    no_ua = http.get(
        "/ws/2/release-group", params={"query": "love", "fmt": "json"}, headers={"User-Agent": "python-httpx"}
    )
    assert no_ua.status_code == 403
    jsonschema.validate(no_ua.json(), MB_ERROR_SCHEMA)


def test_cover_art_redirect(http, catalog):
    album = catalog.albums[42]
    resp = http.get(f"/release-group/{album.mbid}/front-500")
    assert resp.status_code == 307
    location = resp.headers["Location"]
    assert location.startswith("https://coverartarchive.org/release/") and location.endswith("-500.jpg")
    assert http.get(f"/release-group/{album.mbid}/front-500").headers["Location"] == location
    missing = http.get("/release-group/00000000-0000-0000-0000-000000000000/front-500")
    assert missing.status_code == 404
