"""The per-container L1 in front of the DynamoDB cache: what it remembers, for how long, and what never."""

from __future__ import annotations

import pytest

from musicboxd.errors import CacheUnavailable
from musicboxd.models import SearchPage
from musicboxd.services.l1 import L1Cache
from tests.fakes import FakeClock, MemoryCache, make_album


class Monotonic:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def make(max_items=4, max_age=300.0):
    clock, mono = FakeClock(), Monotonic()
    inner = MemoryCache(clock)
    return L1Cache(inner, max_items=max_items, max_age=max_age, clock=clock, monotonic=mono), inner, clock, mono


def test_fresh_album_read_once_from_the_inner_cache():
    l1, inner, _, _ = make()
    album = make_album()
    inner.put_album(album, tier="searched", ttl_seconds=3600)
    assert l1.get_album(album.id).album == album
    assert l1.get_album(album.id).album == album
    assert inner.reads == 1 and l1.hits == 1


def test_writes_go_through_and_are_remembered():
    l1, inner, _, _ = make()
    album = make_album()
    l1.put_album(album, tier="searched", ttl_seconds=3600)
    l1.put_search("SEARCH#US#x|0:10", SearchPage(items=[album.summary()], total=1), ttl_seconds=3600)
    assert inner.writes == 2
    assert l1.get_album(album.id).album == album
    assert l1.get_search("SEARCH#US#x|0:10").page.total == 1
    assert inner.reads == 0


def test_items_expire_from_the_l1_when_they_expire_in_the_table():
    l1, inner, clock, _ = make()
    album = make_album()
    l1.put_album(album, tier="searched", ttl_seconds=60)
    clock.advance(61)
    cached = l1.get_album(album.id)
    assert cached is not None and not cached.fresh(clock())  # the inner (stale) copy, for the service to judge
    assert inner.reads == 1
    l1.get_album(album.id)
    assert inner.reads == 2  # an expired item is never remembered


def test_entries_are_re_read_after_max_age():
    l1, inner, _, mono = make(max_age=300)
    album = make_album()
    inner.put_album(album, tier="searched", ttl_seconds=86_400)
    l1.get_album(album.id)
    mono.t += 299
    l1.get_album(album.id)
    assert inner.reads == 1
    mono.t += 2
    l1.get_album(album.id)
    assert inner.reads == 2


def test_absent_and_negative_entries_are_not_remembered_and_put_missing_forgets():
    l1, inner, _, _ = make()
    assert l1.get_album("nope") is None
    assert l1.get_album("nope") is None
    assert inner.reads == 2
    album = make_album()
    l1.put_album(album, tier="searched", ttl_seconds=3600)
    l1.put_missing(album.id, ttl_seconds=60)  # the inner cache keeps the real album
    assert l1.get_album(album.id).album == album and inner.reads == 3
    inner.put_missing("gone", ttl_seconds=60)  # a negative entry: the service decides, every time
    assert l1.get_album("gone").album is None
    assert l1.get_album("gone").album is None
    assert inner.reads == 5


def test_least_recently_used_item_goes_first():
    l1, inner, _, _ = make(max_items=2)
    a, b, c = (make_album(album_id=f"{ch * 22}") for ch in "abc")
    for album in (a, b):
        l1.put_album(album, tier="searched", ttl_seconds=3600)
    l1.get_album(a.id)  # a is now the most recent
    l1.put_album(c, tier="searched", ttl_seconds=3600)  # evicts b
    l1.get_album(a.id)
    l1.get_album(c.id)
    assert inner.reads == 0
    l1.get_album(b.id)
    assert inner.reads == 1


def test_failed_write_leaves_the_l1_alone():
    l1, inner, _, _ = make()

    def broken(*args, **kwargs):
        raise CacheUnavailable("down")

    inner.put_album = broken
    album = make_album()
    with pytest.raises(CacheUnavailable):
        l1.put_album(album, tier="searched", ttl_seconds=3600)
    assert l1.get_album(album.id) is None


def test_disabled_with_zero_items():
    l1, inner, _, _ = make(max_items=0)
    album = make_album()
    l1.put_album(album, tier="searched", ttl_seconds=3600)
    l1.get_album(album.id)
    l1.get_album(album.id)
    assert inner.reads == 2


def test_other_attributes_reach_the_inner_cache():
    l1, inner, _, _ = make()
    assert l1.albums is inner.albums
