"""Popularity order from sweep pages (musicboxd.index.ranks): positions, estimates, known orders."""

import pytest

from musicboxd.index import ranks
from musicboxd.index.ranks import Rank, ordered
from musicboxd.models import AlbumSummary
from musicboxd.ports import SweepPage


def album(n: int, year: int) -> AlbumSummary:
    return AlbumSummary(id=f"{n:022d}", name=f"A{n}", artists=[], artist_name="", release_date=f"{year}-01-01")


def pages(list_id, albums, total, size=2):
    return [SweepPage(list_id, o, total, tuple(albums[o : o + size])) for o in range(0, len(albums), size)]


def test_positions_totals_and_estimates():
    y1 = [album(i, 2001) for i in range(4)]  # a complete year of 4
    y2 = [album(10 + i, 2002) for i in range(4)]  # first 4 of a year of 8
    hip = [album(20, 2002), album(21, 2002)]  # its 2 least popular
    sweep = ranks.from_pages(
        pages("all", [y2[0], y1[0]], total=12) + pages("y2001", y1, 4) + pages("y2002", y2, 8) + pages("h2002", hip, 2)
    )
    assert sweep.catalog_size == 12 and sweep.year_totals == {2001: 4, 2002: 8} and sweep.year_read[2002] == 4
    r = sweep.ranks
    assert r[y2[0].id] == Rank(2002, all_pos=0, year_pos=0, est=0.0)
    assert r[y1[0].id].all_pos == 1 and r[y1[0].id].year_pos == 0
    assert r[y1[3].id].est == pytest.approx(3.5 / 4 * 12) and r[y1[3].id].err > 0
    assert r[y2[1].id].est == pytest.approx(max(2.0, 1.5 / 8 * 12))  # never above the global list
    assert r[hip[0].id].hip_pos == 0 and r[hip[0].id].est == pytest.approx(6.5 / 8 * 12)
    # an album of 2002 the sweep did not list sits in that year's unread tail; 2001 was read whole
    assert sweep.rank_of(album(99, 2002)).est == pytest.approx((4 / 8 * 12 + 12) / 2)
    assert sweep.rank_of(album(98, 2001)) == Rank(2001) and sweep.rank_of(album(97, 1970)) == Rank(1970)


def test_a_gap_in_a_list_hides_the_positions_after_it():
    y = [album(i, 2001) for i in range(6)]
    sweep = ranks.from_pages([SweepPage("y2001", 0, 6, tuple(y[:2])), SweepPage("y2001", 4, 6, tuple(y[4:]))])
    assert set(sweep.ranks) == {y[0].id, y[1].id} and sweep.year_read[2001] == 2


def test_known_orders():
    top = Rank(2001, all_pos=3, year_pos=1, est=3.0)
    a = Rank(2001, year_pos=5, est=900.0, err=40.0)
    b = Rank(2001, year_pos=9, est=950.0, err=40.0)
    hip1, hip2 = Rank(2001, hip_pos=1, est=5000.0, err=50.0), Rank(2001, hip_pos=2, est=5010.0, err=50.0)
    unknown_2001 = Rank(2001)
    assert ordered(a, b) and ordered(top, b) and ordered(a, hip1) and ordered(hip1, hip2)
    assert ordered(top, Rank(1999, year_pos=0, est=1200.0, err=10.0))
    assert not ordered(unknown_2001, hip1) and not ordered(top, Rank(None))  # nothing known about it
    near = Rank(1990, year_pos=2, est=1000.0, err=300.0)  # small year: a rough estimate
    far = Rank(1990, year_pos=0, est=100.0, err=30.0)
    assert not ordered(a, near) and ordered(far, Rank(2010, year_pos=400, est=8000.0, err=200.0))
