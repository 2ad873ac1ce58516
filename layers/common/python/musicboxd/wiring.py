"""Composition root: builds the real adapters from settings, lazily, once per container.

A cache hit never imports httpx (the Spotify client is built on the first miss), and
nothing here runs at import time. Tests replace the container with ``set_container``
(anything implementing ``musicboxd.container.Container``).
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any, TypeVar

from musicboxd import deadline
from musicboxd.config import Settings, settings
from musicboxd.container import Container
from musicboxd.ports import Telemetry

T = TypeVar("T")


class AppContainer:
    """The real adapters and services (implements ``Container`` and ``JobContainer``)."""

    def __init__(self, config: Settings, telemetry: Telemetry | None = None):
        self.settings = config
        self._telemetry = telemetry
        self._per_copy: list[Any] = []  # built parts with an after_restore() (SnapStart)

    def _renewed_after_restore(self, part: T) -> T:
        self._per_copy.append(part)
        return part

    def after_restore(self) -> None:
        """Renew what copies restored from one SnapStart snapshot must not share (musicboxd.snapstart):
        pooled connections, lease/probe holder ids, a stale token, the index check."""
        from musicboxd.adapters.aws import close_connections

        built = vars(self)  # cached parts live here: only what was built is renewed
        close_connections(*([self.model_client] if "model_client" in built else []))
        if "http_transport" in built:
            self.http_transport.close()  # the client stays usable: new connections on its next call
        for part in self._per_copy:
            part.after_restore()

    @cached_property
    def telemetry(self) -> Telemetry:
        from musicboxd.services.usage import FanoutTelemetry

        if self._telemetry is not None:
            return FanoutTelemetry(self._telemetry, self.usage)
        from musicboxd.adapters.powertools_metrics import PowertoolsTelemetry

        return FanoutTelemetry(PowertoolsTelemetry(), self.usage)

    @cached_property
    def usage(self):
        """Hourly usage + demand counters, buffered per request (flushed by the entry point)."""
        from musicboxd.services.usage import UsageRecorder

        return UsageRecorder(
            lambda: self.usage_store,
            on_error=_usage_error,
            flush_interval=self.settings.usage_flush_seconds,
            demand_per_client_per_day=self.settings.demand_per_client_per_day,
        )

    @cached_property
    def usage_store(self):
        from musicboxd.adapters.job_stores import DynamoUsage

        return DynamoUsage(self.model, ttl_seconds=self.settings.usage_ttl_seconds, client=self.dynamodb_writer)

    @cached_property
    def demand_reader(self):
        return self.usage_store

    @cached_property
    def album_store(self):
        from musicboxd.adapters.job_stores import DynamoAlbumStore

        return DynamoAlbumStore(self.job_model)

    @cached_property
    def checkpoints(self):
        from musicboxd.adapters.job_stores import DynamoCheckpoints

        return DynamoCheckpoints(self.job_model)

    @cached_property
    def maintenance(self):
        from musicboxd.adapters.job_stores import DynamoMaintenance

        return DynamoMaintenance(self.job_model)

    @property
    def job_lease(self):
        """A new holder per run (a run's lease is never re-entered by another run of this container)."""
        from musicboxd.adapters.dynamo import DynamoLease

        return DynamoLease(self.job_model)

    @cached_property
    def model(self):
        from musicboxd.adapters.dynamo import make_model

        return make_model(self.settings)

    @cached_property
    def job_model(self):
        """The same table for populate/cleanup: long read timeouts and retries (a 15-minute job)."""
        from musicboxd.adapters.dynamo import make_model

        return make_model(self.settings, job=True)

    @cached_property
    def cache(self):
        """The DynamoDB cache behind a per-container in-memory L1 for hot items (services/l1.py)."""
        from musicboxd.adapters.dynamo import DynamoCache

        # every call fits in the request's time left (a write gets deadline.WRITE_FLOOR_SECONDS)
        dynamo = DynamoCache(self.model, client=self.dynamodb_client, writer=self.dynamodb_writer)
        if self.settings.l1_cache_items <= 0:
            return dynamo
        from musicboxd.services.l1 import L1Cache

        return L1Cache(dynamo, max_items=self.settings.l1_cache_items, max_age=self.settings.l1_cache_seconds)

    @cached_property
    def model_client(self):
        """The PynamoDB model's own botocore client (no public handle: as in adapters/job_stores.py), built
        before a SnapStart snapshot and its pooled connections dropped after each restore."""
        return self.model._get_connection().connection.client

    @cached_property
    def http_transport(self):
        from musicboxd.adapters.spotify import http_transport

        return http_transport()

    @cached_property
    def http(self):
        from musicboxd import __version__
        from musicboxd.adapters.spotify import http_client

        return http_client(self.settings.http_timeout_seconds, f"Musicboxd/{__version__}", self.http_transport)

    @cached_property
    def lease(self):
        """This container's leases (one holder id per container, renewed in each SnapStart copy)."""
        from musicboxd.adapters.dynamo import DynamoLease

        return self._renewed_after_restore(DynamoLease(self.model, client=self.dynamodb_client))

    @cached_property
    def tokens(self):
        from musicboxd.adapters.spotify import fetch_token
        from musicboxd.adapters.ssm import CachedCredentials, SsmTokenStore, ssm_client
        from musicboxd.services.token import TokenProvider

        s = self.settings
        client = ssm_client(s.aws_region, s.ssm_endpoint_url, remaining=deadline.remaining)
        credentials = CachedCredentials(s, client)

        def fetch():
            cid, secret = credentials.get()
            return fetch_token(self.http, s.spotify_accounts_url, cid, secret)

        store = SsmTokenStore(client, s.token_parameter) if s.token_parameter else None
        return self._renewed_after_restore(TokenProvider(fetch, store, lease=self.lease, remaining=deadline.remaining))

    # -- resilience (issue 7): shared budgets + circuits, fallbacks

    @cached_property
    def dynamodb_client(self):
        from musicboxd.adapters.rate_budget import dynamodb_client

        return dynamodb_client(
            self.settings.aws_region, self.settings.dynamodb_endpoint_url, remaining=deadline.remaining
        )

    @cached_property
    def dynamodb_writer(self):
        """``dynamodb_client`` for cache and counter writes: one short attempt even past the budget.

        One attempt also because counters are ``ADD``s: a retry after a read timeout whose first
        attempt DynamoDB had applied would count the whole flush twice."""
        from musicboxd.adapters.rate_budget import dynamodb_client

        s = self.settings
        return dynamodb_client(
            s.aws_region, s.dynamodb_endpoint_url, remaining=deadline.remaining_for_writes, max_attempts=1
        )

    @cached_property
    def spotify_budget(self):
        """App-wide Spotify budget + 429 circuit (jobs and deep paging: ``acquire(interactive=False)``)."""
        from musicboxd.adapters.rate_budget import DynamoBudgetStore
        from musicboxd.services.budget import SharedBudget

        s = self.settings
        store = DynamoBudgetStore(
            self.dynamodb_client,
            s.table_name,
            name="spotify",
            limit=s.rate_limit_per_window,
            window_seconds=s.rate_window_seconds,
            slice_seconds=s.rate_slice_seconds,
            background_fraction=s.background_rate_fraction,
        )
        self._renewed_after_restore(store)
        return SharedBudget(
            store,
            name="spotify",
            local_limit=s.spotify_local_limit,
            window_seconds=s.rate_window_seconds,
            quota_close_seconds=s.quota_close_seconds,
            background_fraction=s.background_rate_fraction,
        )

    @cached_property
    def call_shares(self):
        """Per-client and per-class shares of the Spotify budget (services.budget.ShareLimiter)."""
        from musicboxd.adapters.rate_budget import DynamoBudgetStore
        from musicboxd.services.budget import ShareLimiter
        from musicboxd.services.catalog import CLASS_DEEP_PAGING

        s = self.settings

        def store_for(name: str, limit: int) -> DynamoBudgetStore:
            return DynamoBudgetStore(
                self.dynamodb_client,
                s.table_name,
                name=f"spotify#{name}",
                limit=limit,
                window_seconds=s.rate_window_seconds,
                slice_seconds=s.rate_slice_seconds,
                ttl_seconds=2 * s.rate_window_seconds + 60,
            )

        return ShareLimiter(
            store_for,
            budget=s.rate_limit_per_window,
            window_seconds=s.rate_window_seconds,
            client_share=s.client_rate_share,
            class_shares={CLASS_DEEP_PAGING: s.deep_paging_rate_share},
            containers=s.lambda_concurrency,
        )

    @cached_property
    def rate_budget(self):
        """The app-wide Spotify budget as background jobs use it (waits for the window, not the circuit)."""
        from musicboxd.services.budget import BackgroundBudget

        return BackgroundBudget(self.spotify_budget, deadline=deadline.current)

    @cached_property
    def musicbrainz_budget(self):
        """MusicBrainz's 1 request/s for the whole app (policy in ``adapters/musicbrainz.py``), same item scheme."""
        from musicboxd.adapters import musicbrainz as policy
        from musicboxd.adapters.rate_budget import DynamoBudgetStore
        from musicboxd.services.budget import SharedBudget

        store = DynamoBudgetStore(
            self.dynamodb_client,
            self.settings.table_name,
            name="musicbrainz",
            limit=policy.BUDGET_LIMIT,
            window_seconds=policy.BUDGET_WINDOW_SECONDS,
            slice_seconds=policy.BUDGET_SLICE_SECONDS,
        )
        self._renewed_after_restore(store)
        return SharedBudget(
            store,
            name="musicbrainz",
            local_limit=policy.BUDGET_LOCAL_LIMIT,
            window_seconds=policy.BUDGET_WINDOW_SECONDS,
            quota_close_seconds=policy.BUDGET_QUOTA_CLOSE_SECONDS,
        )

    @cached_property
    def musicbrainz(self):
        from musicboxd.adapters.musicbrainz import MusicBrainzCatalog

        s = self.settings
        return MusicBrainzCatalog(
            s.musicbrainz_url,
            s.coverart_url,
            s.musicbrainz_user_agent,
            self.http,
            deadline=deadline.current,
            budget=self.musicbrainz_budget,
            on_rate_limited=self.musicbrainz_budget.on_rate_limited,
            timeout_seconds=s.http_timeout_seconds,
        )

    @cached_property
    def cache_only(self):
        from musicboxd.services.fallbacks import CacheOnlySearch

        # The loaded tier-1 index, in memory: a refused miss costs no table read.
        return CacheOnlySearch(self.tier1.index)

    def search_fallbacks(self):
        """Tried in order after the stale cache; built lazily (a cache hit imports no httpx)."""
        from musicboxd.services.catalog import SearchFallback

        fallbacks = []
        if self.settings.musicbrainz_enabled:
            fallbacks.append(SearchFallback("musicbrainz", lambda q, lim, off: self.musicbrainz.search(q, lim, off)))
        fallbacks.append(SearchFallback("cache-only", lambda q, lim, off: self.cache_only.search(q, lim, off)))
        return fallbacks

    def observe_spotify(self, endpoint: str, status: int, seconds: float) -> None:
        from musicboxd import metric_names as m

        self.spotify_budget.observe(status)
        self.usage.observe(endpoint, status, seconds)
        self.telemetry.count(m.SPOTIFY_CALLS)
        self.telemetry.count(m.SPOTIFY_LATENCY_MS, seconds * 1000)
        if status == 429:
            self.telemetry.count(m.SPOTIFY_THROTTLED)
        elif status >= 500:
            self.telemetry.count(m.SPOTIFY_ERRORS)

    def spotify_catalog(self, *, budget, observe, on_rate_limited, interactive: bool = True):
        """A Spotify adapter on this container's HTTP client and shared token (jobs pass their own budget)."""
        from musicboxd.adapters.spotify import SpotifyCatalog

        return SpotifyCatalog(
            self.settings,
            self.http,
            self.tokens.get,
            self.tokens.invalidate,
            deadline=deadline.current,
            budget=budget,
            observe=observe,
            on_rate_limited=on_rate_limited,
            interactive=interactive,
        )

    @cached_property
    def spotify(self):
        return self.spotify_catalog(
            budget=self.spotify_budget,
            observe=self.observe_spotify,
            on_rate_limited=self.spotify_budget.on_rate_limited,
        )

    @cached_property
    def spotify_deep_paging(self):
        """Search blocks past the first: the app-wide budget at the background threshold (a reserve for first pages)."""
        return self.spotify_catalog(
            budget=self.spotify_budget,
            observe=self.observe_spotify,
            on_rate_limited=self.spotify_budget.on_rate_limited,
            interactive=False,
        )

    @cached_property
    def search_service(self):
        from musicboxd.services.catalog import SearchService

        return SearchService(
            self.cache,
            _Lazy(lambda: self.spotify),
            market=self.settings.spotify_market,
            ttl_seconds=self.settings.search_ttl_seconds,
            negative_ttl_seconds=self.settings.negative_ttl_seconds,
            block_size=self.settings.search_block_size,
            telemetry=self.telemetry,
            fallbacks=self.search_fallbacks(),
            tier1=self.calibrated_tier1 if self.settings.tier1_search else None,
            demand=self.usage,
            shares=self.call_shares,
            deep_catalog=_Lazy(lambda: self.spotify_deep_paging),
        )

    @cached_property
    def index_store(self):
        from musicboxd.adapters.index_store import DynamoIndexStore

        # a live index expires three populate periods after its build, like the sweep pages
        return DynamoIndexStore(self.model, ttl_seconds=3 * self.settings.populate_period_seconds)

    @cached_property
    def index_writer(self):
        """Where a job writes a rebuilt index: the jobs' DynamoDB model (job-length read timeout)."""
        from musicboxd.adapters.index_store import DynamoIndexStore

        return DynamoIndexStore(self.job_model, ttl_seconds=3 * self.settings.populate_period_seconds)

    @cached_property
    def sweep_store(self):
        from musicboxd.adapters.index_store import DynamoSweepStore

        return DynamoSweepStore(self.job_model)

    @cached_property
    def popular_albums(self):
        from musicboxd.adapters.index_store import DynamoPopularAlbums

        return DynamoPopularAlbums(self.job_model)

    @cached_property
    def tier1(self):
        """The tier-1 index holder (loaded on first use, rechecked every INDEX_RECHECK_SECONDS)."""
        from musicboxd.services.tier1 import Tier1Holder

        return self._renewed_after_restore(
            Tier1Holder(self.index_store, recheck_seconds=self.settings.index_recheck_seconds)
        )

    # -- tier-1 verification and calibration (services/verification.py)

    @cached_property
    def verification_queue(self):
        from musicboxd.adapters.verification_queue import DynamoVerificationQueue

        return DynamoVerificationQueue(self.model, ttl_seconds=self.settings.tier1_verify_ttl_seconds)

    @cached_property
    def calibration_policy(self):
        from musicboxd.services.verification import CalibrationPolicy

        s = self.settings
        return CalibrationPolicy(
            target=s.tier1_agreement_target, floor=s.tier1_agreement_floor, samples=s.tier1_calibration_samples,
            relax_samples=s.tier1_relax_samples, margin_step=s.tier1_margin_step, margin_max=s.tier1_margin_max,
        )  # fmt: skip

    @cached_property
    def calibrated_tier1(self):
        """The search service's tier 1: the index at the calibrated margin, a sampled share queued for checking."""
        from musicboxd.services.verification import CalibratedTier1, CalibrationView

        view = CalibrationView(self.checkpoints, self.calibration_policy,
                               recheck_seconds=self.settings.tier1_calibration_recheck_seconds)  # fmt: skip
        tier1 = CalibratedTier1(self.tier1.index, view, self.verification_queue, rate=self.settings.tier1_verify_rate,
                                correct_typos=self.settings.tier1_typo_correction)  # fmt: skip
        self.usage.on_flush(tier1.flush_checks)  # sampled checks are written with the usage counters
        return tier1

    def shadow_verifier(self, catalog):
        """The verify job's service over ``catalog`` (a job's Spotify adapter on the background share)."""
        from musicboxd.services.catalog import search_key
        from musicboxd.services.verification import ShadowVerifier

        market = self.settings.spotify_market
        return ShadowVerifier(
            self.verification_queue, self.checkpoints, self.cache, catalog, self.calibration_policy,
            search_key=lambda query, limit: search_key(market, query, offset=0, limit=limit),
            ttl_seconds=self.settings.search_ttl_seconds,
        )  # fmt: skip

    def rebuild_index(self, *, with_sweep: bool | None = None):
        """Rebuild the tier-1 index, ranked by demand (end of populate, ``python -m tools.build_index``).

        Sweep pages are used only when the sweep is chosen (``with_sweep``, default ``POPULATE_SWEEP``):
        turning it off takes effect at the next build, and the pages left expire and are deleted by
        cleanup (docs/compliance.md)."""
        from musicboxd.adapters.album_demand import AlbumDemand
        from musicboxd.adapters.index_store import DynamoSearchedPages
        from musicboxd.adapters.job_stores import DynamoUsage
        from musicboxd.services.tier1 import rebuild_index

        demand = AlbumDemand(DynamoUsage(self.job_model, ttl_seconds=self.settings.usage_ttl_seconds))
        return rebuild_index(
            self.popular_albums,
            self.index_writer,
            demand=demand,
            sweeps=self.sweep_store if (self.settings.populate_sweep if with_sweep is None else with_sweep) else None,
            searched=DynamoSearchedPages(self.job_model),
            max_albums=self.settings.index_max_albums,
        )  # fmt: skip

    @cached_property
    def album_service(self):
        from musicboxd.services.catalog import AlbumService

        return AlbumService(
            self.cache,
            _Lazy(lambda: self.spotify),
            ttl_seconds=self.settings.album_ttl_seconds,
            negative_ttl_seconds=self.settings.negative_ttl_seconds,
            telemetry=self.telemetry,
            demand=self.usage,
            shares=self.call_shares,
        )


def _usage_error(exc: Exception) -> None:
    from aws_lambda_powertools import Logger

    Logger().warning("usage counters not written", extra={"error": str(exc)})


class _Lazy:
    """Defers building (and importing) an adapter until its first use."""

    def __init__(self, factory):
        self._factory = factory

    def __getattr__(self, name):
        return getattr(self._factory(), name)


_container: Container | None = None
_container_lock = threading.Lock()


def container() -> Container:
    global _container
    if _container is None:
        with _container_lock:
            if _container is None:
                _container = AppContainer(settings())
    return _container


def set_container(new: Container | None) -> None:
    """Tests and the local stack swap the composition root."""
    global _container
    _container = new
