"""Settings read from the environment once per container, each declared once.

A setting is one ``setting(...)`` line in ``Settings``: its environment variable, default
(which gives its type), bounds or choices. ``Settings.from_env`` is derived from those
declarations and rejects a value out of bounds with the variable's name in the message.
Deployed, the Spotify credentials come from SSM (``SPOTIFY_CLIENT_*_PARAMETER``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~2 ms of cold start; annotations only
    from typing import Any

DAY = 86_400

# Attribute names shared with the CDK table definition (infra reads these constants).
PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"
KIND_INDEX = "by_kind_expiry"  # GSI: partition "kind", sort "expires_at"
KIND_ATTRIBUTE = "kind"

_FALSE = ("0", "false", "no", "off")


def setting(
    env: str | tuple[str, ...],
    default: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None,
    clean: Callable[[str], str] | None = None,
    blank_is_default: bool = False,
    secret: bool = False,
) -> Any:
    """Declare one setting: ``env`` (alternative names after the first), default, bounds.

    ``choices`` may be a function (evaluated when the environment is read, so a registry is
    imported only then); for a comma-separated setting it applies to every item.
    """
    names = (env,) if isinstance(env, str) else env
    meta = {
        "env": names,
        "minimum": minimum,
        "maximum": maximum,
        "choices": choices,
        "clean": clean,
        "blank_is_default": blank_is_default,
    }
    return field(default=default, repr=not secret, metadata=meta)


def _no_trailing_slash(raw: str) -> str:
    return raw.rstrip("/")


def _populate_source_names() -> tuple[str, ...]:
    from musicboxd.services.populate.registry import source_names

    return source_names()


@dataclass(frozen=True)
class Settings:
    # -- Spotify
    spotify_api_url: str = setting("SPOTIFY_API_URL", "https://api.spotify.com/v1", clean=_no_trailing_slash)
    spotify_accounts_url: str = setting("SPOTIFY_ACCOUNTS_URL", "https://accounts.spotify.com/api/token")
    spotify_client_id: str = setting("SPOTIFY_CLIENT_ID", "", secret=True)
    spotify_client_secret: str = setting("SPOTIFY_CLIENT_SECRET", "", secret=True)
    spotify_client_id_parameter: str = setting("SPOTIFY_CLIENT_ID_PARAMETER", "")
    spotify_client_secret_parameter: str = setting("SPOTIFY_CLIENT_SECRET_PARAMETER", "")
    spotify_mode: str = setting(
        "SPOTIFY_MODE", "development", choices=("development", "extended"), clean=str.lower, blank_is_default=True
    )
    spotify_market: str = setting("SPOTIFY_MARKET", "US", blank_is_default=True)
    token_parameter: str = setting("TOKEN_PARAMETER", "/musicboxd/spotify/token")

    # -- MusicBrainz / Cover Art Archive (search fallback)
    musicbrainz_url: str = setting("MUSICBRAINZ_URL", "https://musicbrainz.org", clean=_no_trailing_slash)
    coverart_url: str = setting("COVERART_URL", "https://coverartarchive.org", clean=_no_trailing_slash)
    musicbrainz_user_agent: str = setting("MUSICBRAINZ_USER_AGENT", "Musicboxd/0.1 ( ops@musicboxd.example )")
    musicbrainz_enabled: bool = setting("MUSICBRAINZ_ENABLED", True)

    # -- AWS
    table_name: str = setting("TABLE_NAME", "musicboxd-cache")
    dynamodb_endpoint_url: str = setting(("DYNAMODB_ENDPOINT_URL", "AWS_ENDPOINT_URL"), "")
    ssm_endpoint_url: str = setting(("SSM_ENDPOINT_URL", "AWS_ENDPOINT_URL"), "")
    aws_region: str = setting(("AWS_REGION", "AWS_DEFAULT_REGION"), "us-east-1")

    # -- cache lifetimes
    album_ttl_seconds: int = setting("ALBUM_TTL_SECONDS", 30 * DAY, minimum=1)
    search_ttl_seconds: int = setting("SEARCH_TTL_SECONDS", 30 * DAY, minimum=1)
    popular_ttl_seconds: int = setting("POPULAR_TTL_SECONDS", 10 * DAY, minimum=1)
    negative_ttl_seconds: int = setting("NEGATIVE_TTL_SECONDS", 3600, minimum=1)
    l1_cache_items: int = setting("L1_CACHE_ITEMS", 512, minimum=0)  # per-container in-memory L1 (0: off)
    l1_cache_seconds: int = setting("L1_CACHE_SECONDS", 300, minimum=0)  # an L1 entry is re-read after this

    # -- request time
    http_timeout_seconds: float = setting("HTTP_TIMEOUT_SECONDS", 2.0, minimum=0.1, maximum=30)
    upstream_budget_seconds: float = setting("UPSTREAM_BUDGET_SECONDS", 3.0, minimum=0.1, maximum=30)
    cors_allow_origin: str = setting("CORS_ALLOW_ORIGIN", "*", blank_is_default=True)  # the web app's origin

    # -- HTTP caching of answers (Cache-Control; docs/design/http-caching.md)
    http_max_age_seconds: int = setting("HTTP_MAX_AGE_SECONDS", 3600, minimum=0)  # a fresh answer, any cache
    http_shared_max_age_seconds: int = setting("HTTP_SHARED_MAX_AGE_SECONDS", DAY, minimum=0)  # fresh, at a CDN
    http_degraded_max_age_seconds: int = setting("HTTP_DEGRADED_MAX_AGE_SECONDS", 60, minimum=0)  # stale/fallback
    # set by infra when CloudFront is in front: proves a request came through it (api/client_address.py)
    edge_origin_secret: str = setting("EDGE_ORIGIN_SECRET", "", secret=True)

    # -- shared Spotify rate budget, circuit, fallbacks (issue 7)
    rate_limit_per_window: int = setting("SPOTIFY_RATE_LIMIT", 150, minimum=1)
    rate_window_seconds: int = setting("SPOTIFY_RATE_WINDOW_SECONDS", 30, minimum=1)
    rate_slice_seconds: float = setting("SPOTIFY_RATE_SLICE_SECONDS", 5.0, minimum=0.1)
    background_rate_fraction: float = setting("SPOTIFY_BACKGROUND_FRACTION", 0.5, minimum=0, maximum=1)
    local_rate_limit: int = setting("SPOTIFY_LOCAL_RATE_LIMIT", 0, minimum=0)  # 0: the budget / lambda_concurrency
    # containers that may run at once (account quota or reserved concurrency): while the budget
    # store is down each one allows rate_limit_per_window / this, so all together stay within it
    lambda_concurrency: int = setting("LAMBDA_CONCURRENCY", 10, minimum=1)
    # fairness (issue 15): one caller's (source IP's) and deep paging's shares of the budget per window
    client_rate_share: float = setting("SPOTIFY_CLIENT_SHARE", 0.2, minimum=0.01, maximum=1)
    deep_paging_rate_share: float = setting("SPOTIFY_DEEP_PAGING_SHARE", 0.3, minimum=0.01, maximum=1)
    quota_close_seconds: int = setting("SPOTIFY_QUOTA_CLOSE_SECONDS", 3600, minimum=0)

    # -- tier-1 index
    index_recheck_seconds: int = setting("INDEX_RECHECK_SECONDS", 300, minimum=0)  # look for a newer index
    tier1_search: bool = setting("TIER1_SEARCH", True)  # answer confident /search queries from the index
    # Spotify's terms: no databases of Spotify Content beyond what is needed (docs/compliance.md)
    index_max_albums: int = setting("INDEX_MAX_ALBUMS", 50_000, minimum=10_000, maximum=50_000)
    # -- tier-1 verification and calibration (services/verification.py, docs/design/tier1-verification.md)
    tier1_verify_rate: float = setting("TIER1_VERIFY_RATE", 0.05, minimum=0, maximum=1)  # answers checked
    tier1_verify_batch: int = setting("TIER1_VERIFY_BATCH", 50, minimum=0, maximum=1000)  # checks per verify run
    tier1_verify_ttl_seconds: int = setting("TIER1_VERIFY_TTL_SECONDS", DAY, minimum=60)  # an unchecked one expires
    tier1_agreement_target: float = setting("TIER1_AGREEMENT_TARGET", 0.99, minimum=0.5, maximum=1)
    tier1_agreement_floor: float = setting("TIER1_AGREEMENT_FLOOR", 0.90, minimum=0.1, maximum=1)  # suppress below
    tier1_calibration_samples: int = setting("TIER1_CALIBRATION_SAMPLES", 20, minimum=5, maximum=1000)
    tier1_relax_samples: int = setting("TIER1_RELAX_SAMPLES", 100, minimum=5, maximum=10_000)
    tier1_margin_step: float = setting("TIER1_MARGIN_STEP", 0.002, minimum=0, maximum=0.1)  # share of the catalog
    tier1_margin_max: float = setting("TIER1_MARGIN_MAX", 0.05, minimum=0, maximum=0.5)
    tier1_calibration_recheck_seconds: int = setting("TIER1_CALIBRATION_RECHECK_SECONDS", 60, minimum=0)
    tier1_typo_correction: bool = setting("TIER1_TYPO_CORRECTION", False)  # for a Spotify that corrects typos

    # -- populate (weekly) and cleanup (daily)
    populate_call_budget: int = setting("POPULATE_CALL_BUDGET", 2500, minimum=0)  # a dev-mode sweep: ~1,900
    populate_sources: tuple[str, ...] = setting(
        "POPULATE_SOURCES", ("demand", "new_releases", "playlists"), choices=_populate_source_names
    )
    populate_playlists: tuple[str, ...] = setting("POPULATE_PLAYLISTS", ())
    populate_period_seconds: int = setting("POPULATE_PERIOD_SECONDS", 7 * DAY, minimum=0)  # fresher: skipped
    populate_max_per_source: int = setting("POPULATE_MAX_PER_SOURCE", 200, minimum=0)
    populate_top_queries: int = setting("POPULATE_TOP_QUERIES", 20, minimum=0)  # demand: queries searched again
    # Off unless a stage opts in (infra/stages.py, context popularity_sweep): ~1,948 calls per run in
    # Development Mode against the emulator, ~7,800 for a real catalog (docs/compliance.md).
    populate_sweep: bool = setting("POPULATE_SWEEP", False)  # Spotify's popularity order, year by year
    populate_sweep_from_year: int = setting("POPULATE_SWEEP_FROM_YEAR", 1950, minimum=1900, maximum=2100)
    cleanup_call_budget: int = setting("CLEANUP_CALL_BUDGET", 50, minimum=0)  # refresh-ahead calls per run
    # a 15-minute job waits this long for a DynamoDB answer (a request gives up after 2 s)
    job_dynamodb_read_timeout_seconds: float = setting(
        "JOB_DYNAMODB_READ_TIMEOUT_SECONDS", 30.0, minimum=1, maximum=300
    )

    # -- usage analytics
    usage_ttl_seconds: int = setting("USAGE_TTL_SECONDS", 35 * DAY, minimum=1)  # STATS# and DEMAND# counters
    usage_flush_seconds: float = setting("USAGE_FLUSH_SECONDS", 10.0, minimum=0)  # counters written this often
    demand_per_client_per_day: int = setting("DEMAND_PER_CLIENT_PER_DAY", 200, minimum=0)  # 0: no cap

    @property
    def search_page_cap(self) -> int:
        """Largest page Spotify's /search serves this app (Development Mode: 10)."""
        return 50 if self.spotify_mode == "extended" else 10

    @property
    def spotify_local_limit(self) -> int:
        """Spotify calls per window one container allows itself while the shared budget store is down."""
        return self.local_rate_limit or max(1, self.rate_limit_per_window // self.lambda_concurrency)

    @property
    def search_block_size(self) -> int:
        """Upstream search pages are fetched and cached in blocks of this many albums."""
        return self.search_page_cap

    @property
    def extended(self) -> bool:
        return self.spotify_mode == "extended"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Every declared setting read from ``env`` (default: ``os.environ``); raises ValueError on a bad value."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for declared in fields(cls):
            names = declared.metadata["env"]
            raw = next((source[name] for name in names if name in source), None)
            if raw is not None:
                values[declared.name] = _parse(declared.name, names[0], raw, declared.default, declared.metadata)
        return cls(**values)


def env_names() -> tuple[str, ...]:
    """Every environment variable ``Settings.from_env`` reads."""
    return tuple(name for declared in fields(Settings) for name in declared.metadata["env"])


def _parse(attribute: str, env: str, raw: str, default: Any, meta: Mapping[str, Any]) -> Any:
    """One environment value as the type of its default, checked against its bounds and choices."""
    text = raw.strip()
    if meta["clean"] is not None:
        text = meta["clean"](text)
    if isinstance(default, bool):
        return default if not text else text.lower() not in _FALSE
    if isinstance(default, tuple):
        value: Any = tuple(item.strip() for item in raw.split(",") if item.strip())
    elif isinstance(default, int | float):
        if not text:
            return default
        try:
            value = type(default)(text)
        except ValueError as exc:
            kind = "an integer" if isinstance(default, int) else "a number"
            raise ValueError(f"{env} must be {kind}, got {raw!r}") from exc
        if meta["minimum"] is not None and value < meta["minimum"]:
            raise ValueError(f"{env} must be at least {meta['minimum']}, got {value}")
        if meta["maximum"] is not None and value > meta["maximum"]:
            raise ValueError(f"{env} must be at most {meta['maximum']}, got {value}")
        return value
    else:
        value = default if not text and meta["blank_is_default"] else (text if meta["clean"] else raw)
    choices = meta["choices"]
    if choices is not None:
        allowed = choices() if callable(choices) else choices
        unknown = [item for item in (value if isinstance(value, tuple) else (value,)) if item not in allowed]
        if unknown:
            raise ValueError(f"{env} must be one of {', '.join(allowed)}; got {', '.join(map(repr, unknown))}")
    return value


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The container's settings (read once)."""
    return Settings.from_env()
