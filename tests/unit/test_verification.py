"""Tier-1 verification: query shapes, sampling, comparison, the verify run, calibration bounds."""

from __future__ import annotations

import random

import pytest

from musicboxd.errors import CacheUnavailable, RateLimited
from musicboxd.index.core import ARTIST, EXACT, PARTIAL, TITLE_PREFIX
from musicboxd.models import AlbumSummary, ArtistRef, SearchPage
from musicboxd.ports import CachedSearch, PendingCheck
from musicboxd.services.verification import (
    AGREED,
    CALIBRATION_STATE,
    ORDER,
    UNSEEN,
    CalibratedTier1,
    Calibration,
    CalibrationPolicy,
    CalibrationView,
    ShadowVerifier,
    agrees,
    outcome,
    query_shape,
)
from tests.fakes import FakeClock, MemoryCache


def summary(album_id: str) -> AlbumSummary:
    return AlbumSummary(id=album_id, name=album_id, artists=[ArtistRef(id="a", name="A")], artist_name="A")


def page(*ids: str) -> SearchPage:
    return SearchPage(items=[summary(i) for i in ids], total=len(ids))


class MemoryQueue:
    def __init__(self, fail: bool = False):
        self.items: dict[str, PendingCheck] = {}
        self.fail = fail

    def put(self, checks: list[PendingCheck]) -> None:
        if self.fail:
            raise CacheUnavailable("down")
        for check in checks:
            self.items[f"{len(self.items):05d}"] = check

    def take(self, max_items: int):
        return sorted(self.items.items())[:max_items]

    def done(self, keys):
        for key in keys:
            del self.items[key]


class MemoryState:
    def __init__(self):
        self.saved: dict = {}
        self.loads = 0

    def load(self, name):
        self.loads += 1
        return self.saved.get(name)

    def save(self, name, state):
        self.saved[name] = state


class StubIndex:
    """What CalibratedTier1 asks of the index: ranked matches, an answer at a margin."""

    def __init__(self, best_class: int, ids: tuple[str, ...], *, min_margin_refused: float = 1.0,
                 searched: bool = False):  # fmt: skip
        self.best_class = best_class
        self.ids = ids
        self.searched = searched
        self.refused_from = min_margin_refused
        self.margins: list[float] = []

    def ranked(self, query):
        return query, [(self.best_class, i) for i in range(len(self.ids))]

    def from_searched_page(self, q, ranked, *, limit):
        return self.searched

    def answer_ranked(self, q, ranked, *, limit, margin=0.0):
        self.margins.append(margin)
        return None if margin >= self.refused_from else page(*self.ids[:limit])

    def summary(self, i):
        return summary(self.ids[i])


class StubSpotify:
    def __init__(self, ids: tuple[str, ...], *, refuse_after: int | None = None):
        self.ids = ids
        self.calls = 0
        self.refuse_after = refuse_after

    def search_albums(self, query, *, limit, offset):
        if self.refuse_after is not None and self.calls >= self.refuse_after:
            raise RateLimited(1, message="background share used")
        self.calls += 1
        return page(*self.ids[:limit])


POLICY = CalibrationPolicy(target=0.99, floor=0.9, samples=10, relax_samples=30, window=50,
                           margin_step=0.01, margin_max=0.03)  # fmt: skip


# -- shapes and comparison --------------------------------------------------------------------------


def test_query_shape_from_the_best_match_class():
    assert query_shape("blue coming ocean", [(EXACT, 0)]) == "title"
    assert query_shape("horizon", [(ARTIST, 3)]) == "artist"
    assert query_shape("blue com", [(TITLE_PREFIX, 0), (PARTIAL, 1)]) == "partial"
    assert query_shape("björk", [(EXACT, 0)]) == "unicode"  # typed with non-ASCII letters
    assert query_shape("bjork homgenic", [(EXACT, 0)], corrected=True) == "typo"
    assert query_shape("björk", [(EXACT, 0)], searched=True) == "searched"  # Spotify's own page
    assert query_shape("zzz", []) == "partial"


def test_agreement_is_the_first_five_ids_in_order():
    assert agrees(["a", "b", "c", "d", "e", "x"], ["a", "b", "c", "d", "e", "y"])
    assert not agrees(["a", "b", "c", "e", "d"], ["a", "b", "c", "d", "e"])
    assert agrees(["a", "b"], ["a", "b"])
    assert not agrees(["a"], ["a", "b"])  # Spotify found one more


def test_outcome_tells_a_reordering_from_an_album_the_answer_does_not_hold():
    ours = ["a", "b", "c", "d", "e", "f", "g"]
    assert outcome(ours, ["a", "b", "c", "d", "e"]) == AGREED
    assert outcome(ours, ["a", "b", "c", "f", "d"]) == ORDER  # f was our 6th: an order we got wrong
    assert outcome(ours, ["a", "b", "z", "c", "d"]) == UNSEEN  # z is nowhere in our answer
    assert outcome(["a"], ["a", "z"]) == UNSEEN


# -- sampling on the search path --------------------------------------------------------------------


def tier1_with(index, *, rate, state=None, queue=None, rng=None, clock=None):
    clock = clock or FakeClock()
    view = CalibrationView(state or MemoryState(), POLICY, recheck_seconds=60, clock=clock)
    return CalibratedTier1(lambda: index, view, queue or MemoryQueue(), rate=rate,
                           rng=rng or random.Random(1).random, clock=clock)  # fmt: skip


def judged(*shapes: str) -> MemoryState:
    """A calibration state in which each of ``shapes`` has enough outcomes since its last change."""
    state = MemoryState()
    state.saved[CALIBRATION_STATE] = {"shapes": {s: {"since": AGREED * POLICY.samples} for s in shapes}}
    return state


def test_a_sampled_share_of_answers_is_queued_and_every_answer_is_served():
    queue = MemoryQueue()
    tier1 = tier1_with(StubIndex(EXACT, ("a", "b", "c")), rate=0.25, queue=queue, state=judged("title"))
    answers = []
    for n in range(2000):
        answers.append(tier1.answer("blue", limit=10, offset=0))
        if n % 50 == 49:  # the container's usage flush
            tier1.flush_checks()
    assert all(a is not None and [x.id for x in a.items] == ["a", "b", "c"] for a in answers)
    assert 400 <= len(queue.items) <= 600  # 25 % of 2,000, seeded
    check = next(iter(queue.items.values()))
    assert (check.query, check.shape, check.limit, check.tier1_ids) == ("blue", "title", 10, ("a", "b", "c"))


def test_a_shape_without_enough_evidence_since_its_last_change_is_checked_at_every_answer():
    queue = MemoryQueue()
    state = judged("title")
    tier1 = tier1_with(StubIndex(ARTIST, ("a", "b")), rate=0.01, queue=queue, state=state)
    for _ in range(POLICY.samples):
        tier1.answer("horizon", limit=10, offset=0)
    tier1.flush_checks()
    assert len(queue.items) == POLICY.samples  # "artist" has no outcomes yet: every answer checked
    queue.items.clear()
    judged_title = tier1_with(StubIndex(EXACT, ("a",)), rate=0.01, queue=queue, state=state)
    for _ in range(POLICY.samples):
        judged_title.answer("blue", limit=10, offset=0)
    judged_title.flush_checks()
    assert len(queue.items) <= 1  # "title" has its verdict's worth: back to the configured rate
    assert Calibration(POLICY).evidence_rate("title", 0.05) == 1.0
    assert Calibration.from_dict(state.saved[CALIBRATION_STATE], POLICY).evidence_rate("title", 0.05) == 0.05


def test_an_answer_that_is_a_searched_page_is_its_own_shape_and_answers_while_others_are_suppressed():
    state = judged("title", "searched")
    state.saved[CALIBRATION_STATE]["shapes"]["title"]["suppressed"] = True
    queue = MemoryQueue()
    predicted = tier1_with(StubIndex(EXACT, ("a", "b")), rate=1.0, state=state, queue=queue)
    assert predicted.assess("blue", limit=10, offset=0) == ("title", None)
    from_page = tier1_with(StubIndex(EXACT, ("a", "b"), searched=True), rate=1.0, state=state, queue=queue)
    shape, page = from_page.assess("blue", limit=10, offset=0)
    assert shape == "searched" and [a.id for a in page.items] == ["a", "b"]
    from_page.flush_checks()
    assert [c.shape for c in queue.items.values()] == ["searched"]  # calibrated on its own


def test_rate_zero_queues_nothing_and_a_failing_queue_never_fails_the_answer():
    queue = MemoryQueue()
    zero = tier1_with(StubIndex(EXACT, ("a",)), rate=0.0, queue=queue)
    assert zero.answer("x y", limit=5, offset=0)
    zero.flush_checks()
    assert not queue.items
    broken = tier1_with(StubIndex(EXACT, ("a",)), rate=1.0, queue=MemoryQueue(fail=True))
    assert broken.answer("x y", limit=5, offset=0) is not None
    broken.flush_checks()  # logged, not raised


def test_sampled_checks_wait_for_the_flush_and_the_buffer_is_bounded():
    queue = MemoryQueue()
    tier1 = tier1_with(StubIndex(EXACT, ("a",)), rate=1.0, queue=queue)
    for _ in range(150):
        tier1.answer("x y", limit=5, offset=0)
    assert not queue.items  # nothing written while answering: no extra round trip for the request
    tier1.flush_checks()
    assert len(queue.items) == 100  # MAX_BUFFERED; the rest of an unflushed burst is dropped
    tier1.flush_checks()
    assert len(queue.items) == 100


def test_later_pages_are_the_same_list_and_never_sampled():
    queue = MemoryQueue()
    tier1 = tier1_with(StubIndex(EXACT, tuple("abcdefg")), rate=1.0, queue=queue)
    assert tier1.answer("x", limit=5, offset=5) == page("f", "g").model_copy(update={"total": 7})
    tier1.flush_checks()
    assert not queue.items  # only first pages are checked against Spotify's


def test_the_calibrated_margin_and_suppression_apply_per_shape():
    state = MemoryState()
    state.saved[CALIBRATION_STATE] = {"shapes": {"title": {"margin": 0.02}, "artist": {"suppressed": True}}}
    index = StubIndex(EXACT, ("a", "b"))
    tier1 = tier1_with(index, rate=1.0, state=state)
    assert tier1.answer("blue", limit=10, offset=0) is not None and index.margins[-1] == 0.02
    artist = StubIndex(ARTIST, ("a", "b"))
    queue = MemoryQueue()
    suppressed = tier1_with(artist, rate=1.0, state=state, queue=queue)
    assert suppressed.answer("horizon", limit=10, offset=0) is None  # Spotify answers instead
    suppressed.flush_checks()
    assert len(queue.items) == 1  # the would-be answer is still checked, so the shape can recover


def test_calibration_state_is_reread_only_after_the_recheck_interval():
    state = MemoryState()
    clock = FakeClock()
    tier1 = tier1_with(StubIndex(EXACT, ("a",)), rate=0.0, state=state, clock=clock)
    for _ in range(5):
        tier1.answer("x y", limit=5, offset=0)
    assert state.loads == 1
    clock.advance(61)
    tier1.answer("x y", limit=5, offset=0)
    assert state.loads == 2


# -- the verify run ------------------------------------------------------------------------------


def verifier(queue, state, cache, spotify):
    return ShadowVerifier(queue, state, cache, spotify, POLICY, search_key=lambda q, limit: f"S#{q}|0:{limit}",
                          ttl_seconds=3600, clock=cache.clock)  # fmt: skip


def test_verify_run_compares_caches_the_page_and_uses_a_cached_page_without_a_call():
    clock = FakeClock()
    cache, queue, state = MemoryCache(clock), MemoryQueue(), MemoryState()
    queue.put([PendingCheck("blue", "title", 10, ("a", "b", "c"), clock())])
    queue.put([PendingCheck("red", "partial", 10, ("a", "c", "b"), clock())])
    cache.searches["S#red|0:10"] = CachedSearch(page("a", "b", "c"), clock() + 3600)  # the request went to Spotify
    cache.searches["S#old|0:10"] = CachedSearch(page("z"), clock() + 60)  # cached long before the answer
    queue.put([PendingCheck("old", "title", 10, ("a",), clock())])
    spotify = StubSpotify(("a", "b", "c"))
    report, calibration = verifier(queue, state, cache, spotify).run(max_checks=10)
    assert (report.checked, report.agreed, report.fetched, report.from_cache) == (3, 1, 2, 1)
    assert spotify.calls == 2  # "old" was asked again: its cached page predates tier 1's answer
    assert [a.id for a in cache.searches["S#blue|0:10"].page.items] == ["a", "b", "c"]  # serves later requests
    assert report.by_shape == {"title": [2, 1], "partial": [1, 0]}
    assert not queue.items and state.saved[CALIBRATION_STATE]["shapes"]["partial"]["recent"] == ORDER


def test_verify_run_stops_when_the_background_share_refuses_and_keeps_the_rest_queued():
    clock = FakeClock()
    cache, queue, state = MemoryCache(clock), MemoryQueue(), MemoryState()
    for n in range(5):
        queue.put([PendingCheck(f"q{n}", "title", 10, ("a",), clock())])
    report, _ = verifier(queue, state, cache, StubSpotify(("a",), refuse_after=2)).run(max_checks=5)
    assert (report.checked, report.left, report.stopped) == (2, 3, "budget")
    assert len(queue.items) == 3


def test_verify_run_respects_the_batch_and_the_deadline():
    clock = FakeClock()
    cache, queue, state = MemoryCache(clock), MemoryQueue(), MemoryState()
    for n in range(5):
        queue.put([PendingCheck(f"q{n}", "title", 10, ("a",), clock())])
    spotify = StubSpotify(("a",))
    report, _ = verifier(queue, state, cache, spotify).run(max_checks=2)
    assert report.checked == 2 and spotify.calls == 2 and len(queue.items) == 3
    report, _ = verifier(queue, state, cache, spotify).run(max_checks=5, remaining=lambda: 1.0)
    assert report.checked == 0 and report.stopped == "deadline" and len(queue.items) == 3


# -- calibration -----------------------------------------------------------------------------------


def feed(calibration: Calibration, shape: str, results: str) -> list[str]:
    return [change for r in results if (change := calibration.record(shape, r)) is not None]


def test_reorderings_tighten_the_margin_within_the_sample_bound_and_never_past_the_maximum():
    calibration = Calibration(POLICY)
    changes = feed(calibration, "title", AGREED * 9 + ORDER)  # 10 samples, 90 % in order < 99 %
    assert changes == ["tightened"] and calibration.margin("title") == pytest.approx(0.01)
    feed(calibration, "title", (AGREED * 5 + ORDER * 5) * 20)  # far below target for long
    assert calibration.margin("title") == pytest.approx(POLICY.margin_max)
    assert calibration.margin("artist") == 0.0  # other shapes untouched


def test_below_the_floor_a_shape_is_suppressed_and_recovers_only_after_a_long_good_run():
    calibration = Calibration(POLICY)
    assert feed(calibration, "partial", UNSEEN * 10) == ["suppressed"]
    assert calibration.suppressed("partial") and calibration.margin("partial") == 0.0  # unseen: no margin helps
    feed(calibration, "partial", AGREED * (POLICY.relax_samples - 1))
    assert calibration.suppressed("partial")
    assert feed(calibration, "partial", AGREED) == ["recovered"]
    assert not calibration.suppressed("partial")


def test_unseen_albums_alone_do_not_tighten_the_margin_above_the_floor():
    calibration = Calibration(POLICY)
    feed(calibration, "title", (AGREED * 19 + UNSEEN) * 10)  # 95 %: above the floor, nothing reordered
    assert calibration.margin("title") == 0.0 and not calibration.suppressed("title")


def test_the_margin_relaxes_one_step_per_long_run_at_the_target():
    calibration = Calibration(POLICY)
    assert feed(calibration, "title", (AGREED * 9 + ORDER) * 2) == ["tightened", "tightened"]
    assert calibration.margin("title") == pytest.approx(0.02)
    feed(calibration, "title", AGREED * POLICY.relax_samples)
    assert calibration.margin("title") == pytest.approx(0.01)
    feed(calibration, "title", AGREED * POLICY.relax_samples * 5)
    assert calibration.margin("title") == 0.0  # never below zero


def test_calibration_round_trips_and_ignores_unknown_fields():
    calibration = Calibration(POLICY)
    feed(calibration, "title", ORDER * 10)
    raw = calibration.to_dict()
    raw["shapes"]["title"]["future_field"] = 1
    again = Calibration.from_dict(raw, POLICY)
    assert again.margin("title") == calibration.margin("title") and again.shapes["title"].recent == ORDER * 10
    assert Calibration.from_dict(None, POLICY).shapes == {}


@pytest.mark.parametrize(
    "knobs",
    [
        {"floor": 0.95, "target": 0.9},  # floor above target
        {"samples": 50, "relax_samples": 10},
        {"margin_step": 0.2, "margin_max": 0.1},
        {"window": 0},
        {"floor": 0.0},
    ],
)
def test_calibration_policy_refuses_knobs_out_of_bounds(knobs):
    with pytest.raises(ValueError):
        CalibrationPolicy(**knobs)


def test_settings_bound_every_knob():
    from musicboxd.config import Settings

    with pytest.raises(ValueError, match="TIER1_VERIFY_RATE"):
        Settings.from_env({"TIER1_VERIFY_RATE": "1.5"})
    with pytest.raises(ValueError, match="TIER1_MARGIN_MAX"):
        Settings.from_env({"TIER1_MARGIN_MAX": "0.9"})
    with pytest.raises(ValueError, match="TIER1_CALIBRATION_SAMPLES"):
        Settings.from_env({"TIER1_CALIBRATION_SAMPLES": "1"})
    s = Settings.from_env({"TIER1_VERIFY_RATE": "0.2", "TIER1_AGREEMENT_FLOOR": "0.8"})
    assert (s.tier1_verify_rate, s.tier1_agreement_floor) == (0.2, 0.8)


def test_the_stored_margin_stays_within_zero_and_the_maximum_when_steps_do_not_divide_it():
    policy = CalibrationPolicy(samples=10, relax_samples=20, margin_step=0.01, margin_max=0.025)
    calibration = Calibration(policy)
    feed(calibration, "title", (AGREED * 9 + ORDER) * 10)
    assert calibration.shapes["title"].margin == pytest.approx(0.025)
    feed(calibration, "title", AGREED * 20 * 5)
    assert calibration.shapes["title"].margin == 0.0


def test_the_index_margin_refuses_known_orders_whose_estimates_are_too_close():
    from musicboxd.index import ranks
    from musicboxd.index.core import IndexedAlbum, Tier1Index
    from tests.unit.test_tier1 import summary as swept
    from tests.unit.test_tier1 import sweep_pages

    golds = [swept(i, "Gold", f"Band {i}", year="2001") for i in range(3)] + [
        swept(10 + i, f"Other {i}", "Band", year="2001") for i in range(97)
    ]  # one year of 100 albums, the three "Gold" at its top, in Spotify's order
    sweep = ranks.from_pages(sweep_pages(golds))
    albums = [IndexedAlbum(s, rank=sweep.ranks[s.id], catalog_size=sweep.catalog_size) for s in golds]
    idx = Tier1Index.build(albums, version="v", built_at=0, now_year=2026, catalog_size=sweep.catalog_size)
    assert idx.answer("gold", limit=5, offset=0) is not None  # neighbours of one list: order known
    assert idx.answer("gold", limit=5, offset=0, margin=0.005) is not None  # one position = 1 % apart
    assert idx.answer("gold", limit=5, offset=0, margin=0.02) is None  # closer than 2 % of the catalog
    assert idx.answer("band 1 gold", limit=5, offset=0, margin=0.5) is not None  # nothing tied: margin moot


# -- misspellings ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spelled():
    from musicboxd.index import ranks
    from musicboxd.index.core import IndexedAlbum, Tier1Index
    from tests.unit.test_tier1 import summary as swept
    from tests.unit.test_tier1 import sweep_pages

    names = [("Blue Coming Ocean", "Horizon"), ("Acoustic", "Band A"), ("Love Songs", "Band B"),
             ("Dove Songs", "Band C"), ("Island", "Band D"), ("Islands", "Band E")]  # fmt: skip
    summaries = [swept(i, name, artist) for i, (name, artist) in enumerate(names)]
    sweep = ranks.from_pages(sweep_pages(summaries))
    albums = [IndexedAlbum(s, rank=sweep.ranks[s.id], catalog_size=sweep.catalog_size) for s in summaries]
    return Tier1Index.build(albums, version="v", built_at=0, now_year=2026, catalog_size=sweep.catalog_size)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("blue comng ocean", "blue coming ocean"),  # a letter dropped
        ("acoutsic", "acoustic"),  # neighbours swapped
        ("horizon blue cominf ocean", "horizon blue coming ocean"),  # "artist title"
        ("hove songs", None),  # love or dove: no single best
        ("islnd", "island"),  # island at distance 1, islands at 2
        ("acoustic", None),  # nothing to correct
        ("xqzv ocean", None),  # nothing close
        ("oceam blue", None),  # corrected but not a whole name
    ],
)
def test_a_misspelling_is_corrected_only_when_one_indexed_word_is_clearly_closest(spelled, typed, expected):
    from musicboxd.index.spelling import correct

    assert correct(spelled, typed) == expected


def test_corrected_answers_are_the_typo_shape_and_only_with_the_setting(spelled):
    queue = MemoryQueue()
    off = tier1_with(spelled, rate=1.0, queue=queue)
    assert off.answer("blue comng ocean", limit=5, offset=0) is None
    on = CalibratedTier1(lambda: spelled, CalibrationView(MemoryState(), POLICY), queue, rate=1.0,
                         correct_typos=True)  # fmt: skip
    page = on.answer("blue comng ocean", limit=5, offset=0)
    assert page is not None and page.items[0].name == "Blue Coming Ocean"
    on.flush_checks()
    assert next(iter(queue.items.values())).shape == "typo"  # checked and calibrated on its own


def test_the_usage_flush_writes_the_sampled_checks_and_survives_a_failing_hook():
    from musicboxd.services.usage import UsageRecorder

    class Store:
        def add_hourly(self, hour, counters): ...

        def add_demand(self, day, counts): ...

    queue = MemoryQueue()
    tier1 = tier1_with(StubIndex(EXACT, ("a",)), rate=1.0, queue=queue)
    usage = UsageRecorder(Store(), flush_interval=10, clock=lambda: 0.0)
    usage.on_flush(lambda: 1 / 0)
    usage.on_flush(tier1.flush_checks)
    tier1.answer("x y", limit=5, offset=0)
    usage.maybe_flush()  # interval not due: nothing written
    assert not queue.items
    usage.flush()
    assert len(queue.items) == 1 and usage.failures == 1


def test_a_few_unlucky_checks_do_not_suppress_a_good_shape_but_a_clear_drop_does():
    from musicboxd.services.verification import upper_bound

    policy = CalibrationPolicy(samples=20, relax_samples=100)
    assert upper_bound(17, 20) > 0.9 > upper_bound(16, 20)  # Wilson, one-sided 90 %
    assert upper_bound(0, 0) == 1.0 and upper_bound(20, 20) == 1.0
    noisy = Calibration(policy)
    assert feed(noisy, "title", AGREED * 17 + UNSEEN * 3) == []  # 85 %: could be a 94 % shape's bad luck
    dropped = Calibration(policy)
    assert feed(dropped, "title", AGREED * 12 + ORDER * 8) == ["suppressed"]  # 60 %: a drift
    assert dropped.margin("title") > 0  # and reorderings tightened the margin too
