"""Demand: the albums and queries users asked for most since the last run."""

from __future__ import annotations

from dataclasses import dataclass, replace

from musicboxd.errors import CacheUnavailable
from musicboxd.services.populate.source import SKIPPED_QUERY, SourceRun
from musicboxd.services.usage import DEMAND_ALBUM, DEMAND_QUERY, days_between


@dataclass(frozen=True)
class DemandState:
    queries: tuple[str, ...]  # the most-asked queries, searched again one by one
    next: int = 0


class DemandSource:
    state_type = DemandState

    def start(self, run: SourceRun[DemandState]) -> DemandState:
        counts: dict[str, int] = {}
        if run.demand is not None:
            try:
                counts = run.demand.top_demand(days_between(run.since, run.clock()))
            except CacheUnavailable as exc:
                run.log("demand counters unreadable; skipping demand", {"error": str(exc)})
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        albums = [key.removeprefix(DEMAND_ALBUM) for key, _ in ranked if key.startswith(DEMAND_ALBUM)]
        for album_id in albums[: run.options.max_per_source]:
            run.add(album_id)
        queries = [key.removeprefix(DEMAND_QUERY) for key, _ in ranked if key.startswith(DEMAND_QUERY)]
        state = DemandState(queries=tuple(queries[: run.options.top_queries]))
        run.save(state)
        return state

    def collect(self, run: SourceRun[DemandState], state: DemandState) -> None:
        while state.next < len(state.queries) and not run.full():
            run.check()
            query = state.queries[state.next]
            try:
                data = run.catalog.search_raw(query, limit=run.options.search_page, offset=0)
            except SKIPPED_QUERY as exc:  # a query Spotify rejects (400) must not fail every run
                run.log("demand query failed; skipped", {"query": query, "error": str(exc)})
                data = {}
            for raw in (data.get("albums") or {}).get("items") or []:
                run.add_raw(raw)
            state = replace(state, next=state.next + 1)
            run.page_read(state)


SOURCE = DemandSource()
