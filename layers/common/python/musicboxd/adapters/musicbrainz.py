"""MusicBrainz ``release-group`` search: the fallback when Spotify is rate-limiting or down.

- the real User-Agent MusicBrainz requires (``MUSICBRAINZ_USER_AGENT``: ``App/version ( contact )``);
- 1 request/s for the whole app, shared by every instance (a :class:`SharedBudget` over the
  same DynamoDB item scheme as Spotify's, limit 1 per rolling second); a 503 closes it briefly;
- never waits past the request's deadline, never raises: ``None`` means "try the next source";
- results carry the MBID in ``id`` and ``mbid`` (the API answers them with ``id`` null:
  ``/albums/{id}`` takes Spotify ids; ``api/schemas.SearchAlbum``),
  Cover Art Archive image URLs and no Spotify URL. The services never cache them (they must
  not mix with Spotify items or searches).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import httpx

from musicboxd.errors import RateLimited
from musicboxd.models import AlbumSummary, ArtistRef, SearchPage
from musicboxd.ports import Deadline, RateBudget

logger = logging.getLogger(__name__)

MIN_CALL_SECONDS = 0.1
# MusicBrainz's rule: at most 1 request/s for the whole app. The shared budget allows one call per
# 4 half-second slices of a 1.1 s window: consecutive calls are >= 1.5 s apart, so network jitter
# can never make two of them look closer than 1 s to MusicBrainz.
BUDGET_LIMIT = 1
BUDGET_WINDOW_SECONDS = 1.1
BUDGET_SLICE_SECONDS = 0.5
BUDGET_QUOTA_CLOSE_SECONDS = 60  # a MusicBrainz 503 closes the circuit this long
# 0: MusicBrainz is off while its budget store is down (N containers at 1/s each would be
# N requests/s to a service that allows one)
BUDGET_LOCAL_LIMIT = 0
MB_MAX_LIMIT = 100
_LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/&|])')


def lucene_escape(text: str) -> str:
    return _LUCENE_SPECIAL.sub(r"\\\1", text)


def _album_type(group: dict[str, Any]) -> str | None:
    if "Compilation" in (group.get("secondary-types") or []):
        return "compilation"
    primary = (group.get("primary-type") or "").lower()
    return {"album": "album", "single": "single", "ep": "single"}.get(primary, primary or None)


def to_summary(group: dict[str, Any], coverart_url: str) -> AlbumSummary:
    mbid = group["id"]
    credits = group.get("artist-credit") or []
    artists = []
    for c in credits:
        if isinstance(c, dict):
            artist = c.get("artist") or {}
            artists.append(ArtistRef(id=artist.get("id") or "", name=c.get("name") or artist.get("name") or ""))
    artist_name = "".join(f"{a.name}{c.get('joinphrase') or ''}" for a, c in zip(artists, credits, strict=False))
    date = group.get("first-release-date") or None
    precision = None
    if date:
        precision = {4: "year", 7: "month"}.get(len(date), "day")
    return AlbumSummary(
        id=mbid,
        mbid=mbid,
        name=group.get("title") or "",
        artists=artists,
        artist_name=artist_name or ", ".join(a.name for a in artists),
        release_date=date,
        release_date_precision=precision,
        total_tracks=0,
        album_type=_album_type(group),
        image_url=f"{coverart_url}/release-group/{mbid}/front-500",
        spotify_url=None,
    )


class MusicBrainzCatalog:
    """Search-only catalog over MusicBrainz (album pages need Spotify ids: not served from here)."""

    def __init__(
        self,
        base_url: str,
        coverart_url: str,
        user_agent: str,
        http: httpx.Client,
        *,
        deadline: Callable[[], Deadline],
        budget: RateBudget | None = None,
        on_rate_limited: Callable[[RateLimited], None] | None = None,
        timeout_seconds: float = 2.0,
    ):
        self._base = base_url.rstrip("/")
        self._coverart = coverart_url.rstrip("/")
        self._ua = user_agent
        self._http = http
        self._deadline = deadline
        self._budget = budget
        self._on_rate_limited = on_rate_limited
        self._timeout = timeout_seconds
        self.calls = 0

    def search(self, query: str, limit: int, offset: int) -> SearchPage | None:
        remaining = self._deadline().remaining()
        if remaining < MIN_CALL_SECONDS:
            return None
        if self._budget is not None and not self._budget.acquire(interactive=True):
            return None
        self.calls += 1
        try:
            response = self._http.get(
                f"{self._base}/ws/2/release-group",
                params={
                    "query": lucene_escape(query),
                    "fmt": "json",
                    "limit": min(limit, MB_MAX_LIMIT),
                    "offset": offset,
                },
                headers={"User-Agent": self._ua, "Accept": "application/json"},
                timeout=min(self._timeout, remaining),
            )
        except httpx.HTTPError as exc:
            logger.warning("MusicBrainz unreachable: %s", type(exc).__name__)
            return None
        if response.status_code in (429, 503):
            if self._on_rate_limited is not None:
                try:
                    retry = float(response.headers.get("Retry-After") or 1)
                except ValueError:
                    retry = 1.0
                self._on_rate_limited(RateLimited(retry, message="MusicBrainz rate limit"))
            return None
        if response.status_code != 200:
            logger.warning("MusicBrainz answered %s", response.status_code)
            return None
        try:
            body = response.json()
            groups = [g for g in body.get("release-groups") or [] if isinstance(g, dict) and g.get("id")]
            items = [to_summary(g, self._coverart) for g in groups][:limit]
            return SearchPage(items=items, total=int(body.get("count") or len(items)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("MusicBrainz answer not understood: %s", exc)
            return None
