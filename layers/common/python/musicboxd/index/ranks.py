"""Popularity order learnt from Spotify's own result pages, the populate sweep (docs/design/tier1.md)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from musicboxd.models import AlbumSummary
from musicboxd.ports import SweepPage

# Across lists, estimates must differ by Z standard errors (+ SLACK positions) before their order
# is trusted: a position among a year's n albums estimates a catalog quantile q with a standard
# error of about sqrt(q (1 - q) / n), so a small year's estimate is rough.
Z = 1.5
SLACK = 50.0


@dataclass(frozen=True)
class Rank:
    year: int | None
    est: float | None = None  # estimated position in the whole catalog (0 = most popular)
    err: float = 0.0  # its standard error, in positions
    lists: tuple[tuple[str, int], ...] = ()  # (list id, position in it)


@lru_cache(maxsize=65536)
def span(list_id: str) -> tuple[str, int, int]:
    """``("y", lo, hi)`` for a top list, ``("h", lo, hi)`` for a least-popular list, ``("s", 0, 0)``
    for a run of equally matching albums in a cached search page (popularity order, no years)."""
    kind, years = list_id[:1], list_id[1:]
    if kind == "s":
        return kind, 0, 0
    lo, _, hi = years.partition("-")
    return kind, int(lo), int(hi or lo)


@dataclass
class Sweep:
    """What the sweep pages say: album summaries with their ranks, and each year's coverage."""

    ranks: dict[str, Rank]
    summaries: dict[str, AlbumSummary]
    catalog_size: int  # albums in the market, summed over the years swept
    year_totals: dict[int, int]
    year_read: dict[int, int]  # albums of the year found in some list (< total: the year is incomplete)

    def rank_of(self, summary: AlbumSummary) -> Rank:
        """An album's rank, or for one the sweep did not list, what its release year implies."""
        known = self.ranks.get(summary.id)
        if known is not None:
            return known
        year = year_of(summary)
        total, read = self.year_totals.get(year or -1), self.year_read.get(year or -1, 0)
        if year is None or not total or read >= total or not self.catalog_size:
            return Rank(year)
        # somewhere in the part of its year no list reached: the tail
        lo = read / total * self.catalog_size
        return Rank(year, est=(lo + self.catalog_size) / 2, err=(self.catalog_size - lo) / math.sqrt(12))


def year_of(summary: AlbumSummary) -> int | None:
    year = (summary.release_date or "")[:4]
    return int(year) if year.isdigit() else None


def from_pages(pages: Iterable[SweepPage]) -> Sweep:
    lists: dict[str, dict[int, AlbumSummary]] = {}
    totals: dict[str, int] = {}
    for page in pages:
        if page.list_id[:1] not in ("y", "h", "s"):
            continue
        positions = lists.setdefault(page.list_id, {})
        for i, album in enumerate(page.items):
            positions.setdefault(page.offset + i, album)
        if page.offset == 0 or page.list_id not in totals:
            totals[page.list_id] = page.total
    year_totals = {lo: totals[k] for k in lists if span(k)[0] == "y" and (lo := span(k)[1]) == span(k)[2]}
    size = sum(year_totals.values()) or max(totals.values(), default=0)
    summaries: dict[str, AlbumSummary] = {}
    member: dict[str, list[tuple[str, int]]] = {}
    for list_id, positions in lists.items():
        for p in range(_contiguous(positions)):  # after a gap (a page missing) positions are unknown
            album = positions[p]
            summaries.setdefault(album.id, album)
            member.setdefault(album.id, []).append((list_id, p))
    years = {album_id: year_of(album) for album_id, album in summaries.items()}
    seen_per_year: dict[int, int] = {}
    for album_id, memberships in member.items():
        year = years[album_id]
        if year is not None and any(span(k)[0] != "s" for k, _ in memberships):
            seen_per_year[year] = seen_per_year.get(year, 0) + 1
    sweep = Sweep({}, summaries, size, year_totals, seen_per_year)
    estimates = {}
    for album_id, memberships in member.items():
        estimates[album_id] = _estimate(memberships, totals, year_totals, size)
        if estimates[album_id][0] is None:  # only in search pages: what its release year implies
            tail = sweep.rank_of(summaries[album_id])
            estimates[album_id] = (tail.est, tail.err)
    _agree_with_lists(lists, years, estimates)
    for album_id, memberships in member.items():
        est, err = estimates[album_id]
        sweep.ranks[album_id] = Rank(years[album_id], est, err, tuple(sorted(memberships)))
    return sweep


def _agree_with_lists(lists, years, estimates, *, passes: int = 4) -> None:
    """Make the estimates respect every known order: rising along each list, and every album of a
    list's years that is not in its read part below all of it (estimates come from different
    lists, so they could otherwise contradict one)."""
    step = 1e-3
    by_year: dict[int, list[str]] = {}
    for album_id, year in years.items():
        if year is not None and album_id in estimates:
            by_year.setdefault(year, []).append(album_id)
    tops = [(span(k), [positions[p].id for p in range(_contiguous(positions))]) for k, positions in lists.items()]
    for _ in range(passes):
        changed = False
        for (kind, lo, hi), ids in tops:
            running = -math.inf
            for album_id in ids:
                est, err = estimates[album_id]
                if est is not None and est <= running:
                    estimates[album_id] = (running + step, err)
                    changed = True
                running = max(running, estimates[album_id][0] if estimates[album_id][0] is not None else running)
            if kind != "y" or running == -math.inf:
                continue
            inside = set(ids)
            for year in range(lo, hi + 1):
                for album_id in by_year.get(year, ()):
                    est, err = estimates[album_id]
                    if est is not None and est <= running and album_id not in inside:
                        estimates[album_id] = (running + step, err)
                        changed = True
        if not changed:
            return


def _estimate(memberships, totals, year_totals, size) -> tuple[float | None, float]:
    best: tuple[float, float] | None = None
    for list_id, p in memberships:
        kind, lo, hi = span(list_id)
        if kind == "s":
            continue
        if kind == "y":
            n = totals[list_id]
            q = (p + 0.5) / n
        else:  # the least popular of year lo: below the rest of that year
            n = year_totals.get(lo) or totals[list_id]
            q = (n - totals[list_id] + p + 0.5) / n
        if not n or not size:
            continue
        q = min(max(q, 0.0), 1.0)
        fpc = (size - n) / (size - 1) if size > 1 and n < size else 0.0
        candidate = (q * size, math.sqrt(q * (1 - q) / n * fpc) * size)
        if best is None or candidate[1] < best[1]:
            best = candidate
    return (None, 0.0) if best is None else best


def _contiguous(positions: dict[int, AlbumSummary]) -> int:
    """How many positions from 0 were read without a gap."""
    n = 0
    while n in positions:
        n += 1
    return n


def ordered(a: Rank, b: Rank) -> bool:
    """True when the relative popularity of ``a`` and ``b`` is known (either way) and their estimates,
    which the index sorts by, put them in that order."""
    for x, y in ((a, b), (b, a)):
        for list_id, pos in x.lists:
            kind, lo, hi = span(list_id)
            shared = next((p for other, p in y.lists if other == list_id), None)
            if shared is not None:
                return (pos < shared) == (_key(x) < _key(y))
            if kind == "y" and y.year is not None and lo <= y.year <= hi:
                return _key(x) < _key(y)  # x is in the top of y's years and y is not: y is below
    if a.est is None or b.est is None or not (a.lists and b.lists):
        return False
    return abs(a.est - b.est) > Z * math.hypot(a.err, b.err) + SLACK


def _key(rank: Rank) -> float:
    return math.inf if rank.est is None else rank.est
