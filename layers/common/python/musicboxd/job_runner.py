"""Runs the background jobs (populate, cleanup): options from settings + event, services over
the container's adapters. ``functions/populate`` and ``functions/cleanup`` call ``run_populate``
/ ``run_cleanup`` with the event and the Lambda context.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any, cast

from musicboxd import deadline
from musicboxd import metric_names as m
from musicboxd.container import JobContainer
from musicboxd.services.call_counter import CallCounter
from musicboxd.services.cleanup import CleanupOptions, CleanupReport, CleanupService
from musicboxd.services.populate import PopulateOptions, PopulateReport, PopulateService, Progress
from musicboxd.services.verification import VerifyReport
from musicboxd.wiring import container

_logger = logging.getLogger(__name__)
Log = Callable[[str, dict[str, Any]], None]
_progress_hook: Callable[[Progress], None] | None = None


def set_progress_hook(hook: Callable[[Progress], None] | None) -> None:
    """Local runs (``make populate``) watch progress through this; Lambda never sets it."""
    global _progress_hook
    _progress_hook = hook


def overrides(event: Any) -> dict[str, Any]:
    """Manual invoke: the event itself; EventBridge: its ``detail`` (may be empty)."""
    if not isinstance(event, dict):
        return {}
    if event.get("source") == "aws.events" or "detail-type" in event:
        detail = event.get("detail")
        return detail if isinstance(detail, dict) else {}
    return event


def _remaining(context: Any) -> Callable[[], float]:
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return lambda: context.get_remaining_time_in_millis() / 1000
    return lambda: math.inf


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v) for v in value)


def job_spotify(c: JobContainer, counter: CallCounter):
    """A Spotify adapter for a background job: observed by ``counter`` and capped by it."""
    counter.inner = c.rate_budget  # the app-wide budget

    def observe(endpoint: str, status: int, seconds: float) -> None:
        counter.observe(endpoint, status, seconds)
        c.observe_spotify(endpoint, status, seconds)

    return c.spotify_catalog(
        budget=counter,
        observe=observe,
        on_rate_limited=getattr(counter.inner, "on_rate_limited", None),  # a 429 closes the shared circuit
        interactive=False,
    )


def populate_options(c: JobContainer, event: Any) -> PopulateOptions:
    s = c.settings
    o = overrides(event)
    return PopulateOptions(
        budget=int(o.get("budget", s.populate_call_budget)),
        sources=_as_tuple(o.get("sources", s.populate_sources)),
        playlists=_as_tuple(o.get("playlists", s.populate_playlists)),
        extended=s.extended,
        search_page=s.search_page_cap,
        market=s.spotify_market,
        max_per_source=int(o.get("max_per_source", s.populate_max_per_source)),
        top_queries=int(o.get("top_queries", s.populate_top_queries)),
        popular_ttl_seconds=s.popular_ttl_seconds,
        negative_ttl_seconds=s.negative_ttl_seconds,
        fresh_margin_seconds=int(o.get("fresh_margin_seconds", s.populate_period_seconds)),
        reserve_seconds=float(o.get("reserve_seconds", 10.0)),
        force=bool(o.get("force", False)),
        restart=bool(o.get("restart", False)),
        resume_only=bool(o.get("resume_only", False)),
        sweep=bool(o.get("sweep", s.populate_sweep)),
        sweep_from_year=int(o.get("sweep_from_year", s.populate_sweep_from_year)),
        sweep_ttl_seconds=3 * s.populate_period_seconds,
    )


def run_populate(
    event: Any,
    context: Any,
    *,
    log: Log | None = None,
    progress: Callable[[Progress], None] | None = None,
    c: JobContainer | None = None,
) -> PopulateReport:
    c = c or _job_container()
    progress = progress or _progress_hook
    options = populate_options(c, event)
    remaining = _remaining(context)
    deadline.begin(math.inf, context)  # HTTP calls never outlive the invocation
    counter = CallCounter(options.budget)
    service = PopulateService(
        job_spotify(c, counter),
        c.album_store,
        c.checkpoints,
        counter,
        demand=c.demand_reader,
        lease=c.job_lease,
        sweeps=c.sweep_store,
        log=log,
    )

    def on_progress(p: Progress) -> None:
        c.usage.flush()  # one counter write per batch keeps /stats current during long runs
        if progress is not None:
            progress(p)

    try:
        report = service.run(options, remaining=remaining, progress=on_progress)
    finally:
        c.usage.flush()
    if report.status == "done" or report.albums_cached:  # a stopped sweep waits for its run to finish
        rebuild_tier1(c, log, with_sweep=options.sweep)
    c.telemetry.count(m.POPULATE_ALBUMS_CACHED, report.albums_cached)
    c.telemetry.count(m.POPULATE_CALLS, report.calls)
    c.telemetry.count(m.POPULATE_ALBUMS_PER_CALL, report.albums_per_call)
    if report.reason == "rate_limited":
        c.telemetry.count(m.POPULATE_FAILED)
    return report


def rebuild_tier1(c: JobContainer, log: Log | None = None, *, with_sweep: bool | None = None) -> None:
    """Rebuild the tier-1 search index from the popular tier (end of a populate run); never raises.

    A failure is an error with a metric (the alarm's), not an info line: /suggest and tier-1
    answers stay empty or stale until the next run builds the index.
    """
    try:
        pointer = c.rebuild_index(with_sweep=with_sweep)
        if log is not None:
            log("tier-1 index rebuilt", {"pointer": str(pointer)})
    except Exception as exc:  # the popular tier is written; the index can be rebuilt later
        _logger.exception("tier-1 index rebuild failed", extra={"error": repr(exc)})
        c.telemetry.count(m.INDEX_REBUILD_FAILED)


def cleanup_options(c: JobContainer, event: Any) -> CleanupOptions:
    s = c.settings
    o = overrides(event)
    return CleanupOptions(
        page_size=int(o.get("page_size", 100)),
        refresh_budget=int(o.get("budget", s.cleanup_call_budget)),
        extended=s.extended,
        album_ttl_seconds=s.album_ttl_seconds,
        popular_ttl_seconds=s.popular_ttl_seconds,
        reserve_seconds=float(o.get("reserve_seconds", 5.0)),
        refresh=bool(o.get("refresh", True)),
        stats=bool(o.get("stats", True)),
    )


def run_cleanup(event: Any, context: Any, *, log: Log | None = None, c: JobContainer | None = None) -> CleanupReport:
    c = c or _job_container()
    options = cleanup_options(c, event)
    deadline.begin(math.inf, context)
    counter = CallCounter(options.refresh_budget)
    service = CleanupService(
        c.maintenance,
        c.checkpoints,
        catalog=job_spotify(c, counter),
        store=c.album_store,
        meter=counter,
        demand=c.demand_reader,
        usage=c.usage_store,
        telemetry=c.telemetry,
        log=log,
    )
    try:
        return service.run(options, remaining=_remaining(context))
    finally:
        c.usage.flush()


def run_verify(event: Any, context: Any, *, log: Log | None = None, c: JobContainer | None = None) -> VerifyReport:
    """One verify run (EventBridge every 5 minutes: the cleanup function with ``{"verify_only": true}``).

    Drains at most ``TIER1_VERIFY_BATCH`` pending tier-1 checks (event override ``batch``) with a
    Spotify adapter on the background share of the shared budget, capped at that many calls;
    publishes the rolling agreement per query shape (metrics, hourly counters for ``/stats``).
    """
    from musicboxd.services.verification import SHAPES

    c = c or _job_container()
    batch = int(overrides(event).get("batch", c.settings.tier1_verify_batch))
    deadline.begin(math.inf, context)
    lease = c.job_lease
    if not lease.acquire("verify", ttl_seconds=300):
        return VerifyReport(stopped="busy")  # another run is draining the queue
    counter = CallCounter(batch)
    try:
        report, calibration = c.shadow_verifier(job_spotify(c, counter)).run(
            max_checks=batch, remaining=_remaining(context)
        )
    finally:
        lease.release("verify")
    c.usage.record_verification(report.by_shape, calls=counter.used)
    c.usage.flush()
    overall = calibration.overall()
    if overall is not None:
        c.telemetry.count(m.TIER1_AGREEMENT_PCT, round(overall * 100, 2))
    for shape in SHAPES:
        agreement = calibration.shape(shape).agreement()
        if agreement is not None:
            c.telemetry.count(m.tier1_agreement_metric(shape), round(agreement * 100, 2))
    c.telemetry.count(m.TIER1_VERIFY_CALLS, counter.used)
    c.telemetry.count(m.TIER1_SHAPES_SUPPRESSED, sum(calibration.suppressed(s) for s in calibration.shapes))
    if log is not None:
        log("tier-1 verify run", {**report.as_dict(), "calls": counter.used})
    return report


def _job_container() -> JobContainer:
    """The composition root as the jobs use it (``wiring.AppContainer`` implements ``JobContainer``)."""
    return cast(JobContainer, container())
