"""Populate sources by name, in the order ``POPULATE_SOURCES`` lists them by default."""

SOURCE_NAMES: tuple[str, ...] = ("demand", "new_releases", "playlists")
