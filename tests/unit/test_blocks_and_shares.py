"""Finding 2 of issue 15: upstream pages fetched and cached in blocks; per-client and
per-class shares of the Spotify budget."""

import pytest

from musicboxd.errors import RateLimited
from musicboxd.models import AlbumSummary, SearchPage
from musicboxd.services.budget import SharedBudget, ShareLimiter
from musicboxd.services.catalog import CLASS_DEEP_PAGING, SearchService, block_starts
from tests.fakes import FakeCatalog, FakeClock, MemoryCache, make_album
from tests.unit.test_budget import MemoryBudgetStore

TOTAL = 1200


class PagedCatalog:
    """A query with TOTAL results; Spotify's page cap 10; records every call."""

    def __init__(self):
        self.calls: list[tuple[int, int]] = []

    def search_albums(self, query, *, limit, offset):
        assert limit <= 10
        self.calls.append((offset, limit))
        items = [summary(i) for i in range(offset, min(offset + limit, TOTAL))]
        return SearchPage(items=items, total=TOTAL)


def summary(position: int) -> AlbumSummary:
    return make_album(f"{position:022d}", name=f"Album {position}").summary()


def service(catalog, clock, **kwargs):
    return SearchService(MemoryCache(clock), catalog, market="US", ttl_seconds=3600, clock=clock, **kwargs)


def test_block_starts_cover_the_request_and_stay_within_spotifys_offsets():
    assert block_starts(0, 50, 10) == [0, 10, 20, 30, 40]
    assert block_starts(7, 13, 10) == [0, 10]
    assert block_starts(995, 50, 10) == [990, 1000]
    assert max(len(block_starts(offset, 50, 10)) for offset in range(0, 1001)) == 6


def test_limit_and_offset_variants_share_blocks_and_each_request_costs_few_calls():
    clock, catalog = FakeClock(), PagedCatalog()
    search = service(catalog, clock)
    first = search.search("love", limit=50, offset=0)
    assert [a.name for a in first.value.items] == [f"Album {i}" for i in range(50)]
    assert len(catalog.calls) == 5
    for limit, offset in [(20, 10), (13, 7), (1, 49), (50, 0), (5, 45)]:
        answer = search.search("love", limit=limit, offset=offset)
        assert answer.cache == "HIT"
        assert [a.name for a in answer.value.items] == [f"Album {i}" for i in range(offset, offset + limit)]
    assert len(catalog.calls) == 5
    for offset in range(0, 1001, 37):  # deep paging: never more than 6 upstream calls a request
        before = len(catalog.calls)
        search.search("love", limit=50, offset=offset)
        assert len(catalog.calls) - before <= 6


def test_the_end_of_the_results_stops_block_fetching():
    clock = FakeClock()
    catalog = FakeCatalog([make_album()])
    search = service(catalog, clock)
    assert search.search("homogenic", limit=50, offset=0).value.total == 1
    assert len(catalog.calls) == 1


def shares(clock):
    return ShareLimiter(
        lambda name, limit: MemoryBudgetStore(limit=limit, window=30, slice_s=5),
        budget=150,
        window_seconds=30,
        client_share=0.2,
        class_shares={CLASS_DEEP_PAGING: 0.3},
        clock=clock,
    )


def test_one_client_beyond_its_share_degrades_while_others_still_reach_spotify():
    clock, catalog = FakeClock(1_800_000_000.0), PagedCatalog()
    search = service(catalog, clock, shares=shares(clock))
    attacker_calls = 0
    for word in range(40):  # 40 first pages from one address: 30 reach Spotify
        try:
            search.search(f"attack {word}", limit=10, offset=0, client="127.0.0.2")
            attacker_calls += 1
        except RateLimited:
            pass
    assert attacker_calls == 30  # 20 % of 150
    answer = search.search("legit", limit=10, offset=0, client="127.0.0.1")
    assert answer.source == "spotify"
    clock.advance(20)
    with pytest.raises(RateLimited):  # a rolling window: 20 s later its 30 calls still count
        search.search("attack later", limit=10, offset=0, client="127.0.0.2")
    clock.advance(16)  # the window (plus its slice) has passed
    assert search.search("attack again", limit=10, offset=0, client="127.0.0.2").source == "spotify"


def test_deep_paging_has_its_own_share_and_first_pages_keep_theirs():
    clock, catalog = FakeClock(1_800_000_000.0), PagedCatalog()
    limiter = shares(clock)
    search = service(catalog, clock, shares=limiter)
    refused = 0
    for offset in range(10, 1000, 10):  # 99 deep blocks, from many clients
        try:
            search.search("deep", limit=10, offset=offset, client=f"10.0.0.{offset % 250}")
        except RateLimited:
            refused += 1
    assert 99 - refused == 45  # 30 % of 150
    assert search.search("first page", limit=10, offset=0, client="10.0.1.1").source == "spotify"


def test_a_stale_copy_answers_a_client_beyond_its_share():
    clock, catalog = FakeClock(1_800_000_000.0), PagedCatalog()
    search = SearchService(MemoryCache(clock), catalog, market="US", ttl_seconds=10, clock=clock, shares=shares(clock))
    search.search("kept", limit=10, offset=0, client="127.0.0.2")
    clock.advance(11)
    for word in range(29):
        search.search(f"other {word}", limit=10, offset=0, client="127.0.0.2")
    with pytest.raises(RateLimited):
        search.search("uncached", limit=10, offset=0, client="127.0.0.2")
    assert search.search("kept", limit=10, offset=0, client="127.0.0.2").source == "stale"


def test_a_caller_never_passes_its_share_however_many_containers_serve_it():
    clock = FakeClock(1_800_000_000.0)
    stores: dict[str, MemoryBudgetStore] = {}  # the shared table: one item per share, whichever container asks

    def store_for(name, limit):
        return stores.setdefault(name, MemoryBudgetStore(limit=limit, window=30, slice_s=5))

    containers = [
        ShareLimiter(store_for, budget=150, window_seconds=30, client_share=0.2, class_shares={}, clock=clock)
        for _ in range(10)
    ]
    granted = 0
    for call in range(200):  # a flood spread over every container, within one window
        granted += containers[call % 10].allow("127.0.0.2", "first_page")
        clock.advance(0.1)
    assert granted == 30  # 20 % of 150, not 30 + 10 containers x free calls
    assert containers[0].allow("127.0.0.1", "first_page")  # another caller still gets through


class BudgetedCatalog(PagedCatalog):
    """PagedCatalog behind the app-wide budget, as the Spotify adapter is (``interactive=False``: jobs' threshold)."""

    def __init__(self, budget, *, interactive):
        super().__init__()
        self._budget, self._interactive = budget, interactive

    def search_albums(self, query, *, limit, offset):
        if not self._budget.acquire(interactive=self._interactive):
            raise RateLimited(self._budget.retry_after(), message="shared budget exhausted")
        return super().search_albums(query, limit=limit, offset=offset)


@pytest.mark.parametrize("jobs_first", [True, False])
def test_deep_paging_and_jobs_together_never_take_the_first_pages_reserve(jobs_first):
    clock = FakeClock(1_800_000_000.0)
    app_wide = SharedBudget(
        MemoryBudgetStore(limit=150, background_fraction=0.5), name="spotify", local_limit=15, window_seconds=30,
        clock=clock,
    )  # fmt: skip
    limiter = ShareLimiter(
        lambda name, limit: MemoryBudgetStore(limit=limit, window=30, slice_s=5), budget=150, window_seconds=30,
        client_share=1.0, class_shares={CLASS_DEEP_PAGING: 0.6}, clock=clock,
    )  # fmt: skip
    search = SearchService(
        MemoryCache(clock), BudgetedCatalog(app_wide, interactive=True), market="US", ttl_seconds=3600, clock=clock,
        shares=limiter, deep_catalog=BudgetedCatalog(app_wide, interactive=False),
    )  # fmt: skip

    def jobs():  # populate/cleanup: the background threshold, 50 % of the window
        return sum(app_wide.acquire(interactive=False) for _ in range(150))

    def deep_paging():  # 60 % of the budget as its class share
        answered = 0
        for offset in range(10, 1000, 10):
            try:
                search.search("deep", limit=10, offset=offset, client=f"10.0.0.{offset % 250}")
                answered += 1
            except RateLimited:
                pass
        return answered

    spent = jobs() + deep_paging() if jobs_first else deep_paging() + jobs()
    assert spent == 75  # deep paging and jobs together: at most the background threshold
    first_pages = 0
    for word in range(100):  # first pages from many callers still reach Spotify: the other 75
        try:
            assert search.search(f"first {word}", limit=10, offset=0, client=f"10.0.1.{word}").source == "spotify"
            first_pages += 1
        except RateLimited:
            pass
    assert first_pages == 75
