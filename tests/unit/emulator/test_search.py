"""Search index: folding, tokenization (CJK), query parsing, ranking."""

from __future__ import annotations

import datetime as dt

import pytest

from tools.emulator.catalog import load_catalog
from tools.emulator.search import (
    TIER_EXACT,
    fold,
    index_tokens,
    normalized,
    parse_query,
    query_terms,
)

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def index():
    return load_catalog(2026).index


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Björk", "bjork"),
        ("BEYONCÉ", "beyonce"),
        ("Straße", "strasse"),
        ("Øyvind", "oyvind"),
        ("Łódź", "lodz"),
        ("Кино", "кино"),
        ("Ｌｏｖｅ", "love"),
        ("Don't", "dont"),
    ],
)
def test_fold(raw, expected):
    assert fold(raw) == expected


def test_cjk_is_indexed_as_unigrams_and_bigrams():
    tokens = index_tokens("坂本龍一 Live")
    assert {"坂", "坂本", "本龍", "龍一", "live"} <= tokens
    assert {"者也"} <= index_tokens("记者 也是")  # across the space between CJK words
    assert [t.text for t in query_terms("坂本龍一")] == ["坂本", "本龍", "龍一"]
    assert [t.text for t in query_terms("龍")] == ["龍"]
    assert normalized("  Love,  Live!  ") == "love live"


def test_parse_query():
    pq = parse_query('"greatest hits" album:Live artist:"Sigur Rós" year:1990-1995 tag:new upc:123 track:x')
    assert pq.phrases == ["greatest hits"]
    assert pq.album == ["Live"] and pq.artist == ["Sigur Rós"]
    assert pq.year == (1990, 1995) and pq.tag_new and pq.upc == "123"
    assert parse_query("year:2001-1999").year == (1999, 2001)
    assert parse_query("year:19x").impossible
    assert parse_query("love AND hate").free == "love hate"


def test_exact_title_ranks_first_then_popularity(index):
    total, albums, tiers = index.search("greatest hits", TODAY, 0, 20)
    assert total >= 100
    exact = [a for a, t in zip(albums, tiers, strict=True) if t == TIER_EXACT]
    assert exact and all(a.name == "Greatest Hits" for a in exact)
    assert tiers == sorted(tiers, reverse=True)
    keys = [(-t, -a.popularity, a.id) for a, t in zip(albums, tiers, strict=True)]
    assert keys == sorted(keys)


def test_prefix_and_and_semantics(index):
    total_prefix, albums, _ = index.search("grea hit", TODAY, 0, 10)
    assert total_prefix >= 100 and all(
        "grea" in fold(a.name) or "grea" in fold(", ".join(index.catalog.artists[i].name for i in a.artists))
        for a in albums
    )
    assert index.search("zzzqqq love", TODAY, 0, 10)[0] == 0


def test_paging_is_stable(index):
    _, first, _ = index.search("love", TODAY, 0, 30)
    _, second, _ = index.search("love", TODAY, 10, 10)
    assert [a.id for a in first[10:20]] == [a.id for a in second]


def test_tag_new_depends_on_the_clock(index):
    now = {a.id for a in index.search("tag:new", TODAY, 0, 1000)[1]}
    past = dt.date(2019, 6, 30)
    then = index.search("tag:new", past, 0, 1000)[1]
    assert now and then and now != {a.id for a in then}
    assert all(past - dt.timedelta(days=13) <= a.release_day(past) <= past for a in then)
    # "recent" albums are relative to the clock: new whatever the date
    recent = {a.id for a in index.catalog.albums if a.recent_days is not None and a.recent_days < 14}
    assert recent <= now and recent <= {a.id for a in then}


def test_ranking_drift_is_off_by_default_and_reshuffles_popularity_reproducibly(index):
    plain = [a.id for a in index.search("love", TODAY, 0, 50)[1]]
    assert [a.id for a in index.search("love", TODAY, 0, 50, drift=0.0, drift_seed=7)[1]] == plain
    drifted = [a.id for a in index.search("love", TODAY, 0, 50, drift=15.0, drift_seed=7)[1]]
    assert drifted != plain and sorted(drifted) != drifted  # reordered, still a ranking
    assert [a.id for a in index.search("love", TODAY, 0, 50, drift=15.0, drift_seed=7)[1]] == drifted
    assert [a.id for a in index.search("love", TODAY, 0, 50, drift=15.0, drift_seed=8)[1]] != drifted
    # match quality still comes first: drift only moves albums within a tier
    tiers = index.search("greatest hits", TODAY, 0, 30, drift=30.0, drift_seed=1)[2]
    assert tiers == sorted(tiers, reverse=True)
