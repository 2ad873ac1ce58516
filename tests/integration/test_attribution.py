"""Attribution (Spotify's terms, docs/compliance.md): every album and artist in every response of
every route carries its link back to Spotify and the cover URL exactly as Spotify serves it;
a MusicBrainz answer carries no Spotify link. Real moto server, the Spotify emulator, the API
Gateway emulation."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest

pytest.importorskip("tools.emulator.server")

from musicboxd import wiring  # noqa: E402
from musicboxd.api.openapi import openapi_document  # noqa: E402
from tools.emulator.server import start_emulator  # noqa: E402
from tools.localstack.apigw import Gateway  # noqa: E402

QUERY = "love"


@pytest.fixture
def world(emulated_settings):
    emulator = start_emulator(port=0, quiet=True, mode="development")
    settings = emulated_settings(
        emulator,
        musicbrainz_url=emulator.url,
        coverart_url=emulator.url,
        usage_flush_seconds=0,
        rate_limit_per_window=100_000,
    )
    container = wiring.AppContainer(settings)
    wiring.set_container(container)
    control = httpx.Client(base_url=emulator.url, timeout=5)
    token = control.post("/api/token", data={"grant_type": "client_credentials"},
                         auth=("local-client", "local-secret")).json()["access_token"]  # fmt: skip
    gateway = Gateway()

    def api(path: str) -> dict:
        status, _, body = gateway.invoke("GET", path, {"Host": "localhost"}, b"")
        assert status == 200, (path, body)
        return json.loads(body)

    def spotify(path: str) -> dict:
        return control.get(f"/v1{path}", headers={"Authorization": f"Bearer {token}"}).json()

    yield api, spotify, control, container
    wiring.set_container(None)
    control.close()
    emulator.stop()


def assert_attributed(album: dict, spotify) -> None:
    """``album`` (a search item or a whole album) as Spotify serves it: link, cover, artists' links."""
    served = spotify(f"/albums/{album['id']}")
    assert album["spotify_url"] == served["external_urls"]["spotify"]
    assert album["image_url"] in {image["url"] for image in served["images"]}  # unmodified
    links = {artist["id"]: artist["external_urls"]["spotify"] for artist in served["artists"]}
    assert album["artists"] and {a["id"]: a["spotify_url"] for a in album["artists"]} == links
    for track in album.get("tracks", []):
        assert all(artist["spotify_url"] for artist in track["artists"])


def test_every_route_attributes_every_album_and_artist(world):
    api, spotify, control, container = world
    sources = set()
    for _ in range(2):  # from Spotify, then from the cache
        body = api(f"/search?q={QUERY}&limit=5")
        sources.add(body["source"])
        for album in body["albums"]:
            assert_attributed(album, spotify)
        page = api(f"/albums/{body['albums'][0]['id']}")
        sources.add(page["source"])
        assert_attributed(page, spotify)
    container.rebuild_index(with_sweep=False)  # tier 1 from the cached search page
    container.tier1._checked_at = None
    body = api(f"/search?q={quote('LÖVE')}&limit=3")  # not a cached key, folds like "love": answered by the index
    sources.add(body["source"])
    for album in body["albums"]:
        assert_attributed(album, spotify)
    artist = body["albums"][0]["artists"][0]["name"]
    suggestions = api(f"/suggest?q={quote(artist)}&limit=10")["suggestions"]
    assert {s["type"] for s in suggestions} == {"album", "artist"}
    for suggestion in suggestions:
        kind = suggestion["type"]
        served = spotify(f"/{kind}s/{suggestion['id']}")
        assert suggestion["spotify_url"] == served["external_urls"]["spotify"]
        if kind == "album":
            assert suggestion["image_url"] in {image["url"] for image in served["images"]}
    assert sources == {"spotify", "cache", "popular"}


def test_fallback_answers_say_where_they_come_from(world):
    api, spotify, control, container = world
    api(f"/search?q={QUERY}&limit=5")  # a cached search for the cache-only fallback
    api(f"/albums/{api(f'/search?q={QUERY}&limit=1')['albums'][0]['id']}")
    container.rebuild_index(with_sweep=False)  # cache-only answers from the tier-1 index
    container.tier1._checked_at = None
    control.post("/_emulator/faults", json={"rules": [{"path": "^/v1/search", "status": 503}]})
    body = api(f"/search?q={quote('blue ocean')}&limit=3")
    assert body["source"] == "musicbrainz" and body["albums"]
    for album in body["albums"]:  # not Spotify Content: no link back to Spotify, the Cover Art Archive's cover
        assert album["spotify_url"] is None and album["id"] is None and album["mbid"]
        assert all(artist["spotify_url"] is None for artist in album["artists"])
        assert album["image_url"].startswith(f"{container.settings.coverart_url}/release-group/")
    control.post("/_emulator/faults", json={"rules": [{"path": "^/ws/2/", "status": 503}]})
    body = api(f"/search?q={QUERY[:3]}&limit=4")  # no cached page: the index of cached albums answers
    assert body["source"] == "cache-only" and body["albums"]
    for album in body["albums"]:  # Spotify albums keep their links
        assert_attributed(album, spotify)


def test_the_openapi_document_states_the_attribution_duty():
    doc = openapi_document()
    assert "link each album and artist back to Spotify" in doc["info"]["description"]
    schemas = doc["components"]["schemas"]
    for name in ("SearchAlbum", "ArtistRef", "SuggestItem", "AlbumResponse"):
        description = schemas[name]["properties"]["spotify_url"]["description"]
        assert "Spotify" in description and "musicbrainz" in description
    assert "as Spotify serves it" in schemas["SearchAlbum"]["properties"]["image_url"]["description"]
