"""Popularity order learnt from Spotify's own result pages (the populate sweep).

Development Mode hides ``popularity``, but a filter-only search (``year:2019``) is returned
in Spotify's popularity order, so a sweep of such lists tells us, per album:

* ``all_pos``: its position in ``year:<from>-<now>`` - the most popular albums overall
  (exact: at most 1,010 of them can be paged);
* ``year_pos``: its position among the albums of its release year (``year:Y``; exact for
  the first 1,010 of that year);
* ``hip_pos``: its position among the least popular albums of a year too big to page
  through (``year:Y tag:hipster``);
* ``est``: an estimate of its position in the whole catalog, for albums of different years
  (the quantile within its year, scaled to the catalog; the global list where known).

:func:`ordered` says whether the relative order of two albums is *known* - both read from one
list, or one from the top of a list the other belongs to but is not in - or, across years,
whether the estimates are far enough apart to trust (:data:`Z`). The index only answers
``/search`` when every tie it has to break in the top results is known this way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from musicboxd.models import AlbumSummary
from musicboxd.ports import SweepPage

# Across years, estimates must differ by Z standard errors (+ SLACK positions) before their
# order is trusted: a position among a year's n albums estimates a catalog quantile q with a
# standard error of sqrt(q (1 - q) / n), so a small year's estimate is rough.
Z = 1.5
SLACK = 50.0


@dataclass(frozen=True)
class Rank:
    year: int | None
    all_pos: int | None = None
    year_pos: int | None = None
    hip_pos: int | None = None
    est: float | None = None  # estimated position in the whole catalog (0 = most popular)
    err: float = 0.0  # its standard error, in positions

    @property
    def swept(self) -> bool:
        return self.all_pos is not None or self.year_pos is not None or self.hip_pos is not None


@dataclass
class Sweep:
    """What the sweep pages say: album summaries with their ranks, and each year's coverage."""

    ranks: dict[str, Rank]
    summaries: dict[str, AlbumSummary]
    catalog_size: int  # albums in the market, summed over the years swept
    year_totals: dict[int, int]
    year_read: dict[int, int]  # positions read per year (< total: the year is incomplete)
    all_read: int = 0

    def rank_of(self, summary: AlbumSummary) -> Rank:
        """An album's rank, or for one the sweep did not list, what its release year implies."""
        known = self.ranks.get(summary.id)
        if known is not None:
            return known
        year = year_of(summary)
        total, read = self.year_totals.get(year or -1), self.year_read.get(year or -1, 0)
        if year is None or not total or read >= total or not self.catalog_size:
            return Rank(year)
        # below the part of its year we read: somewhere in the tail
        tail = read / total * self.catalog_size
        return Rank(year, est=(tail + self.catalog_size) / 2)


def year_of(summary: AlbumSummary) -> int | None:
    year = (summary.release_date or "")[:4]
    return int(year) if year.isdigit() else None


def from_pages(pages: Iterable[SweepPage]) -> Sweep:
    lists: dict[str, dict[int, AlbumSummary]] = {}
    totals: dict[str, int] = {}
    for page in pages:
        positions = lists.setdefault(page.list_id, {})
        for i, album in enumerate(page.items):
            positions.setdefault(page.offset + i, album)
        if page.offset == 0 or page.list_id not in totals:
            totals[page.list_id] = page.total
    year_totals = {int(k[1:]): totals[k] for k in lists if k[:1] == "y" and k[1:].isdigit()}
    year_read = {int(k[1:]): _contiguous(lists[k]) for k in lists if k[:1] == "y" and k[1:].isdigit()}
    size = sum(year_totals.values()) or totals.get("all", 0)
    all_read = _contiguous(lists.get("all", {}))
    summaries: dict[str, AlbumSummary] = {}
    fields: dict[str, dict] = {}
    for p, album in sorted(lists.get("all", {}).items()):
        if p < all_read and album.id not in fields:
            fields[album.id] = {"all_pos": p, "est": float(p)}
            summaries[album.id] = album
    for list_id, positions in lists.items():
        kind, year_text = list_id[:1], list_id[1:]
        if kind not in "yh" or not year_text.isdigit():
            continue
        year = int(year_text)
        n = year_totals.get(year) or totals[list_id]
        hip_total = totals[list_id]
        read = _contiguous(positions)
        for p, album in positions.items():
            if p >= read:
                continue  # after a gap (a page missing): its position is not known
            f = fields.setdefault(album.id, {})
            summaries.setdefault(album.id, album)
            if kind == "y" and "year_pos" not in f:
                f["year_pos"] = p
                if "all_pos" not in f:
                    f["est"], f["err"] = _estimate((p + 0.5) / n, n, size, float(all_read))
            elif kind == "h" and "year_pos" not in f and "hip_pos" not in f and n:
                f["hip_pos"] = p
                floor = max(float(all_read), year_read.get(year, 0) / n * size)
                f["est"], f["err"] = _estimate((n - hip_total + p + 0.5) / n, n, size, floor)
    ranks = {aid: Rank(year_of(summaries[aid]), **f) for aid, f in fields.items()}
    return Sweep(ranks, summaries, size, year_totals, year_read, all_read)


def _estimate(q: float, n: int, size: int, floor: float) -> tuple[float, float]:
    q = min(max(q, 0.0), 1.0)
    return max(floor, q * size), math.sqrt(q * (1 - q) / n) * size


def _contiguous(positions: dict[int, AlbumSummary]) -> int:
    """How many positions from 0 were read without a gap."""
    n = 0
    while n in positions:
        n += 1
    return n


def ordered(a: Rank, b: Rank) -> bool:
    """True when the relative popularity of ``a`` and ``b`` is known (either way)."""
    if a.all_pos is not None and b.all_pos is not None:
        return True
    if a.all_pos is not None or b.all_pos is not None:
        other = b if a.all_pos is not None else a
        return other.est is not None  # the global list is the exact top of the years swept
    if a.year is not None and a.year == b.year:
        if a.year_pos is not None or b.year_pos is not None:
            return True  # one list, or one from the top of the year the other is below
        return a.hip_pos is not None and b.hip_pos is not None
    if a.est is None or b.est is None or not (a.swept and b.swept):
        return False
    return abs(a.est - b.est) > Z * math.hypot(a.err, b.err) + SLACK
