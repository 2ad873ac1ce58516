"""Spotify Web API adapter (httpx + tenacity): the CatalogSource the services call first.

- one reused ``httpx.Client`` with explicit timeouts;
- retries with jitter on 5xx and transport errors, never past the request's deadline;
- 429 raises :class:`RateLimited` with ``Retry-After`` (never sleeps through it);
- 401 refreshes the shared token once and retries;
- a 200 whose body is not a JSON object is Unavailable (never a parser message to the client);
- the bearer token is only ever sent to Spotify's own origin (``next`` URLs included);
- Development Mode aware: search pages of at most 10 (extended: 50), no batch endpoint.
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from musicboxd.config import Settings
from musicboxd.errors import (
    BadUpstreamRequest,
    Forbidden,
    NotFound,
    RateLimited,
    Unavailable,
)
from musicboxd.models import Album, AlbumSummary, ArtistRef, SearchPage, Track
from musicboxd.ports import Deadline, RateBudget, Token

SPOTIFY_MAX_OFFSET = 1000
TRACKS_PAGE = 50
BATCH_ALBUMS = 20
MIN_CALL_SECONDS = 0.05  # below this much time left, do not start a call
DEFAULT_RETRY_AFTER = 30.0  # Spotify's window: a missing or unreadable header must not mean "retry now"
MAX_RETRY_AFTER = 86_400.0  # a day: beyond that the number is nonsense, not a plan

# (endpoint, status, seconds) after each upstream call, for metrics and usage stats.
CallObserver = Callable[[str, int, float], None]


class _StopAtDeadline(stop_base):
    """Stop retrying when the next (jittered) sleep plus a minimal call would overrun the deadline."""

    def __init__(self, deadline: Deadline):
        self._deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        upcoming = retry_state.upcoming_sleep or 0.0
        return self._deadline.remaining() <= upcoming + MIN_CALL_SECONDS


class _Transient(Exception):
    """A failure worth retrying (5xx, timeout, connection error)."""


class _Unauthorized(Exception):
    pass


# One pooled client per container for Spotify, its token endpoint and MusicBrainz: a request makes a
# few calls at most, so a handful of kept-alive connections serve it; connecting must be quick.
HTTP_CONNECT_TIMEOUT_SECONDS = 1.0
HTTP_MAX_CONNECTIONS = 20
HTTP_MAX_KEEPALIVE_CONNECTIONS = 10


def http_transport() -> httpx.HTTPTransport:
    """The container's connection pool (the limits above); closed after a SnapStart restore."""
    return httpx.HTTPTransport(
        limits=httpx.Limits(
            max_connections=HTTP_MAX_CONNECTIONS, max_keepalive_connections=HTTP_MAX_KEEPALIVE_CONNECTIONS
        )
    )


def http_client(timeout_seconds: float, user_agent: str, transport: httpx.HTTPTransport) -> httpx.Client:
    """The container's HTTP client over ``transport`` (``HTTP_TIMEOUT_SECONDS`` per read)."""
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout_seconds, connect=HTTP_CONNECT_TIMEOUT_SECONDS),
        headers={"User-Agent": user_agent},
    )


def _endpoint_name(path: str) -> str:
    # tools/emulator/state.endpoint_key names the same buckets on the emulator's side; it is kept
    # apart on purpose (the emulator shares no product code, so /stats is checked against it).
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts and parts[0] == "v1":
        parts = parts[1:]
    if not parts:
        return "other"
    if parts[0] == "search":
        return "search"
    if parts[0] == "albums":
        if len(parts) == 1:
            return "albums"
        return "album_tracks" if len(parts) > 2 else "album"
    if parts[0] == "artists":
        return "artist"
    if parts[0] == "playlists":
        return "playlist_items"
    if parts[0] == "browse":
        return "new_releases"
    return "other"


def _retry_after(response: httpx.Response) -> float:
    """Retry-After in seconds, clamped to [1 s, a day]; missing, NaN or unreadable: the window."""
    raw = response.headers.get("Retry-After", "")
    try:
        seconds = float(raw)
    except ValueError:
        return DEFAULT_RETRY_AFTER
    if math.isnan(seconds):
        return DEFAULT_RETRY_AFTER
    return min(MAX_RETRY_AFTER, max(1.0, seconds))


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The body of a 200, which must be a JSON object (a proxy's HTML page is an outage, not data)."""
    try:
        body = response.json()
    except ValueError as exc:
        raise Unavailable(
            f"Spotify answered 200 with a non-JSON body ({response.headers.get('content-type')})"
        ) from exc
    if not isinstance(body, dict):
        raise Unavailable("Spotify answered 200 with a JSON body that is not an object")
    return body


def same_origin(url: str, base: str) -> bool:
    """True when ``url`` has the scheme, host and port of ``base``."""
    target, origin = httpx.URL(url), httpx.URL(base)
    return (target.scheme, target.host, target.port) == (origin.scheme, origin.host, origin.port)


def _error_message(response: httpx.Response) -> tuple[str, str | None]:
    """(message, reason) from Spotify's ``{"error": {...}}`` or auth ``{"error", "error_description"}``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase, None
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return str(err.get("message", "")), err.get("reason") or body.get("reason")
    if isinstance(err, str):
        return str(body.get("error_description") or err), None
    return response.reason_phrase, None


# ----------------------------------------------------------------------------- mapping


def _artists(raw: list[dict[str, Any]] | None) -> list[ArtistRef]:
    return [
        ArtistRef(
            id=a.get("id") or "", name=a.get("name") or "", spotify_url=(a.get("external_urls") or {}).get("spotify")
        )
        for a in raw or []
        if a
    ]


def _image(images: list[dict[str, Any]] | None) -> str | None:
    if not images:
        return None
    # Spotify lists the widest first; prefer ~640 px for album pages.
    best = max(images, key=lambda i: i.get("width") or 0)
    return best.get("url")


def to_summary(raw: dict[str, Any]) -> AlbumSummary:
    artists = _artists(raw.get("artists"))
    return AlbumSummary(
        id=raw["id"],
        name=raw.get("name") or "",
        artists=artists,
        artist_name=", ".join(a.name for a in artists),
        release_date=raw.get("release_date"),
        release_date_precision=raw.get("release_date_precision"),
        total_tracks=raw.get("total_tracks") or 0,
        album_type=raw.get("album_type"),
        image_url=_image(raw.get("images")),
        spotify_url=(raw.get("external_urls") or {}).get("spotify"),
    )


def to_track(raw: dict[str, Any]) -> Track:
    return Track(
        id=raw.get("id"),
        name=raw.get("name") or "",
        track_number=raw.get("track_number") or 0,
        disc_number=raw.get("disc_number") or 1,
        duration_ms=raw.get("duration_ms") or 0,
        explicit=bool(raw.get("explicit")),
        artists=_artists(raw.get("artists")),
    )


def to_album(raw: dict[str, Any], tracks: list[dict[str, Any]]) -> Album:
    summary = to_summary(raw)
    mapped = [to_track(t) for t in tracks if t]
    return Album(
        **summary.model_dump(),
        tracks=mapped,
        total_duration_ms=sum(t.duration_ms for t in mapped),
        label=raw.get("label"),
        popularity=raw.get("popularity"),
    )


# ----------------------------------------------------------------------------- token


def fetch_token(
    http: httpx.Client, accounts_url: str, client_id: str, client_secret: str, *, now: float | None = None
) -> Token:
    """Client-credentials grant. Raises Unavailable on bad credentials or an unreachable server."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    try:
        response = http.post(
            accounts_url,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
    except httpx.HTTPError as exc:
        raise Unavailable(f"token endpoint unreachable: {type(exc).__name__}") from exc
    if response.status_code != 200:
        message, _ = _error_message(response)
        raise Unavailable(f"token request failed ({response.status_code}): {message}")
    body = _json_object(response)
    issued = time.time() if now is None else now
    try:
        return Token(access_token=str(body["access_token"]), expires_at=issued + float(body.get("expires_in", 3600)))
    except (KeyError, TypeError, ValueError) as exc:
        raise Unavailable("token endpoint answered without a usable token") from exc


# ----------------------------------------------------------------------------- client


class SpotifyCatalog:
    """CatalogSource over the Spotify Web API."""

    def __init__(
        self,
        settings: Settings,
        http: httpx.Client,
        token: Callable[[], str],
        invalidate_token: Callable[[str], None],
        *,
        deadline: Callable[[], Deadline],
        budget: RateBudget | None = None,
        observe: CallObserver | None = None,
        on_rate_limited: Callable[[RateLimited], None] | None = None,
        max_attempts: int = 3,
        interactive: bool = True,
    ):
        self._s = settings
        self._http = http
        self._token = token
        self._invalidate = invalidate_token
        self._deadline = deadline
        self._budget = budget
        self._observe = observe
        self._on_rate_limited = on_rate_limited
        self._max_attempts = max_attempts
        self._interactive = interactive

    # -- CatalogSource

    def search_albums(self, query: str, *, limit: int, offset: int) -> SearchPage:
        cap = self._s.search_page_cap
        items: list[AlbumSummary] = []
        total = 0
        position = offset
        while len(items) < limit and position <= SPOTIFY_MAX_OFFSET:
            want = min(cap, limit - len(items))
            data = self._get(
                "/search",
                {"q": query, "type": "album", "limit": want, "offset": position, "market": self._s.spotify_market},
            )
            page = data.get("albums") or {}
            total = int(page.get("total") or 0)
            batch = [to_summary(a) for a in page.get("items") or [] if a and a.get("id")]
            items.extend(batch)
            raw_count = len(page.get("items") or [])
            if not page.get("next") or raw_count < want:
                break
            position += raw_count
        return SearchPage(items=items[:limit], total=total)

    def get_album(self, album_id: str) -> Album:
        raw = self._get(f"/albums/{album_id}", {"market": self._s.spotify_market})
        return to_album(raw, self._all_tracks(album_id, raw.get("tracks") or {}))

    def get_albums(self, album_ids: list[str]) -> list[Album]:
        """Several albums: batch endpoint in Extended Quota Mode, one call each otherwise."""
        if not self._s.extended:
            return [self.get_album(i) for i in album_ids]
        albums: list[Album] = []
        for start in range(0, len(album_ids), BATCH_ALBUMS):
            chunk = album_ids[start : start + BATCH_ALBUMS]
            data = self._get("/albums", {"ids": ",".join(chunk), "market": self._s.spotify_market})
            for raw in data.get("albums") or []:
                if raw:
                    albums.append(to_album(raw, self._all_tracks(raw["id"], raw.get("tracks") or {})))
        return albums

    # -- other endpoints used by populate

    def search_raw(self, query: str, *, limit: int, offset: int) -> dict[str, Any]:
        return self._get(
            "/search",
            {"q": query, "type": "album", "limit": limit, "offset": offset, "market": self._s.spotify_market},
        )

    def get_json(self, path_or_url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._get(path_or_url, params)

    # -- plumbing

    def _all_tracks(self, album_id: str, first_page: dict[str, Any]) -> list[dict[str, Any]]:
        tracks = list(first_page.get("items") or [])
        next_url = first_page.get("next")
        if not first_page:
            page = self._get(f"/albums/{album_id}/tracks", {"limit": TRACKS_PAGE, "market": self._s.spotify_market})
            tracks, next_url = list(page.get("items") or []), page.get("next")
        while next_url:
            page = self._get(next_url, None)
            tracks.extend(page.get("items") or [])
            next_url = page.get("next")
        return tracks

    def _get(self, path_or_url: str, params: dict[str, Any] | None) -> dict[str, Any]:
        url = path_or_url if path_or_url.startswith("http") else f"{self._s.spotify_api_url}{path_or_url}"
        if not same_origin(url, self._s.spotify_api_url):  # e.g. a ``next`` URL pointing elsewhere
            raise Unavailable(f"refusing to send the Spotify token to {httpx.URL(url).host}")
        deadline = self._deadline()

        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts) | _StopAtDeadline(deadline),
            wait=wait_random_exponential(multiplier=0.1, max=1.0),
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        refreshed = False
        while True:
            try:
                return retrying(self._once, url, params, deadline)
            except _Unauthorized as exc:
                if refreshed:
                    raise Unavailable("Spotify rejected a freshly issued token") from exc
                refreshed = True
            except _Transient as exc:
                raise Unavailable(str(exc) or "Spotify unavailable") from exc

    def _once(self, url: str, params: dict[str, Any] | None, deadline: Deadline) -> dict[str, Any]:
        remaining = deadline.remaining()
        if remaining < MIN_CALL_SECONDS:
            raise Unavailable("no time left for an upstream call")
        if self._budget is not None and not self._budget.acquire(interactive=self._interactive):
            raise RateLimited(self._budget_retry_after(), message="shared Spotify budget exhausted")
        token = self._token()
        timeout = min(self._s.http_timeout_seconds, remaining)
        endpoint = _endpoint_name(httpx.URL(url).path)
        started = time.perf_counter()
        try:
            response = self._http.get(url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        except httpx.TimeoutException as exc:
            self._record(endpoint, 504, started)
            raise _Transient(f"Spotify timed out after {timeout:.2f}s") from exc
        except httpx.TransportError as exc:
            self._record(endpoint, 502, started)
            raise _Transient(f"Spotify unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        self._record(endpoint, status, started)
        if status == 200:
            return _json_object(response)
        message, reason = _error_message(response)
        if status == 401:
            self._invalidate(token)
            raise _Unauthorized(message)
        if status == 429:
            limited = RateLimited(
                _retry_after(response), quota=reason == "QUOTA_EXCEEDED", message=message or "rate limited"
            )
            if self._on_rate_limited is not None:
                self._on_rate_limited(limited)
            raise limited
        if status == 404:
            raise NotFound(message or "not found")
        if status == 403:
            raise Forbidden(message or "forbidden")
        if status == 400:
            raise BadUpstreamRequest(message or "bad request")
        if status >= 500:
            raise _Transient(f"Spotify {status}: {message}")
        raise Unavailable(f"unexpected Spotify status {status}: {message}")

    def _budget_retry_after(self) -> float:
        getter = getattr(self._budget, "retry_after", None)
        return float(getter()) if callable(getter) else float(self._s.rate_window_seconds)

    def _record(self, endpoint: str, status: int, started: float) -> None:
        if self._observe is not None:
            self._observe(endpoint, status, time.perf_counter() - started)
