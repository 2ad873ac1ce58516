"""Offline Spotify Web API + MusicBrainz emulator (a dev tool; never part of the Lambda layer).

Public API::

    from tools.emulator import load_catalog, start_emulator

    catalog = load_catalog(2026)            # deterministic catalog, lookups by id
    with start_emulator(port=0, mode="extended") as emu:
        print(emu.url)                      # http://127.0.0.1:<port>
"""

from tools.emulator.catalog import Catalog, load_catalog
from tools.emulator.server import EmulatorHandle, start_emulator

__all__ = ["Catalog", "EmulatorHandle", "load_catalog", "start_emulator"]
