"""Configuration (``EMULATOR_*``) and the mutable state shared by the request threads."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from tools.emulator.catalog import Catalog
from tools.emulator.faults import FaultRule

RATE_WINDOW_S = 30.0
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


def removed_kind(path: str) -> str | None:
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
    """The ``/_emulator/stats`` bucket of a ``/v1`` path (by path, whatever the mode).

    Deliberately not shared with ``musicboxd.adapters.spotify._endpoint_name``: the emulator
    stands in for Spotify and counts what it was asked on its own, so the tests comparing the
    product's per-endpoint counts with these ones can fail when the product miscounts.
    """
    if path == "/v1/search":
        return "search"
    if path == "/v1/albums":
        return "albums"
    if path == "/v1/browse/new-releases":
        return "new_releases"
    if removed_kind(path):
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
