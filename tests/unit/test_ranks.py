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


Y1 = [album(i, 2001) for i in range(4)]  # a complete year of 4
Y2 = [album(10 + i, 2002) for i in range(4)]  # the first 4 of a year of 8
HIP = [album(20, 2002), album(21, 2002)]  # its 2 least popular


@pytest.fixture
def sweep():
    return ranks.from_pages(
        pages("y2001-2002", [Y2[0], Y1[0]], total=12)  # the global list, read in part
        + pages("y2001", Y1[:2], 4)
        + pages("y2002", Y2[:2], 8)  # one probe page per year
        + pages("y2002", Y2, 8)
        + pages("h2002", HIP, 2)
        + pages("y2001", Y1, 4)
    )


def test_positions_totals_and_estimates(sweep):
    assert sweep.catalog_size == 12 and sweep.year_totals == {2001: 4, 2002: 8}
    assert sweep.year_read == {2001: 4, 2002: 6}
    r = sweep.ranks
    assert r[Y2[0].id].lists == (("y2001-2002", 0), ("y2002", 0)) and r[Y2[0].id].est == pytest.approx(0.5)
    assert r[Y2[0].id].err == pytest.approx(0.0, abs=1e-9)  # the global list holds every album: exact
    assert r[Y1[3].id].est > r[Y1[2].id].est > r[Y1[1].id].est > r[Y1[0].id].est  # rising along each list
    assert r[Y1[1].id].est > r[Y1[0].id].est and r[Y2[1].id].est > 1.5  # below the global list's read part
    assert r[HIP[0].id].est > max(r[a.id].est for a in Y2)  # the least popular come last in their year
    # an album of 2002 no list reached sits in that year's tail; 2001 was read whole
    assert sweep.rank_of(album(99, 2002)).est == pytest.approx((6 / 8 * 12 + 12) / 2)
    assert sweep.rank_of(album(98, 2001)) == Rank(2001) and sweep.rank_of(album(97, 1970)) == Rank(1970)


def test_a_gap_in_a_list_hides_the_positions_after_it():
    y = [album(i, 2001) for i in range(6)]
    sweep = ranks.from_pages([SweepPage("y2001", 0, 6, tuple(y[:2])), SweepPage("y2001", 4, 6, tuple(y[4:]))])
    assert set(sweep.ranks) == {y[0].id, y[1].id} and sweep.year_read[2001] == 2


def test_known_orders(sweep):
    r = sweep.ranks
    assert ordered(r[Y1[0].id], r[Y1[3].id]) and ordered(r[HIP[0].id], r[HIP[1].id])
    assert ordered(r[Y2[0].id], r[Y1[2].id])  # Y2[0] is in the global list, Y1[2] (same years) is not
    assert ordered(r[Y2[3].id], r[HIP[0].id])  # the top of 2002 vs one of its least popular
    unknown = sweep.rank_of(album(99, 2002))
    assert ordered(r[Y2[1].id], unknown)  # the top list of 2002 holds Y2[1], not the unknown one
    assert not ordered(unknown, Rank(2002)) and not ordered(Rank(None), Rank(1999))
    # different lists, no list in common: estimates must be far apart for their errors
    a = Rank(2010, est=1000.0, err=300.0, lists=(("y2010", 5),))
    b = Rank(2011, est=1200.0, err=300.0, lists=(("y2011", 9),))
    c = Rank(2011, est=4000.0, err=300.0, lists=(("y2011", 90),))
    assert not ordered(a, b) and ordered(a, c)


def test_runs_of_equal_matches_in_search_pages_order_albums_of_any_year():
    old, new = album(1, 1990), album(2, 2020)
    sweep = ranks.from_pages(
        pages("y1990", [album(3, 1990), old], 2) + pages("y2020", [new, album(4, 2020)], 2)
        + [SweepPage("s0.7", 0, 2, (new, old))]  # a cached page ranked them so
    )  # fmt: skip
    a, b = sweep.ranks[old.id], sweep.ranks[new.id]
    assert ordered(a, b) and b.est < a.est  # the estimates follow the page's order
    seen_only = album(5, 1990)
    sweep = ranks.from_pages(pages("y1990", [old], 1) + [SweepPage("s1.7", 0, 2, (seen_only, old))])
    assert sweep.ranks[seen_only.id].lists == (("s1.7", 0),) and sweep.year_read == {1990: 1}
    # its year was read whole, so nothing estimates it: the index could not show it first
    assert not ordered(sweep.ranks[seen_only.id], sweep.ranks[old.id])
