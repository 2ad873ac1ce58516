"""Catalog generation: determinism, realism (skew, scripts, variants, sizes), ids."""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tools.emulator.catalog import ALBUM_COUNT, ARTIST_COUNT, generate_catalog, load_catalog
from tools.emulator.search import is_cjk

SEED = 2026
REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(SEED)


def test_same_seed_gives_a_byte_identical_catalog(catalog):
    """A fresh generation in another process (other hash seed, no memo, no disk cache) is identical."""
    code = (
        "from tools.emulator.catalog import generate_catalog; "
        f"print(generate_catalog({SEED}).fingerprint(tracks_every=40))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "EMULATOR_NO_CACHE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == catalog.fingerprint(tracks_every=40)


def test_different_seed_gives_a_different_catalog(catalog):
    other = generate_catalog(SEED + 1)
    assert other.fingerprint(tracks_every=0) != catalog.fingerprint(tracks_every=0)
    assert {a.id for a in other.albums}.isdisjoint(a.id for a in catalog.albums)


def test_counts(catalog):
    counts = catalog.counts()
    assert counts["albums"] == ALBUM_COUNT == 20_000
    assert counts["artists"] == ARTIST_COUNT == 5_000
    assert counts["tracks"] > 150_000 and counts["playlists"] >= 5


def test_ids_are_spotify_like_and_unique(catalog):
    ids = [a.id for a in catalog.albums] + [a.id for a in catalog.artists] + [p.id for p in catalog.playlists]
    assert all(re.fullmatch(r"[0-9A-Za-z]{22}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    mbids = [a.mbid for a in catalog.albums]
    assert len(set(mbids)) == len(mbids)
    assert all(uuid.UUID(m).version == 5 for m in mbids[:100])
    track_ids = [t.id for a in catalog.albums[:300] for t in catalog.tracks(a)]
    assert len(set(track_ids)) == len(track_ids)


def test_skew_of_albums_per_artist(catalog):
    per_artist = sorted((len(a.albums) for a in catalog.artists[1:]), reverse=True)
    assert per_artist[0] >= 50  # a few prolific artists
    assert sum(1 for n in per_artist if n == 1) / len(per_artist) > 0.25  # many one-album artists
    various = catalog.various_artists
    assert len(various.albums) >= 300
    assert all(catalog.albums[i].album_type == "compilation" for i in various.albums)


def test_titles_share_common_words_and_have_variants(catalog):
    names = [a.name for a in catalog.albums]
    for word in ("Live", "Love", "Greatest Hits"):
        assert sum(1 for n in names if word in n) >= 100, word
    assert sum(1 for n in names if "(Deluxe" in n) >= 50
    assert sum(1 for n in names if "Remaster" in n) >= 50
    variants = [a for a in catalog.albums if a.variant_of is not None]
    assert all(a.name.startswith(catalog.albums[a.variant_of].name) for a in variants)


def test_many_scripts(catalog):
    text = "".join(a.name for a in catalog.albums) + "".join(a.name for a in catalog.artists)
    assert any(is_cjk(c) for c in text)
    assert re.search(r"[\u0400-\u04FF]", text)  # Cyrillic
    assert re.search(r"[\u0600-\u06FF]", text)  # Arabic
    assert re.search(r"[\uAC00-\uD7AF]", text)  # Hangul
    assert re.search(r"[\u0370-\u03FF]", text)  # Greek
    assert re.search(r"[éèüöñçøåšžłő]", text)  # accented Latin


def test_types_sizes_discs_and_dates(catalog):
    types = collections.Counter((a.album_type, a.mb_type) for a in catalog.albums)
    assert {
        ("album", "Album"),
        ("single", "Single"),
        ("single", "EP"),
        ("compilation", "Album"),
    } <= types.keys()
    giants = [a for a in catalog.albums if a.total_tracks >= 60]
    assert len(giants) >= 5 and all(a.total_tracks <= 200 for a in giants)
    assert all(a.discs > 1 for a in giants)
    multi = [a for a in catalog.albums if a.discs > 1]
    assert len(multi) > 100
    album = multi[0]
    tracks = catalog.tracks(album)
    assert len(tracks) == album.total_tracks
    assert max(t.disc_number for t in tracks) == album.discs
    precisions = collections.Counter(a.precision for a in catalog.albums)
    assert precisions["day"] and precisions["month"] and precisions["year"]
    assert sum(1 for a in catalog.albums if a.recent_days is not None and a.recent_days < 14) >= 50
    for a in catalog.albums[:500]:
        if a.recent_days is None:
            assert re.fullmatch(
                {"day": r"\d{4}-\d\d-\d\d", "month": r"\d{4}-\d\d", "year": r"\d{4}"}[a.precision],
                a.release_date,
            )


def test_popularity_and_playlists(catalog):
    pops = [a.popularity for a in catalog.albums]
    assert min(pops) >= 0 and max(pops) <= 100 and len(set(pops)) > 50
    for playlist in catalog.playlists:
        assert playlist.items
        for album_index, pos in playlist.items:
            assert 0 <= pos < catalog.albums[album_index].total_tracks
    assert max(len(p.items) for p in catalog.playlists) > 100


def test_lookups(catalog):
    album = catalog.albums[1234]
    assert catalog.album(album.id) is album
    assert catalog.album_by_mbid[album.mbid] is album
    artist = catalog.artists[album.artists[0]]
    assert catalog.artist(artist.id) is artist and album.index in artist.albums
    assert catalog.playlist(catalog.playlists[0].id) is catalog.playlists[0]
    assert catalog.album("0000000000000000000000") is None


def test_config_from_env():
    import datetime as dt

    from tools.emulator.state import Config, config_from_env

    assert config_from_env({}).mode == "development"
    cfg = config_from_env(
        {
            "EMULATOR_MODE": "extended",
            "EMULATOR_RATE_LIMIT": "150",
            "EMULATOR_LATENCY_MS": "25",
            "EMULATOR_TOKEN_TTL": "60",
            "EMULATOR_CLIENT_ID": "id",
            "EMULATOR_CLIENT_SECRET": "secret",
            "EMULATOR_TODAY": "2026-12-24",
            "EMULATOR_MUSICBRAINZ_RPS": "0",
        }
    )
    assert cfg == Config("extended", 150, 25, 60, "id", "secret", 0.0, dt.date(2026, 12, 24))
    assert config_from_env({"EMULATOR_RATE_LIMIT": "off"}).rate_limit is None
    with pytest.raises(ValueError):
        config_from_env({"EMULATOR_MODE": "production"})
