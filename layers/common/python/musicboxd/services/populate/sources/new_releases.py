"""New releases: ``/browse/new-releases`` in extended mode, then search ``tag:new``."""

from __future__ import annotations

from dataclasses import dataclass, replace

from musicboxd.services.populate.source import MAX_OFFSET, PAGE_EXTENDED, SKIPPED, SourceRun


@dataclass(frozen=True)
class NewReleasesState:
    browse: int = 0  # next offset of /browse/new-releases (extended mode)
    browse_done: bool = False
    search: int = 0  # next offset of search tag:new; -1 once exhausted


class NewReleasesSource:
    state_type = NewReleasesState

    def start(self, run: SourceRun[NewReleasesState]) -> NewReleasesState:
        return NewReleasesState()

    def collect(self, run: SourceRun[NewReleasesState], state: NewReleasesState) -> None:
        if run.options.extended:
            state = self._browse(run, state)
        limit = run.options.search_page
        while not run.full() and 0 <= state.search < MAX_OFFSET:
            run.check()
            try:
                data = run.catalog.search_raw("tag:new", limit=limit, offset=state.search)
            except SKIPPED as exc:
                run.log("search tag:new failed; source ends here", {"error": str(exc)})
                break
            page = data.get("albums") or {}
            items = page.get("items") or []
            for raw in items:
                run.add_raw(raw)
            state = replace(state, search=state.search + len(items))
            run.page_read(state)
            if not items or not page.get("next") or len(items) < limit:
                run.keep(replace(state, search=-1))  # exhausted
                break

    @staticmethod
    def _browse(run: SourceRun[NewReleasesState], state: NewReleasesState) -> NewReleasesState:
        while not state.browse_done and not run.full():
            run.check()
            try:
                data = run.catalog.get_json("/browse/new-releases", {"limit": PAGE_EXTENDED, "offset": state.browse})
            except SKIPPED as exc:
                run.log("new-releases unavailable; using search tag:new only", {"error": str(exc)})
                state = replace(state, browse_done=True)
                run.keep(state)
                break
            page = data.get("albums") or {}
            items = page.get("items") or []
            for raw in items:
                run.add_raw(raw)
            browse = state.browse + len(items)
            done = not items or not page.get("next") or browse >= MAX_OFFSET
            state = replace(state, browse=browse, browse_done=done)
            run.page_read(state)
        return state


SOURCE = NewReleasesSource()
