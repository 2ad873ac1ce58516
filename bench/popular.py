"""Warm the popular tier of ``ours`` between the warm-up and the steady phase: run populate.

As production would after a period of traffic, the populate job runs once (in-process, with
the strategy's container, like ``make populate``): demand recorded during the warm-up (the
usage counters are flushed first, as the next request after ``USAGE_FLUSH_SECONDS`` would),
new releases, the emulator's playlists. Its Spotify calls and albums cached are measured;
populate ends by rebuilding the tier-1 index. The search container then rechecks the index
(as it would within its 300 s recheck interval), so the steady phase sees the new version.
"""

from __future__ import annotations

import time

BUDGET = 3000  # Spotify calls populate may spend in this run (a development-mode sweep is ~1,900)


def warm_popular_tier(run, container, records, *, budget: int = BUDGET) -> dict:
    from musicboxd.job_runner import run_populate
    from tools.localstack.apigw import LambdaContext

    calls0 = run.spotify_total()
    started = time.perf_counter()
    container.usage.flush()
    context = LambdaContext(function_name="musicboxd-populate", timeout_seconds=900)
    report = run_populate({"budget": budget}, context, c=container)
    run.index_without_sweep = index_without_sweep(container)
    holder = container.tier1
    holder._checked_at = None  # the recheck interval has passed: pick up the new version
    holder.index()
    calls = run.spotify_total() - calls0
    return {
        "job": "populate",
        "status": report.status,
        "reason": report.reason,
        "budget": budget,
        "albums_cached": report.albums_cached,
        "skipped_fresh": report.skipped_fresh,
        "candidates": report.candidates,
        "by_source": report.by_source,
        "calls": calls,
        "calls_reported": report.calls,
        "albums_per_call": report.albums_cached / calls if calls else None,
        "index_albums": len(holder._index) if holder._index is not None else 0,
        "index_bytes": container.index_store.current().size if container.index_store.current() else 0,
        "index_load_seconds": holder.load_seconds,
        "sweep_pages": report.sweep_pages,
        "sweep_albums": report.sweep_albums,
        "seconds": time.perf_counter() - started,
    }


class _Kept:
    """An IndexStore that only keeps what it is given (the index built without the sweep)."""

    def save(self, blob: bytes, *, version: str, built_at: float, albums: int) -> dict:
        self.saved = {"blob": blob, "version": version, "built_at": built_at, "albums": albums}
        return self.saved


def index_without_sweep(container) -> dict:
    """The index the same populate run would have built with ``POPULATE_SWEEP`` off: the popular
    tier, demand and the cached search pages, no sweep pages (the sweep's own calls aside, the other
    sources are the same)."""
    from musicboxd import wiring

    kept = _Kept()
    without = wiring.AppContainer(container.settings)
    without.__dict__["index_writer"] = kept  # the same table, the build kept in memory
    without.rebuild_index(with_sweep=False)
    return kept.saved
