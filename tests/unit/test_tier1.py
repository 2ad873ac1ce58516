"""Tier-1 index: folding, typeahead, confident answers, holder refresh (no AWS, no HTTP)."""

import hashlib
import pickle
import zlib

import pytest

from musicboxd.index import ranks
from musicboxd.index.core import IndexedAlbum, Tier1Index
from musicboxd.index.text import fold, index_tokens, words
from musicboxd.models import AlbumSummary, ArtistRef, SearchPage
from musicboxd.ports import CachedAlbum, IndexPointer, SweepPage
from musicboxd.services.tier1 import Tier1Holder, rebuild_index
from tests.fakes import FakeClock, make_album
from tools.index_bench import format3_artifact


def summary(i: int, name: str, artist: str, year: str = "2001") -> AlbumSummary:
    aid = f"{i:022d}"
    return AlbumSummary(
        id=aid,
        name=name,
        artists=[ArtistRef(id=f"a{artist}"[:22], name=artist)],
        artist_name=artist,
        release_date=year,
        total_tracks=10,
        album_type="album",
        image_url=f"https://img/{aid}",
        spotify_url=f"https://open/{aid}",
    )


CATALOG = [
    (1, "Homogenic", "Björk", 50),
    (2, "Vespertine", "Björk", 40),
    (3, "Async", "坂本龍一", 30),
    (4, "Группа крови", "Кино", 45),
    (5, "Ágætis byrjun", "Sigur Rós", 35),
    (6, "Gold", "ABBA", 60),
    (7, "Gold", "Spandau Ballet", 55),
    (8, "Gold", "Cat Stevens", 30),
    (9, "Gold", "Ryan Adams", 25),
    (10, "Gold", "Steps", 20),
    (11, "Gold Dust", "Someone", 1),
    (12, "Gold", "Obscure Band", 0),
    (13, "ザ・ベスト", "宇多田ヒカル", 33),
    (14, "Filler One", "Nobody", 0),
    (15, "Filler Two", "Nobody", 0),
] + [(i, f"Filler {i}", "Nobody", 0) for i in range(16, 30)]


def sweep_pages(summaries, *, page=10):
    """Spotify's order for the catalog: one year list (and the global list) in the given order."""
    out = []
    by_year: dict[str, list] = {}
    for s in summaries:
        by_year.setdefault((s.release_date or "")[:4], []).append(s)
    for year, items in by_year.items():
        out += [SweepPage(f"y{year}", o, len(items), tuple(items[o : o + page])) for o in range(0, len(items), page)]
    return out


class MemorySweepStore:
    def __init__(self, pages=()):
        self.stored = list(pages)

    def put_page(self, page, *, ttl_seconds):
        self.stored.append(page)

    def pages(self):
        return list(self.stored)


@pytest.fixture
def index():
    summaries = [summary(i, n, a) for i, n, a, d in sorted(CATALOG, key=lambda c: -c[3])]  # Spotify's order
    sweep = ranks.from_pages(sweep_pages(summaries))
    albums = [IndexedAlbum(s, rank=sweep.ranks[s.id], catalog_size=sweep.catalog_size) for s in summaries]
    built = Tier1Index.build(albums, version="v1", built_at=1.0, now_year=2026, catalog_size=sweep.catalog_size)
    return Tier1Index.loads(built.dumps())


def test_fold_is_case_width_and_accent_insensitive():
    assert fold("BJÖRK") == fold("björk") == fold("Bjork") == "bjork"
    assert fold("Ｓｉｇｕｒ　Rós") == "sigur ros"
    assert words("Ágætis byrjun!") == "agaetis byrjun"
    assert {"坂本", "本龍", "坂"} <= index_tokens(words("坂本龍一"))


def test_round_trip_keeps_every_column(index):
    again = Tier1Index.loads(index.dumps())
    assert again.version == "v1" and len(again) == len(CATALOG)
    assert again.cols == index.cols
    s = again.summary(again.cols["id"].index(f"{1:022d}"))
    assert s == summary(1, "Homogenic", "Björk")


QUERIES = ("bjo", "gold", "g", "кин", "坂本", "sigur ro", "filler", "obscure band gold")


def test_a_loaded_index_answers_exactly_like_the_one_built(index):
    built = Tier1Index.loads(index.dumps())  # index is already a loaded copy; this one from its artifact
    summaries = [summary(i, n, a) for i, n, a, d in sorted(CATALOG, key=lambda c: -c[3])]
    sweep = ranks.from_pages(sweep_pages(summaries))
    fresh = Tier1Index.build(
        [IndexedAlbum(s, rank=sweep.ranks[s.id], catalog_size=sweep.catalog_size) for s in summaries],
        version="v1", built_at=1.0, now_year=2026, catalog_size=sweep.catalog_size,
    )  # fmt: skip
    for query in QUERIES:
        assert built.suggest(query, limit=10) == fresh.suggest(query, limit=10), query
        assert built.answer(query, limit=10, offset=0) == fresh.answer(query, limit=10, offset=0), query


def test_an_index_written_as_json_columns_format_3_is_still_read(index):
    old = Tier1Index.loads(format3_artifact(index))
    assert old.version == "v1" and len(old) == len(index)
    for query in QUERIES:
        assert old.suggest(query, limit=10) == index.suggest(query, limit=10), query


RAN: list[str] = []


def _record(what: str) -> None:
    RAN.append(what)


class _RunsCode:
    def __reduce__(self):
        return (_record, ("forged artifact ran code",))


def test_a_forged_artifact_naming_a_callable_is_refused_without_running_it():
    forged = zlib.compress(pickle.dumps({"format": 4, "payload": _RunsCode()}, protocol=5))
    with pytest.raises(ValueError) as refused:
        Tier1Index.loads(forged)
    assert RAN == []
    assert "refused" in str(refused.value)
    with pytest.raises(ValueError):
        Tier1Index.loads(b"not zlib")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("bjo", "Björk"),
        ("BJÖ", "Björk"),
        ("bjork homo", "Homogenic"),
        ("坂本", "坂本龍一"),
        ("龍", "坂本龍一"),
        ("кин", "Кино"),
        ("групп", "Группа крови"),
        ("agaetis", "Ágætis byrjun"),
        ("sigur ro", "Sigur Rós"),
        ("ヒカル", "宇多田ヒカル"),
        ("ｈｏｍｏ", "Homogenic"),
    ],
)
def test_unicode_and_accent_insensitive_prefix_suggestions(index, typed, expected):
    names = [s.name for s in index.suggest(typed, limit=5)]
    assert expected in names


def test_suggest_ranks_artist_then_its_albums_and_respects_limit(index):
    got = index.suggest("bj", limit=3)
    assert [(s.type, s.name) for s in got] == [("artist", "Björk"), ("album", "Homogenic"), ("album", "Vespertine")]
    assert len(index.suggest("gold", limit=2)) == 2
    assert index.suggest("zzz", limit=5) == []


def test_confident_answer_when_every_tie_in_the_top_results_is_ordered(index):
    page = index.answer("gold", limit=5, offset=0)
    assert page is not None and page.total == 7  # six "Gold" + "Gold Dust"
    assert [a.artist_name for a in page.items] == ["ABBA", "Spandau Ballet", "Cat Stevens", "Ryan Adams", "Steps"]
    assert [a.name for a in index.answer("homogenic", limit=10, offset=0).items] == ["Homogenic"]
    assert [a.name for a in index.answer("BJORK", limit=5, offset=0).items] == ["Homogenic", "Vespertine"]
    assert index.answer("gold", limit=5, offset=5) is None  # offset pages always go to Spotify
    assert index.answer("g", limit=5, offset=0) is None  # one letter matches too much
    assert index.answer("zzz", limit=5, offset=0) is None  # no match: Spotify may still have one


def test_no_answer_when_popularity_order_is_unknown():
    golds = [summary(i, "Gold", f"Band {i}", year=str(1990 + i)) for i in range(3)]  # three years of one album
    sweep = ranks.from_pages(sweep_pages(golds))
    albums = [IndexedAlbum(s, rank=sweep.ranks[s.id], catalog_size=sweep.catalog_size) for s in golds]
    idx = Tier1Index.build(albums, version="v", built_at=0, now_year=2026, catalog_size=sweep.catalog_size)
    assert idx.answer("gold", limit=5, offset=0) is None  # each year's only album: no order across years
    assert idx.answer("band 1 gold", limit=5, offset=0) is not None  # one best match, nothing to order
    no_sweep = Tier1Index.build([IndexedAlbum(golds[0])], version="v", built_at=0, now_year=2026)
    assert no_sweep.answer("gold", limit=1, offset=0) is None  # built without a sweep: never confident


class MemoryIndexStore:
    def __init__(self):
        self.blobs: dict[str, bytes] = {}
        self.pointer: IndexPointer | None = None
        self.reads = 0

    def current(self):
        self.reads += 1
        return self.pointer

    def load(self, pointer):
        return self.blobs[pointer.version]

    def save(self, blob, *, version, built_at, albums):
        self.blobs[version] = blob
        self.pointer = IndexPointer(version, 1, hashlib.sha256(blob).hexdigest(), len(blob), built_at, albums)
        return self.pointer


class ListSource:
    def __init__(self, albums, clock):
        self.albums = albums
        self.clock = clock

    def popular_albums(self):
        return [CachedAlbum(a, self.clock() + 100, "popular") for a in self.albums]


def test_rebuild_then_holder_picks_up_a_new_version_after_the_recheck_interval():
    clock = FakeClock()
    store = MemoryIndexStore()
    source = ListSource([make_album()], clock)
    rebuild_index(source, store, clock=clock)
    holder = Tier1Holder(store, recheck_seconds=300, clock=clock)
    assert [s.name for s in holder.suggest("homo", limit=5)] == ["Homogenic"]
    first = holder.version
    source.albums = [make_album(), make_album("V" * 22, name="Vespertine")]
    clock.advance(10)
    rebuild_index(source, store, clock=clock)
    assert holder.suggest("vesp", limit=5) == [] and holder.version == first  # within the interval
    reads = store.reads
    clock.advance(300)
    assert [s.name for s in holder.suggest("vesp", limit=5)] == ["Vespertine"]
    assert holder.version != first and holder.loads == 2 and store.reads == reads + 1


def test_a_container_without_an_index_looks_again_within_seconds_then_every_interval():
    """make run: the search container starts before the first build; /suggest must not stay [] for minutes."""
    clock = FakeClock()
    store = MemoryIndexStore()
    holder = Tier1Holder(store, recheck_seconds=300, empty_recheck_seconds=5, clock=clock)
    assert holder.suggest("homo", limit=5) == []
    rebuild_index(ListSource([make_album()], clock), store, clock=clock)
    clock.advance(4)
    assert holder.suggest("homo", limit=5) == []  # not yet: at most one look per 5 s while empty
    clock.advance(1)
    assert [s.name for s in holder.suggest("homo", limit=5)] == ["Homogenic"]
    reads = store.reads
    clock.advance(60)
    holder.suggest("homo", limit=5)
    assert store.reads == reads  # loaded: back to the normal interval


def test_holder_without_index_answers_nothing_and_search_disabled():
    clock = FakeClock()
    store = MemoryIndexStore()
    holder = Tier1Holder(store, recheck_seconds=300, clock=clock)
    assert holder.suggest("x", limit=5) == [] and holder.answer("x", limit=5, offset=0) is None
    rebuild_index(ListSource([make_album()], clock), store, clock=clock)
    off = Tier1Holder(store, recheck_seconds=300, clock=clock, search_enabled=False)
    assert off.answer("homogenic", limit=1, offset=0) is None
    assert off.suggest("homogenic", limit=1)


def test_rebuild_indexes_the_sweep_and_the_popular_tier_together():
    clock = FakeClock()
    store = MemoryIndexStore()
    cached = make_album()
    swept = [summary(i, f"Swept {i}", "Band") for i in range(3)] + [cached.summary()]
    rebuild_index(ListSource([cached, make_album("V" * 22, name="Vespertine")], clock), store,
                  sweeps=MemorySweepStore(sweep_pages(swept, page=2)), clock=clock)  # fmt: skip
    assert store.pointer.albums == 5  # 3 only swept + Homogenic (both) + Vespertine (cached only)
    holder = Tier1Holder(store, recheck_seconds=300, clock=clock)
    assert [a.name for a in holder.answer("swept", limit=5, offset=0).items] == ["Swept 0", "Swept 1", "Swept 2"]
    assert holder.answer("homogenic", limit=5, offset=0).items[0].id == cached.id


def test_a_cached_search_page_teaches_the_order_of_equal_matches():
    golds = [summary(i, "Gold", f"Band {i}", year=str(1990 + 10 * i)) for i in range(3)]  # one per year
    clock = FakeClock()

    class Searched:
        def __init__(self, pages):
            self.pages = pages

        def searched_pages(self):
            return self.pages

    def answer(pages):
        store = MemoryIndexStore()
        rebuild_index(ListSource([], clock), store, sweeps=MemorySweepStore(sweep_pages(golds)),
                      searched=Searched(pages), clock=clock)  # fmt: skip
        return Tier1Holder(store, clock=clock).answer("gold", limit=5, offset=0)

    assert answer([]) is None  # three years, one album each: their popularity order is unknown
    spotify = SearchPage(items=[golds[2], golds[0], golds[1]], total=3)  # as Spotify ranked them for "GOLD"
    assert [a.id for a in answer([("gold", spotify)]).items] == [golds[2].id, golds[0].id, golds[1].id]
    other = SearchPage(items=[golds[2], summary(9, "Golden", "X"), golds[0]], total=3)  # not equal matches
    assert answer([("gol", other)]) is None


def test_with_the_sweep_an_answer_that_is_a_searched_page_is_known_as_one():
    """The index keeps the queries users asked with the sweep too: an answer whose first k + 1
    matches were all on Spotify's cached page for the query is Spotify's own (calibrated as the
    shape "searched"), including albums alone in their match class on that page."""
    swept = [summary(i, f"Swept {i}", "Band") for i in range(3)]
    golden = summary(9, "Golden", "X")  # on the searched page only, alone in its match class there
    clock = FakeClock()
    store = MemoryIndexStore()
    spotify = SearchPage(items=[golden], total=1)  # Spotify's answer to "gold"
    rebuild_index(ListSource([], clock), store, sweeps=MemorySweepStore(sweep_pages(swept)),
                  searched=SearchedPages([("gold", spotify)]), clock=clock)  # fmt: skip
    index = Tier1Holder(store, clock=clock).index()
    assert index.swept and golden.id in index.cols["id"]
    q, ranked = index.ranked("GOLD")
    assert index.from_searched_page(q, ranked, limit=5)
    q, ranked = index.ranked("swept")  # never searched: a prediction from the sweep
    assert ranked and not index.from_searched_page(q, ranked, limit=5)


def test_expired_popular_albums_are_left_out():
    clock = FakeClock()
    store = MemoryIndexStore()

    class Src:
        def popular_albums(self):
            return [CachedAlbum(make_album(), clock() - 1, "popular"), CachedAlbum(None, clock() + 10, "")]

    pointer = rebuild_index(Src(), store, clock=clock)
    assert pointer.albums == 0


class SearchedPages:
    def __init__(self, pages):
        self.pages = pages

    def searched_pages(self):
        return self.pages


def test_without_the_sweep_only_searched_queries_whose_matches_spotify_returned_are_answered():
    """POPULATE_SWEEP off: the index learns order from cached search pages alone (docs/compliance.md)."""
    golds = [summary(i, "Gold", f"Band {i}", year=str(1990 + 10 * i)) for i in range(3)]
    golden = summary(9, "Golden", "X")
    clock = FakeClock()
    spotify = SearchPage(items=[golds[2], golds[0], golds[1], golden], total=4)  # Spotify's answer to "GOLD"

    def holder(popular=()):
        store = MemoryIndexStore()
        searched = SearchedPages([("gold", spotify), ("golden", SearchPage(items=[golden], total=1))])
        rebuild_index(ListSource(list(popular), clock), store, searched=searched, clock=clock)
        return Tier1Holder(store, clock=clock)

    index = holder()
    assert [a.id for a in index.answer("GÖLD", limit=5, offset=0).items] == [golds[2].id, golds[0].id,
                                                                            golds[1].id, golden.id]  # fmt: skip
    assert [a.id for a in index.answer("golden", limit=5, offset=0).items] == [golden.id]
    assert index.answer("gol", limit=5, offset=0) is None  # never searched: its matches are unknown
    assert index.answer("band", limit=5, offset=0) is None
    # an album the index holds that Spotify's cached answer did not: it might rank anywhere
    assert holder([make_album("G" * 22, name="Pure Gold")]).answer("gold", limit=5, offset=0) is None
    assert holder([make_album("G" * 22, name="Pure Gold")]).answer("gold", limit=3, offset=0) is not None
    assert {s.name for s in index.suggest("gol", limit=5)} >= {"Gold", "Golden"}  # typeahead still works
