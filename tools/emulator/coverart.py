"""Cover Art Archive: ``/release-group/{mbid}/front[-size]`` redirects to a deterministic image."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tools.emulator.catalog import image_hash
from tools.emulator.musicbrainz import MBID_RE

if TYPE_CHECKING:
    from tools.emulator.server import EmulatorServer


class CoverArtApi:
    """``/release-group/*`` and ``/release/*`` for the request handler."""

    server: EmulatorServer

    def _coverart(self, path: str) -> tuple[int, Any, dict[str, str]]:
        m = re.fullmatch(r"/(release-group|release)/([0-9a-f-]{36})/front(?:-(250|500|1200))?", path)
        catalog = self.server.state.catalog
        album = None
        if m and MBID_RE.match(m.group(2)):
            if m.group(1) == "release-group":
                album = catalog.album_by_mbid.get(m.group(2))
            else:
                album = next((a for a in catalog.albums if a.release_mbid == m.group(2)), None)
        if album is None:
            kind = m.group(1).replace("-", " ") if m else "release group"
            return 404, f"No cover art found for {kind} {m.group(2) if m else path}", {}
        size = m.group(3)
        image_id = int(image_hash("caa", album.id)[:10], 16)
        suffix = f"-{size}" if size else ""
        location = f"https://coverartarchive.org/release/{album.release_mbid}/{image_id}{suffix}.jpg"
        return 307, f"See: {location}", {"Location": location}
