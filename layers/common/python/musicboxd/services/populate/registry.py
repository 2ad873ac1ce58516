"""Populate sources by name; a new source is a module under ``sources/`` plus one line here."""

from __future__ import annotations

from typing import Any

from musicboxd.services.populate.source import PopulateSource
from musicboxd.services.populate.sources import demand, new_releases, playlists

SOURCES: dict[str, PopulateSource[Any]] = {
    "demand": demand.SOURCE,
    "new_releases": new_releases.SOURCE,
    "playlists": playlists.SOURCE,
}


def source_names() -> tuple[str, ...]:
    """The names ``POPULATE_SOURCES`` may list (read when the setting is)."""
    return tuple(SOURCES)
