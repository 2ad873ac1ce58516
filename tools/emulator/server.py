"""Offline Spotify Web API + MusicBrainz/Cover Art Archive emulator (stdlib HTTP server).

Run ``python -m tools.emulator`` (or ``make emulator``); in tests use ``start_emulator(port=0)``.
See the README section "Spotify emulator" for endpoints, variables and the ``/_emulator`` control
plane.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from tools.emulator.catalog import Album, Artist, Catalog, Track, image_hash, load_catalog
from tools.emulator.search import parse_query

RATE_WINDOW_S = 30.0
SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
ENDPOINT_KEYS = (
    "search",
    "album",
    "album_tracks",
    "albums",
    "artist",
    "playlist_items",
    "new_releases",
    "removed",
    "other",
)
_ID_RE = re.compile(r"^[0-9A-Za-z]{22}$")
_MARKET_RE = re.compile(r"^[A-Z]{2}$")
_UA_RE = re.compile(r"^\S+/\S+.*\(\s*\S.*\)")
_MBID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
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
DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Invalid access token",
    403: "Forbidden",
    404: "Resource not found",
    405: "Method not allowed",
    429: "API rate limit exceeded",
    500: "Server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
GRANT_TYPE_MESSAGE = "grant_type must be client_credentials, authorization_code or refresh_token"
DEV_MODE_MESSAGE = "This endpoint is not available for apps in Development Mode"
REMOVED_MESSAGE = "This endpoint is no longer available"


def _removed_kind(path: str) -> str | None:
    """'dev' for endpoints restricted in development mode only, 'all' for endpoints gone for new apps."""
    if re.fullmatch(r"/v1/playlists/[^/]+/tracks", path) or re.fullmatch(r"/v1/artists/[^/]+/top-tracks", path):
        return "dev"
    if (
        path == "/v1/browse/featured-playlists"
        or re.fullmatch(r"/v1/browse/categories/[^/]+/playlists", path)
        or re.fullmatch(r"/v1/artists/[^/]+/related-artists", path)
        or path.startswith(("/v1/recommendations", "/v1/audio-features", "/v1/audio-analysis"))
    ):
        return "all"
    return None


def endpoint_key(path: str) -> str:
    """The ``/_emulator/stats`` bucket of a ``/v1`` path (by path, whatever the mode)."""
    if path == "/v1/search":
        return "search"
    if path == "/v1/albums":
        return "albums"
    if path == "/v1/browse/new-releases":
        return "new_releases"
    if _removed_kind(path):
        return "removed"
    if re.fullmatch(r"/v1/albums/[^/]+", path):
        return "album"
    if re.fullmatch(r"/v1/albums/[^/]+/tracks", path):
        return "album_tracks"
    if re.fullmatch(r"/v1/artists/[^/]+", path):
        return "artist"
    if re.fullmatch(r"/v1/playlists/[^/]+/items", path):
        return "playlist_items"
    return "other"


# ---------------------------------------------------------------------------------------------
# Configuration and state


@dataclass(frozen=True)
class Config:
    mode: str = "development"
    rate_limit: int | None = None
    latency_ms: int = 0
    token_ttl: int = 3600
    client_id: str | None = None
    client_secret: str | None = None
    musicbrainz_rps: float = 1.0
    today: dt.date = dt.date(2026, 1, 1)
    ranking_drift: float = 0.0  # popularity noise (points) in search ranking; 0: Spotify's order unchanged
    ranking_drift_seed: int = 0

    @property
    def extended(self) -> bool:
        return self.mode == "extended"

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["today"] = self.today.isoformat()
        data["client_secret"] = "***" if self.client_secret else None
        return data


def _env_int(env: dict[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name, "").strip()
    if not raw or raw.lower() in ("off", "none", "0") and default is None:
        return default
    return int(raw)


def config_from_env(env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ if env is None else env)
    mode = env.get("EMULATOR_MODE", "").strip() or "development"
    if mode not in ("development", "extended"):
        raise ValueError(f"EMULATOR_MODE must be development or extended, got {mode!r}")
    today_raw = env.get("EMULATOR_TODAY", "").strip()
    return Config(
        mode=mode,
        rate_limit=_env_int(env, "EMULATOR_RATE_LIMIT", None),
        latency_ms=_env_int(env, "EMULATOR_LATENCY_MS", 0) or 0,
        token_ttl=_env_int(env, "EMULATOR_TOKEN_TTL", 3600) or 3600,
        client_id=env.get("EMULATOR_CLIENT_ID") or None,
        client_secret=env.get("EMULATOR_CLIENT_SECRET") or None,
        musicbrainz_rps=float(env.get("EMULATOR_MUSICBRAINZ_RPS", "").strip() or 1.0),
        today=dt.date.fromisoformat(today_raw) if today_raw else dt.date.today(),
        ranking_drift=float(env.get("EMULATOR_RANKING_DRIFT", "").strip() or 0.0),
        ranking_drift_seed=_env_int(env, "EMULATOR_RANKING_DRIFT_SEED", 0) or 0,
    )


@dataclass
class FaultRule:
    path: re.Pattern[str]
    method: str | None
    status: int
    retry_after: int | None
    has_retry_after: bool
    body: Any
    latency_ms: int
    times: int | None
    expires_at: float | None
    raw: dict[str, Any]

    def active(self, now: float) -> bool:
        return (self.times is None or self.times > 0) and (self.expires_at is None or now < self.expires_at)

    @classmethod
    def parse(cls, raw: dict[str, Any], now: float) -> FaultRule:
        if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
            raise ValueError("each rule needs a 'path' regex")
        pattern = re.compile(raw["path"])
        status = int(raw.get("status") or 0)
        if status and not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code (or 0 for latency only)")
        times = raw.get("times")
        duration = raw.get("duration_s")
        if times is not None and int(times) < 1:
            raise ValueError("times must be >= 1")
        if duration is not None and float(duration) <= 0:
            raise ValueError("duration_s must be > 0")
        latency = int(raw.get("latency_ms") or 0)
        if latency < 0:
            raise ValueError("latency_ms must be >= 0")
        retry_after = raw.get("retry_after")
        return cls(
            path=pattern,
            method=(raw.get("method") or None) and str(raw["method"]).upper(),
            status=status,
            retry_after=None if retry_after is None else int(retry_after),
            has_retry_after="retry_after" in raw,
            body=raw.get("body"),
            latency_ms=latency,
            times=None if times is None else int(times),
            expires_at=None if duration is None else now + float(duration),
            raw=raw,
        )

    def describe(self, now: float) -> dict[str, Any]:
        out = dict(self.raw)
        out["remaining_times"] = self.times
        out["remaining_s"] = None if self.expires_at is None else max(0.0, round(self.expires_at - now, 3))
        return out


class EmulatorState:
    """Mutable state shared by the request threads (guarded by ``lock``)."""

    def __init__(self, catalog: Catalog, config: Config):
        self.catalog = catalog
        self.startup_config = config
        self.config = config
        self.lock = threading.Lock()
        self.tokens: dict[str, float] = {}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.config = self.startup_config
            self.total = 0
            self.by_endpoint: dict[str, dict[str, int]] = {k: {} for k in ENDPOINT_KEYS}
            self.tokens_issued = 0
            self.musicbrainz = 0
            self.faults: list[FaultRule] = []
            self.window: deque[float] = deque()
            self.mb_last: dict[str, float] = {}

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "total": self.total,
                "by_endpoint": {k: dict(v) for k, v in self.by_endpoint.items()},
                "tokens_issued": self.tokens_issued,
                "musicbrainz": self.musicbrainz,
            }

    def count(self, kind: str, path: str, status: int) -> None:
        with self.lock:
            if kind == "spotify":
                self.total += 1
                bucket = self.by_endpoint[endpoint_key(path)]
                bucket[str(status)] = bucket.get(str(status), 0) + 1
            elif kind in ("musicbrainz", "coverart"):
                self.musicbrainz += 1
            elif kind == "token" and status == 200:
                self.tokens_issued += 1

    def match_fault(self, method: str, path: str) -> FaultRule | None:
        now = time.monotonic()
        with self.lock:
            self.faults = [r for r in self.faults if r.active(now)]
            for rule in self.faults:
                if rule.method and rule.method != method:
                    continue
                if not rule.path.search(path):
                    continue
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return None

    def take_rate_slot(self) -> int | None:
        """None if the request fits in the rolling window, else the Retry-After seconds."""
        limit = self.config.rate_limit
        if not limit:
            return None
        now = time.monotonic()
        with self.lock:
            while self.window and now - self.window[0] >= RATE_WINDOW_S:
                self.window.popleft()
            if len(self.window) >= limit:
                return max(1, math.ceil(self.window[0] + RATE_WINDOW_S - now))
            self.window.append(now)
        return None

    def issue_token(self) -> tuple[str, int]:
        ttl = self.config.token_ttl
        token = "BQ" + secrets.token_urlsafe(80)
        with self.lock:
            now = time.time()
            if len(self.tokens) > 10_000:
                self.tokens = {t: e for t, e in self.tokens.items() if e > now}
            self.tokens[token] = now + ttl
        return token, ttl

    def check_token(self, header: str | None) -> str | None:
        """None when valid, else the 401 message."""
        if not header:
            return "No token provided"
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "Only valid bearer authentication supported"
        expiry = self.tokens.get(token.strip())
        if expiry is None:
            return "Invalid access token"
        if time.time() >= expiry:
            return "The access token expired"
        return None

    def mb_throttled(self, user_agent: str) -> bool:
        rps = self.config.musicbrainz_rps
        if not rps or rps <= 0:
            return False
        now = time.monotonic()
        with self.lock:
            last = self.mb_last.get(user_agent)
            if last is not None and now - last < 1.0 / rps:
                return True
            self.mb_last[user_agent] = now
        return False


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def spotify_error(status: int, message: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "message": message or DEFAULT_MESSAGES.get(status) or HTTPStatus(status).phrase,
        }
    }


# ---------------------------------------------------------------------------------------------
# Object rendering (Spotify JSON shapes)


class Renderer:
    def __init__(self, catalog: Catalog, config: Config, base: str, market: str | None):
        self.catalog = catalog
        self.config = config
        self.base = base
        self.market = market
        self.ext = config.extended

    def images(self, kind: str, sid: str) -> list[dict[str, Any]]:
        h = image_hash(kind, sid)
        if kind == "album":
            prefixes = (("ab67616d0000b273", 640), ("ab67616d00001e02", 300), ("ab67616d00004851", 64))
        else:
            prefixes = (("ab6761610000e5eb", 640), ("ab67616100005174", 320), ("ab6761610000f178", 160))
        return [{"url": f"https://i.scdn.co/image/{p}{h}", "height": s, "width": s} for p, s in prefixes]

    def simple_artist(self, artist: Artist) -> dict[str, Any]:
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist.id}"},
            "href": f"{self.base}/v1/artists/{artist.id}",
            "id": artist.id,
            "name": artist.name,
            "type": "artist",
            "uri": f"spotify:artist:{artist.id}",
        }

    def artist(self, artist: Artist) -> dict[str, Any]:
        out = self.simple_artist(artist)
        out["genres"] = []
        out["images"] = self.images("artist", artist.id) if artist.index else []
        if self.ext:
            out["followers"] = {"href": None, "total": artist.followers}
            out["popularity"] = artist.popularity
        return dict(sorted(out.items()))

    def simple_album(self, album: Album) -> dict[str, Any]:
        date, precision = album.release(self.config.today)
        out: dict[str, Any] = {
            "album_type": album.album_type,
            "total_tracks": album.total_tracks,
        }
        if self.ext:
            out["available_markets"] = list(album.markets)
        out.update(
            {
                "external_urls": {"spotify": f"https://open.spotify.com/album/{album.id}"},
                "href": f"{self.base}/v1/albums/{album.id}",
                "id": album.id,
                "images": self.images("album", album.id),
                "name": album.name,
                "release_date": date,
                "release_date_precision": precision,
                "type": "album",
                "uri": f"spotify:album:{album.id}",
                "artists": [self.simple_artist(self.catalog.artists[i]) for i in album.artists],
            }
        )
        if self.market and self.market not in album.markets:
            out["restrictions"] = {"reason": "market"}
        return out

    def album(self, album: Album) -> dict[str, Any]:
        out = self.simple_album(album)
        year = album.release(self.config.today)[0][:4]
        label = album.label
        out["tracks"] = self.track_page(album, 0, 50)
        out["copyrights"] = [
            {"text": f"© {year} {label}", "type": "C"},
            {"text": f"℗ {year} {label}", "type": "P"},
        ]
        out["external_ids"] = {"upc": album.upc}
        out["genres"] = []
        if self.ext:
            out["label"] = label
            out["popularity"] = album.popularity
        return out

    def simple_track(self, track: Track, album: Album) -> dict[str, Any]:
        out: dict[str, Any] = {
            "artists": [self.simple_artist(self.catalog.artists[i]) for i in track.artists],
        }
        if self.ext:
            out["available_markets"] = list(album.markets)
        out.update(
            {
                "disc_number": track.disc_number,
                "duration_ms": track.duration_ms,
                "explicit": track.explicit,
                "external_urls": {"spotify": f"https://open.spotify.com/track/{track.id}"},
                "href": f"{self.base}/v1/tracks/{track.id}",
                "id": track.id,
                "name": track.name,
                "preview_url": None,
                "track_number": track.track_number,
                "type": "track",
                "uri": f"spotify:track:{track.id}",
                "is_local": False,
            }
        )
        if self.market:
            playable = self.market in album.markets
            out["is_playable"] = playable
            if not playable:
                out["restrictions"] = {"reason": "market"}
        return out

    def track(self, track: Track) -> dict[str, Any]:
        album = self.catalog.albums[track.album]
        out = self.simple_track(track, album)
        out["album"] = self.simple_album(album)
        out["external_ids"] = {"isrc": track.isrc}
        if self.ext:
            out["popularity"] = track.popularity
        return out

    def paging(
        self,
        path: str,
        params: dict[str, Any],
        items: list,
        offset: int,
        limit: int,
        total: int,
        cap: int | None = None,
    ) -> dict[str, Any]:
        def url(off: int) -> str:
            query = {**params, "offset": off, "limit": limit}
            if self.market and "market" not in query:
                query["market"] = self.market
            return f"{self.base}{path}?{urlencode(query, quote_via=quote)}"

        end = offset + limit
        has_next = end < total and (cap is None or end <= cap)
        return {
            "href": url(offset),
            "items": items,
            "limit": limit,
            "next": url(end) if has_next else None,
            "offset": offset,
            "previous": url(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }

    def track_page(self, album: Album, offset: int, limit: int) -> dict[str, Any]:
        tracks = self.catalog.tracks(album)
        items = [self.simple_track(t, album) for t in tracks[offset : offset + limit]]
        return self.paging(f"/v1/albums/{album.id}/tracks", {}, items, offset, limit, len(tracks))


# ---------------------------------------------------------------------------------------------
# Request handling


def _int_param(params: dict[str, str], name: str, default: int, lo: int, hi: int | None, message: str) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, message) from None
    if value < lo or (hi is not None and value > hi):
        raise ApiError(400, message)
    return value


def _check_id(raw: str) -> str:
    if not _ID_RE.match(raw):
        raise ApiError(400, "Invalid base62 id")
    return raw


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SpotifyEmulator/1.0"
    server: EmulatorServer

    # -- plumbing --------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            sys.stderr.write("emulator: " + (format % args) + "\n")

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        if body is None:
            payload = b""
        elif isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        # headers and body in one write (no Nagle/delayed-ACK stall on keep-alive connections)
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(payload)
        self.flush_headers()

    @property
    def base(self) -> str:
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        return f"http://{host}"

    def _dispatch(self, method: str) -> None:
        state = self.server.state
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        body = self._read_body()
        if path.startswith("/_emulator"):
            try:
                status, payload = self._control(method, path, params, body)
            except (ValueError, TypeError, KeyError, re.error) as exc:
                status, payload = 400, {"error": str(exc)}
            self._send(status, payload)
            return

        if path.startswith("/v1/") or path == "/v1":
            kind = "spotify"
        elif path == "/api/token":
            kind = "token"
        elif path.startswith("/ws/2/"):
            kind = "musicbrainz"
        elif path.startswith(("/release-group/", "/release/")):
            kind = "coverart"
        else:
            kind = "other"

        config = state.config
        latency = config.latency_ms
        rule = state.match_fault(method, path)
        if rule is not None:
            latency += rule.latency_ms
        status, payload, headers, ctype = 500, None, {}, "application/json; charset=utf-8"
        try:
            if rule is not None and rule.status:
                status, payload, headers = self._fault_response(rule, kind)
            elif kind == "spotify":
                status, payload, headers = self._spotify(method, path, params)
            elif kind == "token":
                status, payload = self._token(method, params, body)
            elif kind == "musicbrainz":
                status, payload, headers = self._musicbrainz(method, path, params)
            elif kind == "coverart":
                status, payload, headers = self._coverart(path)
                ctype = "text/plain; charset=utf-8"
            else:
                status, payload = 404, spotify_error(404, "Service not found")
        except ApiError as exc:
            status, headers = exc.status, exc.headers
            payload = {"error": exc.message} if kind == "musicbrainz" else spotify_error(exc.status, exc.message)
        except Exception as exc:  # pragma: no cover - a bug: answer 500 like an upstream failure
            status, payload = 500, spotify_error(500, f"Server error ({type(exc).__name__}: {exc})")
        state.count(kind, path, status)
        if latency > 0:
            time.sleep(latency / 1000.0)
        self._send(status, payload, headers, ctype)

    def _fault_response(self, rule: FaultRule, kind: str) -> tuple[int, Any, dict[str, str]]:
        status = rule.status
        headers: dict[str, str] = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = str(rule.retry_after)
        elif status == 429 and not rule.has_retry_after:
            headers["Retry-After"] = "1"
        if rule.body is not None:
            return status, rule.body, headers
        message = DEFAULT_MESSAGES.get(status) or HTTPStatus(status).phrase
        if kind == "token":
            return (
                status,
                {
                    "error": "server_error" if status >= 500 else "invalid_request",
                    "error_description": message,
                },
                headers,
            )
        if kind in ("musicbrainz", "coverart"):
            return status, {"error": MB_RATE_MESSAGE if status == 503 else message}, headers
        return status, spotify_error(status, message), headers

    # -- accounts ----------------------------------------------------------------------------------
    def _token(self, method: str, params: dict[str, str], body: bytes) -> tuple[int, Any]:
        if method != "POST":
            return 405, {"error": "invalid_request", "error_description": "Only POST is supported"}
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        form = {**params, **form}
        grant = form.get("grant_type")
        if not grant:
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": "grant_type parameter is missing",
            }
        if grant != "client_credentials":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": GRANT_TYPE_MESSAGE,
            }
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return 400, {"error": "invalid_client", "error_description": "Invalid client"}
            client_id, _, client_secret = decoded.partition(":")
        config = self.server.state.config
        if not client_id or (config.client_id and client_id != config.client_id):
            return 400, {"error": "invalid_client", "error_description": "Invalid client"}
        if not client_secret or (config.client_secret and client_secret != config.client_secret):
            return 400, {"error": "invalid_client", "error_description": "Invalid client secret"}
        token, ttl = self.server.state.issue_token()
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": ttl}

    # -- Spotify Web API -----------------------------------------------------------------------------
    def _spotify(self, method: str, path: str, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        problem = state.check_token(self.headers.get("Authorization"))
        if problem:
            return 401, spotify_error(401, problem), {"WWW-Authenticate": 'Bearer realm="spotify"'}
        retry = state.take_rate_slot()
        if retry is not None:
            return 429, spotify_error(429, "API rate limit exceeded"), {"Retry-After": str(retry)}
        config = state.config
        market = params.get("market") or None
        if market == "from_token":
            market = "US"
        if market is not None and not _MARKET_RE.match(market):
            raise ApiError(400, "Invalid market code")
        removed = _removed_kind(path)
        if removed == "all" or (removed == "dev" and not config.extended):
            raise ApiError(403, DEV_MODE_MESSAGE if removed == "dev" else REMOVED_MESSAGE)
        if method != "GET":
            raise ApiError(405, "Method not allowed")
        r = Renderer(state.catalog, config, self.base, market)
        parts = path.split("/")[2:]  # after /v1
        if parts == ["search"]:
            return 200, self._search(r, params), {}
        if parts[0] == "albums":
            if len(parts) == 1:
                return 200, self._albums_batch(r, params), {}
            album = self._album(parts[1])
            if len(parts) == 2:
                return 200, r.album(album), {}
            if len(parts) == 3 and parts[2] == "tracks":
                limit = _int_param(params, "limit", 20, 1, 50, "Invalid limit")
                offset = _int_param(params, "offset", 0, 0, None, "Invalid offset")
                return 200, r.track_page(album, offset, limit), {}
        if parts[0] == "artists" and len(parts) >= 2:
            artist = state.catalog.artist(_check_id(parts[1]))
            if artist is None:
                raise ApiError(404, "Resource not found")
            if len(parts) == 2:
                return 200, r.artist(artist), {}
            if parts[2:] == ["albums"]:
                return 200, self._artist_albums(r, artist, params), {}
            if parts[2:] == ["top-tracks"]:
                return 200, self._top_tracks(r, artist), {}
        if parts[0] == "playlists" and len(parts) == 3 and parts[2] in ("items", "tracks"):
            return 200, self._playlist_items(r, parts[1], params), {}
        if parts == ["browse", "new-releases"]:
            if not config.extended:
                raise ApiError(403, DEV_MODE_MESSAGE)
            return 200, self._new_releases(r, params), {}
        raise ApiError(404, "Service not found")

    def _album(self, raw_id: str) -> Album:
        album = self.server.state.catalog.album(_check_id(raw_id))
        if album is None:
            raise ApiError(404, "Resource not found")
        return album

    def _search(self, r: Renderer, params: dict[str, str]) -> dict[str, Any]:
        q = params.get("q", params.get("query", ""))
        if not q.strip():
            raise ApiError(400, "No search query")
        raw_type = params.get("type")
        if not raw_type:
            raise ApiError(400, "Missing parameter type")
        types = [t.strip() for t in raw_type.split(",") if t.strip()]
        for t in types:
            if t not in SEARCH_TYPES:
                raise ApiError(400, f"Bad search type field {t}")
        if not types:
            raise ApiError(400, "Missing parameter type")
        cap = 50 if r.ext else 10
        limit = _int_param(params, "limit", 20 if r.ext else 5, 1, cap, "Invalid limit")
        offset = _int_param(params, "offset", 0, 0, 1000, "Invalid offset")
        index = r.catalog.index
        query_params = {"query": q, "type": raw_type}
        if params.get("include_external"):
            query_params["include_external"] = params["include_external"]
        out: dict[str, Any] = {}
        for t in types:
            key = t + "s"
            if t == "album":
                config = r.config
                drift = {"drift": config.ranking_drift, "drift_seed": config.ranking_drift_seed}
                total, albums, _ = index.search(parse_query(q), config.today, offset, limit, r.market, **drift)
                items = [r.simple_album(a) for a in albums]
            elif t == "artist":
                total, idxs = index.search_artists(q, offset, limit)
                items = [r.artist(r.catalog.artists[i]) for i in idxs]
            else:  # not emulated: always empty
                total, items = 0, []
            out[key] = r.paging("/v1/search", query_params, items, offset, limit, total, cap=1000)
        return out

    def _albums_batch(self, r: Renderer, params: dict[str, str]) -> dict[str, Any]:
        if not r.ext:
            raise ApiError(403, DEV_MODE_MESSAGE)
        raw = params.get("ids", "")
        ids = [i.strip() for i in raw.split(",") if i.strip()]
        if not ids:
            raise ApiError(400, "Missing parameter ids")
        if len(ids) > 20:
            raise ApiError(400, "Too many ids requested")
        albums = []
        for i in ids:
            album = r.catalog.album(_check_id(i))
            albums.append(None if album is None else r.album(album))
        return {"albums": albums}

    def _artist_albums(self, r: Renderer, artist: Artist, params: dict[str, str]) -> dict[str, Any]:
        limit = _int_param(params, "limit", 20, 1, 50, "Invalid limit")
        offset = _int_param(params, "offset", 0, 0, None, "Invalid offset")
        groups_raw = params.get("include_groups") or "album,single,compilation,appears_on"
        groups = {g.strip() for g in groups_raw.split(",") if g.strip()}
        today = r.config.today
        albums = [r.catalog.albums[i] for i in artist.albums]
        rows = []
        for a in albums:
            group = a.album_type if a.artists[0] == artist.index else "appears_on"
            if group in groups and (not r.market or r.market in a.markets):
                rows.append((a, group))
        rows.sort(key=lambda ag: (ag[0].release_day(today), ag[0].id), reverse=True)
        items = []
        for a, group in rows[offset : offset + limit]:
            obj = r.simple_album(a)
            obj["album_group"] = group
            items.append(obj)
        query = {"include_groups": groups_raw} if params.get("include_groups") else {}
        return r.paging(f"/v1/artists/{artist.id}/albums", query, items, offset, limit, len(rows))

    def _top_tracks(self, r: Renderer, artist: Artist) -> dict[str, Any]:
        tracks = []
        for i in artist.albums[:50]:
            tracks.extend(r.catalog.tracks(i)[:3])
        tracks.sort(key=lambda t: (-t.popularity, t.id))
        return {"tracks": [r.track(t) for t in tracks[:10]]}

    def _playlist_items(self, r: Renderer, raw_id: str, params: dict[str, str]) -> dict[str, Any]:
        playlist = r.catalog.playlist(_check_id(raw_id))
        if playlist is None:
            raise ApiError(404, "Resource not found")
        limit = _int_param(params, "limit", 20, 1, 50, "Invalid limit")
        offset = _int_param(params, "offset", 0, 0, None, "Invalid offset")
        owner = {
            "external_urls": {"spotify": f"https://open.spotify.com/user/{playlist.owner_id}"},
            "href": f"{r.base}/v1/users/{playlist.owner_id}",
            "id": playlist.owner_id,
            "type": "user",
            "uri": f"spotify:user:{playlist.owner_id}",
        }
        items = []
        for pos in range(offset, min(offset + limit, len(playlist.items))):
            album_index, track_pos = playlist.items[pos]
            track = r.track(r.catalog.tracks(album_index)[track_pos])
            items.append(
                {
                    "added_at": playlist.added_at[pos],
                    "added_by": owner,
                    "is_local": False,
                    "item": track,
                    "track": track,
                }
            )
        return r.paging(f"/v1/playlists/{playlist.id}/items", {}, items, offset, limit, len(playlist.items))

    def _new_releases(self, r: Renderer, params: dict[str, str]) -> dict[str, Any]:
        limit = _int_param(params, "limit", 20, 1, 50, "Invalid limit")
        offset = _int_param(params, "offset", 0, 0, None, "Invalid offset")
        today = r.config.today
        idxs = r.catalog.index.new_releases(today, days=28)
        albums = sorted(
            (r.catalog.albums[i] for i in idxs),
            key=lambda a: (-a.release_day(today).toordinal(), -a.popularity, a.id),
        )[:100]
        items = [r.simple_album(a) for a in albums[offset : offset + limit]]
        return {"albums": r.paging("/v1/browse/new-releases", {}, items, offset, limit, len(albums))}

    # -- MusicBrainz and Cover Art Archive -------------------------------------------------------------
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

    def _coverart(self, path: str) -> tuple[int, Any, dict[str, str]]:
        m = re.fullmatch(r"/(release-group|release)/([0-9a-f-]{36})/front(?:-(250|500|1200))?", path)
        catalog = self.server.state.catalog
        album = None
        if m and _MBID_RE.match(m.group(2)):
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

    # -- control plane -----------------------------------------------------------------------------
    def _control(self, method: str, path: str, params: dict[str, str], body: bytes) -> tuple[int, Any]:
        state = self.server.state
        data = json.loads(body.decode() or "{}") if body else {}
        if path == "/_emulator/stats" and method == "GET":
            return 200, state.stats()
        if path == "/_emulator/health" and method == "GET":
            return 200, {
                "status": "ok",
                "seed": state.catalog.seed,
                "counts": state.catalog.counts(),
                "config": state.config.public(),
            }
        if path == "/_emulator/reset" and method == "POST":
            state.reset()
            return 200, {"status": "reset", "config": state.config.public()}
        if path == "/_emulator/faults":
            now = time.monotonic()
            if method == "POST":
                rules = data.get("rules")
                if not isinstance(rules, list):
                    raise ValueError('body must be {"rules": [...]}')
                parsed = [FaultRule.parse(r, now) for r in rules]
                with state.lock:
                    state.faults.extend(parsed)
            elif method == "DELETE":
                with state.lock:
                    state.faults.clear()
            elif method != "GET":
                return 405, {"error": "method not allowed"}
            with state.lock:
                return 200, {"rules": [r.describe(now) for r in state.faults if r.active(now)]}
        if path == "/_emulator/clock":
            if method == "POST":
                today = dt.date.fromisoformat(str(data["today"]))
                with state.lock:
                    state.config = replace(state.config, today=today)
            return 200, {"today": state.config.today.isoformat()}
        if path == "/_emulator/config":
            if method == "POST":
                changes: dict[str, Any] = {}
                for key, value in data.items():
                    if key == "mode":
                        if value not in ("development", "extended"):
                            raise ValueError("mode must be development or extended")
                        changes[key] = value
                    elif key == "rate_limit":
                        changes[key] = None if value in (None, 0) else int(value)
                    elif key in ("latency_ms", "token_ttl"):
                        if int(value) < 0:
                            raise ValueError(f"{key} must be >= 0")
                        changes[key] = int(value)
                    elif key in ("musicbrainz_rps", "ranking_drift"):
                        if float(value or 0) < 0:
                            raise ValueError(f"{key} must be >= 0")
                        changes[key] = float(value or 0)
                    elif key == "ranking_drift_seed":
                        changes[key] = int(value or 0)
                    elif key in ("client_id", "client_secret"):
                        changes[key] = value or None
                    elif key == "today":
                        changes[key] = dt.date.fromisoformat(str(value))
                    else:
                        raise ValueError(f"unknown config key {key!r}")
                with state.lock:
                    state.config = replace(state.config, **changes)
                    if "rate_limit" in changes:
                        state.window.clear()
            return 200, state.config.public()
        if path == "/_emulator/catalog/sample" and method == "GET":
            n = max(1, min(500, int(params.get("n") or 10)))
            return 200, state.catalog.sample(n, int(params.get("seed") or 0))
        return 404, {"error": f"unknown control endpoint {method} {path}"}


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: EmulatorState, verbose: bool = False):
        super().__init__(address, Handler)
        self.state = state
        self.verbose = verbose


# ---------------------------------------------------------------------------------------------
# Public API


class EmulatorHandle:
    """A running emulator: ``.url``, ``.stop()``; also a context manager."""

    def __init__(self, server: EmulatorServer, thread: threading.Thread, startup_s: float):
        self.server = server
        self.thread = thread
        self.startup_s = startup_s
        host, port = server.server_address[:2]
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"

    @property
    def state(self) -> EmulatorState:
        return self.server.state

    @property
    def catalog(self) -> Catalog:
        return self.server.state.catalog

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_OVERRIDE_KEYS = set(Config.__dataclass_fields__)


def build_state(seed: int | None = None, env: dict[str, str] | None = None, **overrides: Any) -> EmulatorState:
    env = dict(os.environ if env is None else env)
    config = config_from_env(env)
    unknown = set(overrides) - _OVERRIDE_KEYS
    if unknown:
        raise TypeError(f"unknown emulator settings: {sorted(unknown)}")
    if isinstance(overrides.get("today"), str):
        overrides["today"] = dt.date.fromisoformat(overrides["today"])
    config = replace(config, **overrides)
    if seed is None:
        seed = int(env.get("EMULATOR_SEED") or 2026)
    catalog = load_catalog(seed)
    catalog.index  # noqa: B018 - build the search index now, not on the first request
    return EmulatorState(catalog, config)


def start_emulator(
    port: int = 0,
    host: str = "127.0.0.1",
    *,
    seed: int | None = None,
    quiet: bool = False,
    verbose: bool = False,
    **overrides: Any,
) -> EmulatorHandle:
    """Start the emulator in a background thread and return its handle (prints the banner unless quiet).

    ``overrides`` are Config fields (``mode``, ``rate_limit``, ``latency_ms``, ``token_ttl``,
    ``client_id``, ``client_secret``, ``musicbrainz_rps``, ``today``); anything not given comes from
    the ``EMULATOR_*`` environment variables, then the defaults.
    """
    started = time.perf_counter()
    state = build_state(seed, **overrides)
    server = EmulatorServer((host, port), state, verbose=verbose)
    thread = threading.Thread(target=server.serve_forever, name="spotify-emulator", daemon=True)
    thread.start()
    handle = EmulatorHandle(server, thread, time.perf_counter() - started)
    if not quiet:
        print(banner(handle), flush=True)
    return handle


def banner(handle: EmulatorHandle) -> str:
    state = handle.state
    counts = state.catalog.counts()
    return (
        f"Spotify emulator listening on {handle.url} (seed {state.catalog.seed}, mode {state.config.mode}, "
        f"today {state.config.today.isoformat()})\n"
        f"  catalog: {counts['albums']} albums, {counts['artists']} artists, {counts['tracks']} tracks, "
        f"{counts['playlists']} playlists "
        f"(catalog {state.catalog.loaded_in:.2f}s, startup {handle.startup_s:.2f}s)\n"
        f"  rate limit: {state.config.rate_limit or 'off'} / 30 s, latency: {state.config.latency_ms} ms, "
        f"token ttl: {state.config.token_ttl} s"
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.emulator", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("EMULATOR_HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT") or 8790))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--mode", choices=("development", "extended"), default=None)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    overrides = {"mode": args.mode} if args.mode else {}
    handle = start_emulator(args.port, args.host, seed=args.seed, quiet=False, verbose=args.verbose, **overrides)

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and `kill` both stop it cleanly (also when started in the background, where SIGINT is ignored)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while handle.thread.is_alive():
            handle.thread.join(0.5)
    except KeyboardInterrupt:
        print("\nstopping emulator", flush=True)
    finally:
        handle.stop()
    return 0
