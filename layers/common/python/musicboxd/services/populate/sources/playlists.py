"""Playlists: the albums of the tracks of the configured public playlists (``POPULATE_PLAYLISTS``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from musicboxd.services.populate.source import PAGE_EXTENDED, SKIPPED, SourceRun


@dataclass(frozen=True)
class PlaylistsState:
    index: int = 0  # the playlist being read, in POPULATE_PLAYLISTS order
    next_url: str | None = None  # Spotify's URL of its next page


class PlaylistsSource:
    state_type = PlaylistsState

    def start(self, run: SourceRun[PlaylistsState]) -> PlaylistsState:
        return PlaylistsState()

    def collect(self, run: SourceRun[PlaylistsState], state: PlaylistsState) -> None:
        playlists = run.options.playlists
        while state.index < len(playlists) and not run.full():
            run.check()
            playlist_id = playlists[state.index]
            data: dict[str, Any]
            try:
                if state.next_url:
                    data = run.catalog.get_json(state.next_url)
                else:
                    params = {"limit": PAGE_EXTENDED, "offset": 0, "market": run.options.market}
                    data = run.catalog.get_json(f"/playlists/{playlist_id}/items", params)
            except SKIPPED as exc:
                run.log("playlist unreadable; skipped", {"playlist": playlist_id, "error": str(exc)})
                data = {}
            for entry in data.get("items") or []:
                track = (entry or {}).get("item") or (entry or {}).get("track") or {}
                if track.get("type", "track") == "track" and not track.get("is_local"):
                    run.add_raw(track.get("album") or {})
            next_url = data.get("next")
            state = PlaylistsState(index=state.index + (0 if next_url else 1), next_url=next_url or None)
            run.page_read(state)


SOURCE = PlaylistsSource()
