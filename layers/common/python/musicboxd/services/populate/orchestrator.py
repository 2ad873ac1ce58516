"""Populate's orchestrator: lease, deferral after a 429, budget, deadline and checkpoint around
three phases - collect (the registered sources, in order), fetch, sweep. See docs/design/populate.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from musicboxd.errors import CacheUnavailable, RateLimited
from musicboxd.ports import (
    CallMeter,
    CheckpointStore,
    DemandReader,
    Lease,
    PopularStore,
    PopulateCatalog,
    SweepStore,
)
from musicboxd.services.populate.fetch import fetch_candidates
from musicboxd.services.populate.registry import SOURCES
from musicboxd.services.populate.source import PopulateSource, SourceRun, Stop
from musicboxd.services.populate.state import Candidate, RunState, freeze, thaw
from musicboxd.services.populate.sweep import SweepState, run_sweep

JOB = "populate"
Log = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class PopulateOptions:
    budget: int = 500
    sources: tuple[str, ...] = tuple(SOURCES)
    playlists: tuple[str, ...] = ()
    extended: bool = False
    search_page: int = 10  # the mode's search page cap
    market: str = "US"
    max_per_source: int = 200
    top_queries: int = 20
    popular_ttl_seconds: int = 10 * 86_400
    negative_ttl_seconds: int = 3600
    fresh_margin_seconds: int = 7 * 86_400  # skip albums that stay fresh at least this long
    reserve_seconds: float = 10.0  # stop when the invocation has less time left than this
    force: bool = False  # ignore not_before (a previous 429) and start even then
    sweep: bool = True  # phase 3 (needs a sweep store)
    sweep_from_year: int = 1950
    sweep_ttl_seconds: int = 21 * 86_400  # three weekly runs: a stalled sweep still leaves its pages
    restart: bool = False  # drop an unfinished run and start a new one
    resume_only: bool = False  # the hourly schedule: continue an unfinished run, never start one


@dataclass(frozen=True)
class Progress:
    phase: str  # collect | fetch | sweep
    done: int
    total: int
    calls: int  # this invocation
    budget: int
    cached: int  # this invocation
    source: str = ""


@dataclass
class PopulateReport:
    status: str  # done | stopped | deferred | busy | idle
    reason: str | None
    run_id: str
    resumed: bool
    calls: int  # Spotify calls this invocation
    albums_cached: int  # this invocation
    skipped_fresh: int
    missing: int
    candidates: int
    done: int
    by_source: dict[str, int] = field(default_factory=dict)
    run_calls: int = 0  # whole run, across resumes
    run_albums_cached: int = 0
    not_before: float | None = None
    seconds: float = 0.0
    sweep_pages: int = 0  # whole run: pages of Spotify's popularity order stored for the index
    sweep_albums: int = 0

    @property
    def albums_per_call(self) -> float:
        return round(self.albums_cached / self.calls, 3) if self.calls else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "albums_per_call": self.albums_per_call}


class PopulateService:
    def __init__(
        self,
        catalog: PopulateCatalog,
        store: PopularStore,
        checkpoints: CheckpointStore,
        meter: CallMeter,
        *,
        demand: DemandReader | None = None,
        lease: Lease | None = None,
        sweeps: SweepStore | None = None,
        log: Log | None = None,
        clock: Callable[[], float] = time.time,
        sources: Mapping[str, PopulateSource[Any]] = SOURCES,
    ):
        self._catalog = catalog
        self._store = store
        self._checkpoints = checkpoints
        self._meter = meter
        self._demand = demand
        self._lease = lease
        self._sweeps = sweeps
        self._log: Log = log or (lambda message, extra: None)
        self._clock = clock
        self._sources = sources

    def run(
        self,
        options: PopulateOptions,
        *,
        remaining: Callable[[], float] = lambda: math.inf,
        progress: Callable[[Progress], None] | None = None,
    ) -> PopulateReport:
        unknown = [name for name in options.sources if name not in self._sources]
        if unknown:
            raise ValueError(f"unknown populate sources {unknown}; known: {', '.join(self._sources)}")
        started = time.monotonic()
        now = self._clock()
        saved = self._checkpoints.load(JOB)
        state = RunState.from_checkpoint(saved) if saved else None
        if state and not options.force and (state.not_before or 0) > now:
            return _report(state, "deferred", "rate_limited", 0, 0, started, resumed=False)
        if options.resume_only and (not state or state.status == "done"):
            return _report(state or RunState.new(now, now), "idle", "nothing to resume", 0, 0, started, resumed=False)
        if self._lease is not None and not self._lease.acquire(JOB, ttl_seconds=max(60.0, min(remaining(), 3600))):
            busy = state or RunState.new(now, now)
            return _report(busy, "busy", "another run holds the lease", 0, 0, started, resumed=False)
        try:
            return self._run(state, options, now, started, remaining, progress)
        finally:
            if self._lease is not None:
                self._lease.release(JOB)

    def _run(
        self,
        state: RunState | None,
        options: PopulateOptions,
        now: float,
        started: float,
        remaining: Callable[[], float],
        progress: Callable[[Progress], None] | None,
    ) -> PopulateReport:
        resumed = state is not None and state.status != "done" and not options.restart
        if state is None or not resumed:
            since = (state and (state.completed_at or state.started_at)) or now - options.fresh_margin_seconds
            state = RunState.new(now, since)
        state.resumes += 1 if resumed else 0
        state.not_before = None
        run = _Run(self, state, options, remaining, progress)
        status, reason = "done", None
        try:
            for name in options.sources:
                if name not in state.collected:
                    run.collect(name, self._sources[name])
            run.fetch()
            if options.sweep and self._sweeps is not None:
                stored = SweepState.from_json(state.sweep) if state.sweep else None
                run_sweep(
                    run,
                    self._sweeps,
                    stored,
                    from_year=options.sweep_from_year,
                    limit=options.search_page,
                    ttl_seconds=options.sweep_ttl_seconds,
                )
            state.status = "done"
            state.completed_at = self._clock()
        except Stop as stop:
            status, reason = "stopped", stop.reason
        except RateLimited as exc:
            status, reason = "stopped", run.rate_limited(exc)
        finally:
            calls = run.calls()
            state.calls += calls
            if status != "done":
                state.status = "stopped"
                state.stop_reason = reason
            run.save()
        report = _report(state, status, reason, calls, run.cached_now, started, resumed=resumed)
        self._log(
            "populate finished" if status == "done" else "populate stopped",
            {k: v for k, v in report.as_dict().items() if k != "by_source"} | {"by_source": report.by_source},
        )
        return report


class _Run:
    """One invocation: the ledger, the budget and deadline checks, checkpoint saves, progress."""

    def __init__(
        self,
        service: PopulateService,
        state: RunState,
        options: PopulateOptions,
        remaining: Callable[[], float],
        progress: Callable[[Progress], None] | None,
    ):
        self.state = state
        self.options = options
        self.remaining = remaining
        self.catalog = service._catalog
        self.store = service._store
        self.demand = service._demand
        self.log = service._log
        self.clock = service._clock
        self.since = state.since
        self.cached_now = 0
        self._service = service
        self._progress = progress
        self._meter = service._meter
        self._calls_start = service._meter.used
        self._seen = {candidate.album_id for candidate in state.candidates}

    # -- phases

    def collect(self, name: str, source: PopulateSource[Any]) -> None:
        run: SourceRun[Any] = SourceRun(self, name)
        position = self.state.positions.get(name)
        state = thaw(source.state_type, position) if position is not None else source.start(run)
        self.keep(name, state)
        source.collect(run, state)
        self.state.collected.append(name)
        self.save()

    def fetch(self) -> None:
        options = self.options
        fetch_candidates(
            self,
            budget=options.budget,
            extended=options.extended,
            fresh_margin_seconds=options.fresh_margin_seconds,
            popular_ttl_seconds=options.popular_ttl_seconds,
            negative_ttl_seconds=options.negative_ttl_seconds,
            reserve_seconds=options.reserve_seconds,
        )

    # -- what sources, fetch and sweep call

    def check(self, phase: str) -> None:
        if self.calls() >= self.options.budget:
            raise Stop("budget")
        if self.remaining() < self.options.reserve_seconds:
            raise Stop("deadline")

    def calls(self) -> int:
        return self._meter.used - self._calls_start

    def add(self, album_id: str, source: str, total_tracks: int | None) -> None:
        if album_id in self._seen:
            return
        self._seen.add(album_id)
        self.state.candidates.append(Candidate(album_id, source, total_tracks))
        self.state.sourced[source] = self.state.sourced.get(source, 0) + 1

    def count(self, source: str) -> int:
        return self.state.sourced.get(source, 0)

    def keep(self, source: str, state: Any) -> None:
        self.state.positions[source] = freeze(state)

    def keep_sweep(self, state: SweepState) -> None:
        self.state.sweep = state.to_json()

    def collected_page(self, source: str) -> None:
        self.save()
        self.emit("collect", len(self.state.candidates), len(self.state.candidates), source)

    def guarded(self, write: Callable[..., None], *args: Any, **kwargs: Any) -> bool:
        try:
            write(*args, **kwargs)
            return True
        except CacheUnavailable as exc:
            self.log("cache write failed", {"error": str(exc)})
            return False

    def save(self) -> None:
        self._service._checkpoints.save(JOB, self.state.to_checkpoint())

    def emit(self, phase: str, done: int, total: int, source: str = "") -> None:
        step = Progress(phase, done, total, self.calls(), self.options.budget, self.cached_now, source)
        self.log(
            f"populate {phase}: {done}/{total} albums, {step.calls}/{step.budget} calls, {step.cached} cached",
            asdict(step),
        )
        if self._progress is not None:
            self._progress(step)

    def rate_limited(self, exc: RateLimited) -> str:
        if self.calls() >= self.options.budget:
            return "budget"  # our own hard cap refused the call
        self.state.not_before = self.clock() + exc.retry_after
        self.log("Spotify rate-limited populate; run ends here", {"retry_after": exc.retry_after, "quota": exc.quota})
        return "rate_limited"


def _report(
    state: RunState, status: str, reason: str | None, calls: int, cached_now: int, started: float, *, resumed: bool
) -> PopulateReport:
    sweep = state.sweep or {}
    return PopulateReport(
        status=status,
        reason=reason,
        run_id=state.run_id,
        resumed=resumed,
        calls=calls,
        albums_cached=cached_now if status in ("done", "stopped") else 0,
        skipped_fresh=state.skipped_fresh,
        missing=state.missing,
        candidates=len(state.candidates),
        done=state.next,
        by_source=dict(state.by_source),
        run_calls=state.calls,
        run_albums_cached=state.cached,
        not_before=state.not_before,
        seconds=round(time.monotonic() - started, 3),
        sweep_pages=sweep.get("pages", 0),
        sweep_albums=sweep.get("albums", 0),
    )
