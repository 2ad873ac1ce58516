"""Sweep (populate's last phase): Spotify's own popularity order, page by page, for the tier-1 index.

Lists of filter-only searches (``year:<from>-<now>``, one probe page per year, then year ranges
a search can page through whole, and a big year's ``tag:hipster`` tail) are read into the sweep
store. Why these lists: docs/design/populate.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

from musicboxd.models import SearchPage
from musicboxd.ports import PopulateCatalog, SweepPage, SweepStore
from musicboxd.services.populate.source import MAX_OFFSET, SKIPPED, Stop

SAVE_EVERY = 10  # sweep pages between checkpoint saves (and at the end of every list)
HIPSTER_MAX_FACTOR = 4  # a big year's least popular are read only if it has <= 4x what a search pages


@dataclass(frozen=True)
class SweepList:
    list_id: str  # y<year>, y<first>-<last>, h<year> (hipster tail): the sweep store's list id
    query: str
    first_offset: int = 0
    probe: bool = False  # one page only, to learn the year's total


@dataclass(frozen=True)
class SweepState:
    lists: tuple[SweepList, ...]
    current: int = 0  # index into lists
    offset: int = 0
    pages: int = 0  # whole run
    albums: int = 0
    totals: dict[str, int] | None = None  # year -> albums Spotify counts for it (from the probes)
    grouped: bool = False  # the year ranges were appended after the probes

    @classmethod
    def first(cls, from_year: int, this_year: int) -> SweepState:
        """The global list, then one probe page per year, newest first."""
        first = min(from_year, this_year)
        lists = [SweepList(f"y{first}-{this_year}", f"year:{first}-{this_year}")]
        lists += [SweepList(f"y{year}", f"year:{year}", probe=True) for year in range(this_year, first - 1, -1)]
        return cls(lists=tuple(lists), totals={})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepState:
        lists = tuple(SweepList(**item) for item in data["lists"])
        return cls(**{**data, "lists": lists})


class SweepHost(Protocol):
    """What the sweep needs from the orchestrator."""

    catalog: PopulateCatalog
    log: Callable[[str, dict[str, Any]], None]
    clock: Callable[[], float]

    def check(self, phase: str) -> None: ...

    def guarded(self, write: Callable[..., None], *args: Any, **kwargs: Any) -> bool: ...

    def keep_sweep(self, state: SweepState) -> None: ...

    def save(self) -> None: ...

    def emit(self, phase: str, done: int, total: int, source: str = "") -> None: ...


def run_sweep(
    host: SweepHost, store: SweepStore, state: SweepState | None, *, from_year: int, limit: int, ttl_seconds: int
) -> None:
    """Read lists until all are done; raises ``Stop`` (state kept) when the run must end."""
    if state is None:
        state = SweepState.first(from_year, time.gmtime(host.clock()).tm_year)
        host.keep_sweep(state)
    totals = dict(state.totals or {})
    while True:
        if state.current >= len(state.lists):
            if state.grouped:
                return
            lists = state.lists + tuple(_sweep_groups(totals, MAX_OFFSET + limit, limit))
            offset = lists[state.current].first_offset if state.current < len(lists) else state.offset
            state = replace(state, lists=lists, grouped=True, offset=offset)
            host.keep_sweep(state)
            continue
        listed = state.lists[state.current]
        total = totals.get(listed.list_id[1:]) if listed.list_id[0] == "y" else None
        if total is not None and not listed.probe and state.offset >= total:
            state = _next_list(state, total)  # the probe already read the whole year
            host.keep_sweep(state)
            continue
        host.check("sweep")
        try:
            page = host.catalog.search_albums(listed.query, limit=limit, offset=state.offset)
        except SKIPPED as exc:
            host.log("sweep list unreadable; skipped", {"list": listed.list_id, "error": str(exc)})
            page = SearchPage(items=[], total=0)
        if page.items:
            stored = SweepPage(listed.list_id, state.offset, page.total, tuple(page.items))
            if not host.guarded(store.put_page, stored, ttl_seconds=ttl_seconds):
                raise Stop("cache_unavailable")  # resume this page next run rather than leave a hole
            state = replace(state, pages=state.pages + 1, albums=state.albums + len(page.items))
        state = replace(state, offset=state.offset + len(page.items))
        if listed.probe:
            totals[listed.list_id[1:]] = page.total
            state = replace(state, totals=dict(totals))
        if listed.probe or not page.items or state.offset >= page.total or state.offset > MAX_OFFSET:
            state = _next_list(state, page.total)
        elif state.pages % SAVE_EVERY:
            host.keep_sweep(state)
            continue  # a stop saves the checkpoint anyway; a crash re-reads at most a few pages
        host.keep_sweep(state)
        host.save()
        host.emit("sweep", state.current, len(state.lists), listed.list_id)


def _next_list(state: SweepState, total: int) -> SweepState:
    listed = state.lists[state.current]
    lists = state.lists
    if not listed.probe and "-" not in listed.list_id and state.offset < total <= HIPSTER_MAX_FACTOR * state.offset:
        # more albums that year than a search can page through: also read its least popular
        # (not for a year of millions, as on real Spotify: its bottom 1,000 would be noise)
        lists += (SweepList(f"h{listed.list_id[1:]}", f"{listed.query} tag:hipster"),)
    current = state.current + 1
    offset = lists[current].first_offset if current < len(lists) else 0
    return replace(state, lists=lists, current=current, offset=offset)


def _sweep_groups(totals: dict[str, int], cap: int, first_page: int) -> list[SweepList]:
    """Consecutive years, newest first, grouped into year ranges a search can page through whole.

    One list per range makes the order of albums of different years exact; a year bigger than
    ``cap`` stays alone and is continued after its probe page (its hipster list follows it).
    """
    years = sorted((int(year) for year in totals), reverse=True)
    lists: list[SweepList] = []
    group: list[int] = []
    size = 0

    def close() -> None:
        if len(group) == 1:  # continued after its probe page, stored under the same list id
            year = group[0]
            lists.append(SweepList(f"y{year}", f"year:{year}", min(first_page, totals[str(year)])))
        elif group:
            low, high = group[-1], group[0]
            lists.append(SweepList(f"y{low}-{high}", f"year:{low}-{high}"))

    for year in years:
        albums = totals[str(year)]
        if group and size + albums > cap:
            close()
            group, size = [], 0
        group.append(year)
        size += albums
    close()
    return lists
