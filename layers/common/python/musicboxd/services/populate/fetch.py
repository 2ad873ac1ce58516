"""Fetch (populate's middle phase): album details of the candidates not fresh in the cache.

Extended mode asks ``/albums?ids=`` for 20 at a time, development mode one album per call;
the longest prefix that fits in the budget is fetched, the rest waits for the next run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

from musicboxd.errors import Forbidden, NotFound, Unavailable
from musicboxd.models import Album
from musicboxd.ports import TIER_POPULAR, PopularStore, PopulateCatalog
from musicboxd.services.populate.source import Stop
from musicboxd.services.populate.state import Candidate, RunState

BATCH = 20  # albums per progress batch (= one /albums?ids= call in extended mode)
TRACKS_IN_ALBUM = 50  # tracks embedded in an album object; more need /albums/{id}/tracks pages


class FetchHost(Protocol):
    catalog: PopulateCatalog
    store: PopularStore
    state: RunState
    cached_now: int
    log: Callable[[str, dict[str, Any]], None]
    clock: Callable[[], float]
    remaining: Callable[[], float]

    def check(self, phase: str) -> None: ...

    def calls(self) -> int: ...

    def guarded(self, write: Callable[..., None], *args: Any, **kwargs: Any) -> bool: ...

    def save(self) -> None: ...

    def emit(self, phase: str, done: int, total: int, source: str = "") -> None: ...


def fetch_candidates(
    host: FetchHost,
    *,
    budget: int,
    extended: bool,
    fresh_margin_seconds: int,
    popular_ttl_seconds: int,
    negative_ttl_seconds: int,
    reserve_seconds: float,
) -> None:
    state = host.state
    candidates = state.candidates

    def after_batch() -> None:
        host.save()
        host.emit("fetch", state.next, len(candidates))

    def fetch(todo: list[Candidate], upto: int) -> None:
        """Fetch ``todo`` and advance ``next`` to ``upto`` (skipped fresh ones included)."""
        sources = {candidate.album_id: candidate.source for candidate in todo}
        chunk = BATCH if extended else 1
        for start in range(0, len(todo), chunk):
            if start and host.remaining() < reserve_seconds:
                raise Stop("deadline")  # ``next`` already covers what this batch cached
            ids = [candidate.album_id for candidate in todo[start : start + chunk]]
            try:
                albums = host.catalog.get_albums(ids)
            except NotFound as exc:
                if len(ids) > 1:  # a batch answers null for unknown ids, never 404: treat as a failure
                    host.log("album batch failed; skipped", {"ids": ids, "error": str(exc)})
                    state.failed += len(ids)
                    continue
                albums = []
            except (Unavailable, Forbidden) as exc:
                host.log("album details failed; skipped", {"ids": ids, "error": str(exc)})
                state.failed += len(ids)
                continue
            found = {album.id for album in albums}
            for album in albums:
                put(album, sources.get(album.id, "unknown"))
            for missing in (album_id for album_id in ids if album_id not in found):
                state.missing += 1
                host.guarded(host.store.put_missing, missing, ttl_seconds=negative_ttl_seconds)
            # progress inside a batch is kept, so a 429 mid-batch loses nothing already cached
            last = todo[min(start + chunk, len(todo)) - 1].album_id
            state.next = max(state.next, _index_after(candidates, last, state.next))
        state.next = max(state.next, upto)

    def put(album: Album, source: str) -> None:
        if host.guarded(
            host.store.put_popular, album, tier=TIER_POPULAR, ttl_seconds=popular_ttl_seconds, source=source
        ):
            state.cached += 1
            state.by_source[source] = state.by_source.get(source, 0) + 1
            host.cached_now += 1

    while state.next < len(candidates):
        host.check("fetch")
        batch = candidates[state.next : state.next + BATCH]
        expiries = host.store.album_expiries([candidate.album_id for candidate in batch])
        fresh_until = host.clock() + fresh_margin_seconds
        todo = [candidate for candidate in batch if expiries.get(candidate.album_id, 0) <= fresh_until]
        state.skipped_fresh += len(batch) - len(todo)
        if not todo:
            state.next += len(batch)
            after_batch()
            continue
        affordable = _affordable(todo, budget - host.calls(), extended)
        if not affordable:
            raise Stop("budget")
        if len(affordable) < len(todo):
            # fetch what fits, then stop with the rest left for the next run
            fetch(affordable, _index_after(candidates, affordable[-1].album_id, state.next))
            raise Stop("budget")
        fetch(todo, state.next + len(batch))
        after_batch()


def _affordable(todo: list[Candidate], left: int, extended: bool) -> list[Candidate]:
    """The longest prefix of ``todo`` whose estimated calls fit in what is left of the budget."""
    out: list[Candidate] = []
    cost = 0
    for index, candidate in enumerate(todo):
        extra = _extra_track_pages(candidate.total_tracks)
        step = extra + ((1 if index % BATCH == 0 else 0) if extended else 1)
        if cost + step > left:
            break
        cost += step
        out.append(candidate)
    return out


def _extra_track_pages(total_tracks: int | None) -> int:
    if not total_tracks or total_tracks <= TRACKS_IN_ALBUM:
        return 0
    return math.ceil((total_tracks - TRACKS_IN_ALBUM) / TRACKS_IN_ALBUM)


def _index_after(candidates: list[Candidate], album_id: str, start: int) -> int:
    for index in range(start, len(candidates)):
        if candidates[index].album_id == album_id:
            return index + 1
    return start
