"""MusicBrainz: ``/ws/2/release-group`` search and lookup (User-Agent rule, 1 request/s)."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from tools.emulator.catalog import Album
from tools.emulator.errors import ApiError
from tools.emulator.search import parse_query

if TYPE_CHECKING:
    from email.message import Message

    from tools.emulator.server import EmulatorServer

_UA_RE = re.compile(r"^\S+/\S+.*\(\s*\S.*\)")
MBID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MB_RATE_MESSAGE = (
    "Your requests are exceeding the allowable rate limit. Please see "
    "http://musicbrainz.org/doc/XML_Web_Service/Rate_Limiting for more information."
)
MB_TYPE_IDS = {
    "Album": "f529b476-6e62-324f-b0aa-1f3e33d313fc",
    "Single": "d6038452-8ee0-3f68-affc-2de9a1ede0b9",
    "EP": "6d0c5bf6-7a33-3420-a519-44fc63eedebf",
}
MB_COMPILATION_ID = "dd2a21e1-0c00-3729-a7a0-de60b84eb5d1"
MB_OFFICIAL_ID = "4e304316-386d-3409-af2e-78857eec5cfe"


class MusicBrainzApi:
    """``/ws/2/*`` for the request handler."""

    server: EmulatorServer
    headers: Message

    def _musicbrainz(self, method: str, path: str, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        ua = self.headers.get("User-Agent") or ""
        if not _UA_RE.match(ua):
            return (
                403,
                {
                    "error": "Please provide a meaningful User-Agent: 'Application/version ( contact )'. "
                    "See https://musicbrainz.org/doc/MusicBrainz_API/Rate_Limiting"
                },
                {},
            )
        if state.mb_throttled(ua):
            return 503, {"error": MB_RATE_MESSAGE}, {"Retry-After": "1"}
        if method != "GET":
            raise ApiError(405, "Method not allowed")
        today = state.config.today
        catalog = state.catalog
        parts = path.split("/")[3:]  # after /ws/2
        if parts and parts[0] == "release-group" and len(parts) == 2:
            album = catalog.album_by_mbid.get(parts[1])
            if album is None:
                raise ApiError(404, "Not Found")
            return 200, self._release_group(album, None, today), {}
        if parts != ["release-group"]:
            raise ApiError(404, "Not Found")
        query = params.get("query", "").replace("\\", "")
        if not query.strip():
            raise ApiError(400, "Invalid query: the query parameter is required")
        try:
            limit = max(1, min(100, int(params.get("limit") or 25)))
            offset = max(0, int(params.get("offset") or 0))
        except ValueError:
            raise ApiError(400, "Invalid limit or offset") from None
        pq = parse_query(query)
        total, albums, tiers = catalog.index.search(pq, today, offset, limit)
        groups = [self._release_group(a, min(100, t), today) for a, t in zip(albums, tiers, strict=True)]
        created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"
        return 200, {"created": created, "count": total, "offset": offset, "release-groups": groups}, {}

    def _release_group(self, album: Album, score: int | None, today: dt.date) -> dict[str, Any]:
        catalog = self.server.state.catalog
        date, _ = album.release(today)
        credits = []
        for n, i in enumerate(album.artists):
            a = catalog.artists[i]
            credits.append(
                {
                    "name": a.name,
                    "joinphrase": " & " if n < len(album.artists) - 1 else "",
                    "artist": {"id": a.mbid, "name": a.name, "sort-name": a.sort_name},
                }
            )
        out: dict[str, Any] = {"id": album.mbid, "type-id": MB_TYPE_IDS[album.mb_type]}
        if score is not None:
            out["score"] = score
        out.update(
            {
                "primary-type-id": MB_TYPE_IDS[album.mb_type],
                "count": 1,
                "title": album.name,
                "first-release-date": date,
                "primary-type": album.mb_type,
                "artist-credit": credits,
                "releases": [
                    {
                        "id": album.release_mbid,
                        "status-id": MB_OFFICIAL_ID,
                        "title": album.name,
                        "status": "Official",
                    }
                ],
            }
        )
        if album.album_type == "compilation":
            out["secondary-types"] = ["Compilation"]
            out["secondary-type-ids"] = [MB_COMPILATION_ID]
        return out
