"""Settings read from the environment once per container.

Deployed, the Spotify client id/secret come from SSM SecureString parameters whose
names are given by ``SPOTIFY_CLIENT_ID_PARAMETER``/``SPOTIFY_CLIENT_SECRET_PARAMETER``;
locally they are plain ``SPOTIFY_CLIENT_ID``/``SPOTIFY_CLIENT_SECRET``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

DAY = 86_400

# Attribute names shared with the CDK table definition (infra reads these constants).
PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"
KIND_INDEX = "by_kind_expiry"  # GSI: partition "kind", sort "expires_at"
KIND_ATTRIBUTE = "kind"


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    return default if not raw else raw not in ("0", "false", "no", "off")


def _csv(env: dict[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    return default if raw is None else tuple(p.strip() for p in raw.split(",") if p.strip())


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    spotify_api_url: str = "https://api.spotify.com/v1"
    spotify_accounts_url: str = "https://accounts.spotify.com/api/token"
    spotify_client_id: str = ""
    spotify_client_secret: str = ""
    spotify_client_id_parameter: str = ""
    spotify_client_secret_parameter: str = ""
    spotify_mode: str = "development"
    spotify_market: str = "US"
    musicbrainz_url: str = "https://musicbrainz.org"
    coverart_url: str = "https://coverartarchive.org"
    musicbrainz_user_agent: str = "Musicboxd/0.1 ( ops@musicboxd.example )"
    table_name: str = "musicboxd-cache"
    token_parameter: str = "/musicboxd/spotify/token"
    dynamodb_endpoint_url: str = ""
    ssm_endpoint_url: str = ""
    aws_region: str = "us-east-1"
    album_ttl_seconds: int = 30 * DAY
    search_ttl_seconds: int = 30 * DAY
    popular_ttl_seconds: int = 10 * DAY
    negative_ttl_seconds: int = 3600
    http_timeout_seconds: float = 2.0
    upstream_budget_seconds: float = 3.0
    rate_limit_per_window: int = 150
    rate_window_seconds: int = 30
    populate_call_budget: int = 2500  # one run: a development-mode sweep is ~1,900 calls
    # Resilience (issue 7): shared budget slices, background share, fail-open limiter, circuit.
    rate_slice_seconds: float = 5.0
    background_rate_fraction: float = 0.5
    local_rate_limit: int = 0  # per instance while DynamoDB is down; 0: rate_limit_per_window // 10
    quota_close_seconds: int = 3600
    musicbrainz_enabled: bool = True
    cache_only_max_items: int = 2000
    populate_playlists: tuple[str, ...] = field(default_factory=tuple)
    index_recheck_seconds: int = 300  # tier-1 index: look for a newer version at most this often
    tier1_search: bool = True  # answer confident /search queries from the tier-1 index
    # populate (weekly) / cleanup (daily) / usage analytics
    populate_sources: tuple[str, ...] = ("demand", "new_releases", "playlists")
    populate_period_seconds: int = 7 * DAY  # an album fresh for longer than this is skipped
    populate_max_per_source: int = 200  # candidate albums per source and run
    populate_top_queries: int = 20  # demand: most-asked queries searched again per run
    populate_sweep: bool = True  # read Spotify's popularity order year by year for the tier-1 index
    populate_sweep_from_year: int = 1950
    cleanup_call_budget: int = 50  # refresh-ahead Spotify calls per cleanup run
    usage_ttl_seconds: int = 35 * DAY  # hourly STATS# and daily DEMAND# counters
    cors_allow_origin: str = "*"  # the web app's origin when deployed
    http_max_age_seconds: int = 3600  # Cache-Control max-age of a fresh answer (browsers, apps)
    http_shared_max_age_seconds: int = DAY  # s-maxage of a fresh answer (CDN)
    http_degraded_max_age_seconds: int = 60  # max-age of a stale or fallback answer
    usage_flush_seconds: float = 10.0  # counters are written at most this often per container
    l1_cache_items: int = 512  # per-container in-memory L1 in front of DynamoDB (0: off)
    l1_cache_seconds: int = 300  # an L1 entry is re-read from DynamoDB after this long

    @property
    def search_page_cap(self) -> int:
        """Largest page Spotify's /search serves this app (Development Mode: 10)."""
        return 50 if self.spotify_mode == "extended" else 10

    @property
    def extended(self) -> bool:
        return self.spotify_mode == "extended"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ if env is None else env)
        mode = e.get("SPOTIFY_MODE", "development").strip().lower() or "development"
        if mode not in ("development", "extended"):
            raise ValueError(f"SPOTIFY_MODE must be development or extended, got {mode!r}")
        d = cls()
        return cls(
            spotify_api_url=e.get("SPOTIFY_API_URL", d.spotify_api_url).rstrip("/"),
            spotify_accounts_url=e.get("SPOTIFY_ACCOUNTS_URL", d.spotify_accounts_url),
            spotify_client_id=e.get("SPOTIFY_CLIENT_ID", ""),
            spotify_client_secret=e.get("SPOTIFY_CLIENT_SECRET", ""),
            spotify_client_id_parameter=e.get("SPOTIFY_CLIENT_ID_PARAMETER", ""),
            spotify_client_secret_parameter=e.get("SPOTIFY_CLIENT_SECRET_PARAMETER", ""),
            spotify_mode=mode,
            spotify_market=e.get("SPOTIFY_MARKET", d.spotify_market) or d.spotify_market,
            musicbrainz_url=e.get("MUSICBRAINZ_URL", d.musicbrainz_url).rstrip("/"),
            coverart_url=e.get("COVERART_URL", d.coverart_url).rstrip("/"),
            musicbrainz_user_agent=e.get("MUSICBRAINZ_USER_AGENT", d.musicbrainz_user_agent),
            table_name=e.get("TABLE_NAME", d.table_name),
            token_parameter=e.get("TOKEN_PARAMETER", d.token_parameter),
            dynamodb_endpoint_url=e.get("DYNAMODB_ENDPOINT_URL", e.get("AWS_ENDPOINT_URL", "")),
            ssm_endpoint_url=e.get("SSM_ENDPOINT_URL", e.get("AWS_ENDPOINT_URL", "")),
            aws_region=e.get("AWS_REGION", e.get("AWS_DEFAULT_REGION", d.aws_region)),
            album_ttl_seconds=_int(e, "ALBUM_TTL_SECONDS", d.album_ttl_seconds),
            search_ttl_seconds=_int(e, "SEARCH_TTL_SECONDS", d.search_ttl_seconds),
            popular_ttl_seconds=_int(e, "POPULAR_TTL_SECONDS", d.popular_ttl_seconds),
            negative_ttl_seconds=_int(e, "NEGATIVE_TTL_SECONDS", d.negative_ttl_seconds),
            http_timeout_seconds=_float(e, "HTTP_TIMEOUT_SECONDS", d.http_timeout_seconds),
            upstream_budget_seconds=_float(e, "UPSTREAM_BUDGET_SECONDS", d.upstream_budget_seconds),
            rate_limit_per_window=_int(e, "SPOTIFY_RATE_LIMIT", d.rate_limit_per_window),
            rate_window_seconds=_int(e, "SPOTIFY_RATE_WINDOW_SECONDS", d.rate_window_seconds),
            populate_call_budget=_int(e, "POPULATE_CALL_BUDGET", d.populate_call_budget),
            rate_slice_seconds=_float(e, "SPOTIFY_RATE_SLICE_SECONDS", d.rate_slice_seconds),
            background_rate_fraction=_float(e, "SPOTIFY_BACKGROUND_FRACTION", d.background_rate_fraction),
            local_rate_limit=_int(e, "SPOTIFY_LOCAL_RATE_LIMIT", d.local_rate_limit),
            quota_close_seconds=_int(e, "SPOTIFY_QUOTA_CLOSE_SECONDS", d.quota_close_seconds),
            musicbrainz_enabled=_bool(e, "MUSICBRAINZ_ENABLED", d.musicbrainz_enabled),
            cache_only_max_items=_int(e, "CACHE_ONLY_MAX_ITEMS", d.cache_only_max_items),
            index_recheck_seconds=_int(e, "INDEX_RECHECK_SECONDS", d.index_recheck_seconds),
            l1_cache_items=_int(e, "L1_CACHE_ITEMS", d.l1_cache_items),
            l1_cache_seconds=_int(e, "L1_CACHE_SECONDS", d.l1_cache_seconds),
            tier1_search=_bool(e, "TIER1_SEARCH", d.tier1_search),
            populate_playlists=_csv(e, "POPULATE_PLAYLISTS", d.populate_playlists),
            populate_sources=_csv(e, "POPULATE_SOURCES", d.populate_sources),
            populate_period_seconds=_int(e, "POPULATE_PERIOD_SECONDS", d.populate_period_seconds),
            populate_max_per_source=_int(e, "POPULATE_MAX_PER_SOURCE", d.populate_max_per_source),
            populate_top_queries=_int(e, "POPULATE_TOP_QUERIES", d.populate_top_queries),
            populate_sweep=_bool(e, "POPULATE_SWEEP", d.populate_sweep),
            populate_sweep_from_year=_int(e, "POPULATE_SWEEP_FROM_YEAR", d.populate_sweep_from_year),
            cleanup_call_budget=_int(e, "CLEANUP_CALL_BUDGET", d.cleanup_call_budget),
            usage_ttl_seconds=_int(e, "USAGE_TTL_SECONDS", d.usage_ttl_seconds),
            usage_flush_seconds=_float(e, "USAGE_FLUSH_SECONDS", d.usage_flush_seconds),
            cors_allow_origin=e.get("CORS_ALLOW_ORIGIN", d.cors_allow_origin) or d.cors_allow_origin,
            http_max_age_seconds=_int(e, "HTTP_MAX_AGE_SECONDS", d.http_max_age_seconds),
            http_shared_max_age_seconds=_int(e, "HTTP_SHARED_MAX_AGE_SECONDS", d.http_shared_max_age_seconds),
            http_degraded_max_age_seconds=_int(e, "HTTP_DEGRADED_MAX_AGE_SECONDS", d.http_degraded_max_age_seconds),
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The container's settings (read once)."""
    return Settings.from_env()
