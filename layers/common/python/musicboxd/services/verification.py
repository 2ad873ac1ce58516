"""Tier 1 checks itself against Spotify: sampling, comparison, calibration per query shape.

* :class:`CalibratedTier1` (search path, the ``Tier1Search`` port): answers from the index at the
  margin the calibration set for the query's shape, stays silent for a suppressed shape, and
  buffers a sampled share of its answers (``TIER1_VERIFY_RATE``) as pending checks, written with
  the usage counters after the response (``flush_checks``) - never a Spotify call, and no extra
  DynamoDB round trip for the request that was sampled.
* :class:`ShadowVerifier` (a scheduled job, off the request path): takes pending checks, gets
  Spotify's page from the search cache or with one call paid from the background share of the
  shared budget (the page is then cached like any searched page), compares the top 5 and feeds
  :class:`Calibration`, whose state the search containers re-read every minute.
* :class:`Calibration`: per shape, the rolling agreement; the margin tightens when answers are
  reordered more often than the target allows and relaxes slowly above it; below the floor the
  shape is suppressed until it recovers. Design and bounds: ``docs/design/tier1-verification.md``.

No AWS or HTTP imports: the queue, the state store, the cache and Spotify come in through ports.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from musicboxd.errors import CacheUnavailable, RateLimited, Unavailable
from musicboxd.index.core import ARTIST, ARTIST_TITLE, EXACT, Tier1Index
from musicboxd.models import SearchPage
from musicboxd.ports import AlbumCache, CatalogSource, CheckpointStore, PendingCheck, VerificationQueue
from musicboxd.services.tier1 import list_page

log = logging.getLogger(__name__)

TOP = 5  # agreement: the same first five ids, in the same order
KEPT = 10  # ids of tier 1's answer a check keeps (to tell a reordering from an unseen album)
MAX_BUFFERED = 100  # sampled checks a container holds until its next flush
Z = 1.28  # one-sided 90 % confidence for the calibration's decisions
AGREED, ORDER, UNSEEN = "a", "o", "u"  # a check's outcome
CALIBRATION_STATE = "tier1-calibration"  # name in the checkpoint store
SHAPES = ("title", "artist", "partial", "unicode", "typo", "searched")


def query_shape(query: str, ranked: list[tuple[int, int]], *, corrected: bool = False, searched: bool = False) -> str:
    """What kind of query this is, from what the index matched (best match class first).

    ``typo``: answered through a spelling correction; ``searched``: the index holds Spotify's own
    answer to this query (``Tier1Index.from_searched_page``); ``unicode``: non-ASCII letters typed;
    ``title`` / ``artist``: the best match is the whole title (or "artist title") / the artist's
    name; ``partial``: anything else that matches (prefixes, some words).
    """
    if corrected:
        return "typo"
    if searched:
        return "searched"
    if any(ord(ch) > 127 for ch in query):
        return "unicode"
    best = ranked[0][0] if ranked else -1
    if best in (EXACT, ARTIST_TITLE):
        return "title"
    if best == ARTIST:
        return "artist"
    return "partial"


def agrees(tier1_ids: Iterable[str], spotify_ids: Iterable[str]) -> bool:
    """Top-5 agreement: the same first ``TOP`` ids in the same order (fewer when Spotify has fewer)."""
    return list(tier1_ids)[:TOP] == list(spotify_ids)[:TOP]


def outcome(tier1_ids: Iterable[str], spotify_ids: Iterable[str]) -> str:
    """``AGREED``; ``ORDER`` when Spotify's first five are all in tier 1's answer (``KEPT`` ids) but
    ranked differently - what a margin can prevent; ``UNSEEN`` when Spotify ranks an album the
    answer does not hold (one the index never saw) - what only the floor can stop."""
    ours, theirs = list(tier1_ids), list(spotify_ids)[:TOP]
    if ours[:TOP] == theirs:
        return AGREED
    return ORDER if set(theirs) <= set(ours) else UNSEEN


def upper_bound(successes: int, n: int, z: float = Z) -> float:
    """Wilson score upper bound of a share (one-sided, ``z`` = 1.28: 90 %)."""
    if n == 0:
        return 1.0
    share = successes / n
    denominator = 1 + z * z / n
    centre = share + z * z / (2 * n)
    spread = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return min(1.0, (centre + spread) / denominator)


@dataclass(frozen=True)
class CalibrationPolicy:
    """The knobs, each bounded by ``Settings`` (``TIER1_*``)."""

    target: float = 0.99  # agreement to hold per shape
    floor: float = 0.90  # below it the shape is not answered until it recovers
    samples: int = 20  # outcomes at one margin before it is judged (the detection bound)
    relax_samples: int = 100  # outcomes at or above the target before the margin relaxes one step
    window: int = 100  # outcomes in the reported rolling agreement
    margin_step: float = 0.002  # share of the catalog per step
    margin_max: float = 0.05

    def __post_init__(self) -> None:
        if not 0.0 < self.floor <= self.target <= 1.0:
            raise ValueError("calibration needs 0 < floor <= target <= 1")
        if not 1 <= self.samples <= self.relax_samples:
            raise ValueError("calibration needs 1 <= samples <= relax_samples")
        if self.window < 1 or not 0.0 <= self.margin_step <= self.margin_max <= 1.0:
            raise ValueError("calibration needs window >= 1 and 0 <= margin_step <= margin_max <= 1")


@dataclass
class ShapeCalibration:
    recent: str = ""  # the last ``window`` outcomes, oldest first (AGREED / ORDER / UNSEEN)
    since: str = ""  # outcomes since the margin or suppression last changed
    margin: float = 0.0
    suppressed: bool = False
    checked: int = 0
    agreed: int = 0

    def agreement(self) -> float | None:
        return self.recent.count(AGREED) / len(self.recent) if self.recent else None


@dataclass
class Calibration:
    """Per-shape calibration state (JSON in the checkpoint store, read by every search container).

    A share is "below" a level when its Wilson upper bound is. Agreement of the last ``samples``
    checks below the floor suppresses the shape; order agreement (reorderings only) of the checks
    since the margin last moved (at least ``samples``) below the target tightens it one step; a
    suppressed shape recovers after ``relax_samples`` outcomes at or above the floor with order
    agreement at the target; the margin relaxes one step after ``relax_samples`` outcomes at the
    target.
    """

    policy: CalibrationPolicy = field(default_factory=CalibrationPolicy)
    shapes: dict[str, ShapeCalibration] = field(default_factory=dict)

    def shape(self, name: str) -> ShapeCalibration:
        return self.shapes.setdefault(name, ShapeCalibration())

    def margin(self, name: str) -> float:
        found = self.shapes.get(name)
        return 0.0 if found is None else min(found.margin, self.policy.margin_max)

    def suppressed(self, name: str) -> bool:
        found = self.shapes.get(name)
        return found is not None and found.suppressed

    def evidence_rate(self, name: str, rate: float) -> float:
        """The share of a shape's answers to check: all of them until it has ``samples`` outcomes
        since its last change (a rare shape would otherwise wait weeks for a verdict), then ``rate``."""
        found = self.shapes.get(name)
        return 1.0 if found is None or len(found.since) < self.policy.samples else rate

    def record(self, name: str, result: str) -> str | None:
        """Add one outcome; returns what changed (``tightened``, ``suppressed``, ``recovered``, ``relaxed``)."""
        policy = self.policy
        state = self.shape(name)
        state.checked += 1
        state.agreed += result == AGREED
        state.recent = (state.recent + result)[-policy.window :]
        state.since = (state.since + result)[-policy.relax_samples :]
        n = len(state.since)
        last = state.recent[-policy.samples :]
        # The floor looks at the last ``samples`` checks whatever changed before them (a drift is
        # caught within that many); the margin at the checks since it last moved.
        below_floor = len(last) == policy.samples and upper_bound(last.count(AGREED), len(last)) < policy.floor
        if n < policy.samples and not below_floor:
            return None
        agreed, in_order_n = state.since.count(AGREED), n - state.since.count(ORDER)
        agreement, in_order = agreed / n, in_order_n / n
        # Act on evidence, not on noise: a share is below a level only when even its upper
        # confidence bound is (20 checks at a true 94 % fall under 90 % one time in 8).
        reordered = n >= policy.samples and upper_bound(in_order_n, n) < policy.target
        change = None
        if below_floor and not state.suppressed:
            state.suppressed, change = True, "suppressed"
            if reordered:
                state.margin = min(policy.margin_max, state.margin + policy.margin_step)
        elif reordered and state.margin < policy.margin_max:
            state.margin = min(policy.margin_max, state.margin + policy.margin_step)
            change = "tightened"
        elif n >= policy.relax_samples and not below_floor and agreement >= policy.floor and in_order >= policy.target:
            if state.suppressed:
                state.suppressed, change = False, "recovered"
            elif state.margin > 0:
                state.margin = max(0.0, state.margin - policy.margin_step)
                change = "relaxed"
        if change is not None:
            state.since = ""
            log.warning("tier-1 calibration: %s %s (agreement %.3f, in order %.3f over %d; margin %.4f)",
                        name, change, agreement, in_order, n, state.margin)  # fmt: skip
        return change

    def overall(self) -> float | None:
        outcomes = "".join(s.recent for s in self.shapes.values())
        return outcomes.count(AGREED) / len(outcomes) if outcomes else None

    def to_dict(self) -> dict[str, Any]:
        return {"shapes": {name: asdict(state) for name, state in self.shapes.items()}}

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None, policy: CalibrationPolicy) -> Calibration:
        shapes = {}
        for name, state in ((raw or {}).get("shapes") or {}).items():
            known = {k: v for k, v in state.items() if k in ShapeCalibration.__dataclass_fields__}
            shapes[name] = ShapeCalibration(**known)
        return cls(policy, shapes)


class CalibrationView:
    """The search container's copy of the calibration, re-read at most every ``recheck_seconds``.

    A missing or unreadable state means no margin and nothing suppressed (tier 1 as built).
    """

    def __init__(self, store: CheckpointStore, policy: CalibrationPolicy, *, recheck_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):  # fmt: skip
        self._store = store
        self._policy = policy
        self._recheck = recheck_seconds
        self._clock = clock
        self._state = Calibration(policy)
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def current(self) -> Calibration:
        now = self._clock()
        if self._read_at is not None and now - self._read_at < self._recheck:
            return self._state
        with self._lock:
            if self._read_at is None or now - self._read_at >= self._recheck:
                self._read_at = now
                try:
                    self._state = Calibration.from_dict(self._store.load(CALIBRATION_STATE), self._policy)
                except CacheUnavailable as exc:
                    log.warning("tier-1 calibration not refreshed: %s", exc)
        return self._state


class CalibratedTier1:
    """The ``Tier1Search`` port: the index's answer at the calibrated margin, sampled for checking."""

    def __init__(
        self,
        index: Callable[[], Tier1Index | None],
        calibration: CalibrationView,
        queue: VerificationQueue,
        *,
        rate: float,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
        enabled: bool = True,
        correct_typos: bool = False,
    ):
        self._index = index
        self._calibration = calibration
        self._queue = queue
        self._rate = rate
        self._rng = rng
        self._clock = clock
        self._enabled = enabled
        self._correct_typos = correct_typos
        self._pending: list[PendingCheck] = []
        self._lock = threading.Lock()
        self.sampled = 0

    def answer(self, query: str, *, limit: int, offset: int) -> SearchPage | None:
        return self.assess(query, limit=limit, offset=offset)[1]

    def assess(self, query: str, *, limit: int, offset: int) -> tuple[str | None, SearchPage | None]:
        """(the query's shape, tier 1's page or None); the shape is None when the index is not asked.

        A page after the first is the same ranked list's, given when the first page would be
        (docs/design/pagination.md); only first pages are sampled for checking."""
        if not self._enabled:
            return None, None
        index = self._index()
        if index is None:
            return None, None
        q, ranked = index.ranked(query)
        corrected = None
        if not ranked and self._correct_typos and len(q) >= 4:  # nothing matches: a misspelling?
            from musicboxd.index.spelling import correct  # only loaded when a query matches nothing

            corrected = correct(index, q)
            if corrected is not None:
                q, ranked = index.ranked(corrected)
        searched = corrected is None and index.from_searched_page(q, ranked, limit=limit)
        shape = query_shape(query, ranked, corrected=corrected is not None, searched=searched)
        calibration = self._calibration.current()
        page = index.answer_ranked(q, ranked, limit=limit, margin=calibration.margin(shape))
        if page is None:
            return shape, None
        # A suppressed shape still gets its would-be answers checked: the request goes to Spotify
        # and caches its page, so the check usually costs no call at all. A shape without enough
        # evidence since its last change is checked at every answer (evidence_rate).
        if offset == 0 and self._rate > 0 and self._rng() < calibration.evidence_rate(shape, self._rate):
            self._enqueue(PendingCheck(query, shape, limit, tuple(a.id for a in page.items[:KEPT]), self._clock()))
        if offset:
            page = list_page(index, ranked, limit=limit, offset=offset)
        return shape, None if calibration.suppressed(shape) else page

    def _enqueue(self, check: PendingCheck) -> None:
        with self._lock:
            if len(self._pending) < MAX_BUFFERED:  # beyond: dropped, it is only a sample
                self._pending.append(check)
                self.sampled += 1

    def flush_checks(self) -> None:
        """Write the sampled checks (with the usage counters, after the response); never raises."""
        with self._lock:
            checks, self._pending = self._pending, []
        if not checks:
            return
        try:
            self._queue.put(checks)
        except CacheUnavailable as exc:  # a lost sample never fails anything
            log.warning("%d tier-1 checks not queued: %s", len(checks), exc)


@dataclass
class VerifyReport:
    checked: int = 0
    agreed: int = 0
    fetched: int = 0  # checks that needed Spotify (calls: see the job's call counter)
    from_cache: int = 0  # checks answered by a fresh cached page (no call)
    left: int = 0  # taken but not checked (budget, deadline): back in the queue
    stopped: str = ""  # why the run stopped early
    changes: dict[str, str] = field(default_factory=dict)
    by_shape: dict[str, list[int]] = field(default_factory=dict)  # shape -> [checked, agreed]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ShadowVerifier:
    """Drains pending checks within a Spotify call budget (the background share) and calibrates."""

    def __init__(
        self,
        queue: VerificationQueue,
        state: CheckpointStore,
        cache: AlbumCache,
        catalog: CatalogSource,
        policy: CalibrationPolicy,
        *,
        search_key: Callable[[str, int], str],
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
    ):
        self._queue = queue
        self._state = state
        self._cache = cache
        self._catalog = catalog
        self._policy = policy
        self._search_key = search_key
        self._ttl = ttl_seconds
        self._clock = clock

    def run(self, *, max_checks: int, remaining: Callable[[], float] = lambda: float("inf"),
            reserve_seconds: float = 5.0) -> tuple[VerifyReport, Calibration]:  # fmt: skip
        report = VerifyReport()
        calibration = Calibration.from_dict(self._state.load(CALIBRATION_STATE), self._policy)
        taken = self._queue.take(max_checks)
        done: list[str] = []
        for key, check in taken:
            if remaining() < reserve_seconds:
                report.stopped = "deadline"
                break
            try:
                spotify_ids, fetched = self._spotify_top(check)
            except RateLimited:  # background share used up or circuit closed: the rest waits
                report.stopped = "budget"
                break
            except Unavailable as exc:
                report.stopped = f"unavailable: {exc}"
                break
            report.fetched += fetched
            report.from_cache += not fetched
            result = outcome(check.tier1_ids, spotify_ids)
            agreed = result == AGREED
            report.checked += 1
            report.agreed += agreed
            counts = report.by_shape.setdefault(check.shape, [0, 0])
            counts[0] += 1
            counts[1] += agreed
            change = calibration.record(check.shape, result)
            if change is not None:
                report.changes[check.shape] = change
            done.append(key)
        report.left = len(taken) - len(done)
        if done:
            self._state.save(CALIBRATION_STATE, calibration.to_dict())
            self._queue.done(done)
        return report, calibration

    def _spotify_top(self, check: PendingCheck) -> tuple[list[str], bool]:
        """Spotify's first ids for the check's query: from the search cache when fresh, else one call
        (``limit`` as the user asked, so the page is cached under the key their next request reads)."""
        key = self._search_key(check.query, check.limit)
        try:
            cached = self._cache.get_search(key)
        except CacheUnavailable:
            cached = None
        # Only a page fetched after tier 1 answered says what Spotify answers now (the request's own
        # fetch for a suppressed shape, or an earlier check of the same query).
        if cached is not None and cached.fresh(self._clock()) and cached.expires_at - self._ttl >= check.at - 1:
            return [a.id for a in cached.page.items[:TOP]], False
        page = self._catalog.search_albums(check.query, limit=check.limit, offset=0)
        try:
            self._cache.put_search(key, page, ttl_seconds=self._ttl)
        except CacheUnavailable as exc:
            log.warning("verified page not cached: %s", exc)
        return [a.id for a in page.items[:TOP]], True
