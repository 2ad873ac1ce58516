"""Warm the popular tier of ``ours`` between the warm-up and the steady phase.

With the populate job in the tree (``tools.jobs.cli``), this runs it, as production would
after a period of traffic: demand recorded during the warm-up, new releases, playlists; its
Spotify calls and albums cached are measured. Without it, a stand-in does the same job's core
(only to give tier 1 an index; the populate figure is then reported as not measured): the
albums users opened during the warm-up plus the emulator's playlist albums and recent
releases, up to ``TIER_SIZE``, written to the popular tier through the Spotify adapter (batch
endpoint in extended mode), then ``rebuild_index``.

Either way the search container then rechecks the index (as it would within its 300 s recheck
interval), so the steady phase sees the new version.
"""

from __future__ import annotations

import importlib.util
import time
from collections import Counter

TIER_SIZE = 4000


def populate_available() -> bool:
    try:
        return importlib.util.find_spec("tools.jobs.cli") is not None
    except ModuleNotFoundError:
        return False


def warm_popular_tier(run, container, records, *, tier_size: int = TIER_SIZE) -> dict:
    calls0 = run.spotify_total()
    started = time.perf_counter()
    if populate_available():
        from tools.jobs.cli import run_job

        result = run_job("populate", {"budget": 5000})
        out = {"job": "populate", "status": result.get("status"), "albums_cached": result.get("albums_cached", 0)}
    else:
        out = {"job": "bench stand-in (populate not in this tree)", **_stand_in(run, container, records, tier_size)}
    container.rebuild_index()  # populate ends with it too; rebuilding is idempotent and calls no one
    holder = container.tier1
    holder._checked_at = None  # the recheck interval has passed: pick up the new version
    holder.index()
    out["calls"] = run.spotify_total() - calls0
    out["albums_per_call"] = out["albums_cached"] / out["calls"] if out["calls"] else None
    out["index_albums"] = len(holder._index) if holder._index is not None else 0
    out["seconds"] = time.perf_counter() - started
    return out


def _stand_in(run, container, records, tier_size: int) -> dict:
    from musicboxd.errors import NotFound
    from musicboxd.ports import TIER_POPULAR

    catalog = run.emulator.catalog
    views = Counter(r.album_id for r in records if r.kind == "album" and r.status == 200)
    wanted = [a for a, _ in views.most_common()]
    for p in catalog.playlists:
        wanted += [catalog.albums[ai].id for ai, _ in p.items]
    wanted += [a.id for a in catalog.albums if a.recent_days is not None and "US" in a.markets]
    ids = list(dict.fromkeys(wanted))[:tier_size]
    cache, ttl = container.cache, container.settings.popular_ttl_seconds
    now, fetch, cached = time.time(), [], 0
    for album_id in ids:
        hit = cache.get_album(album_id)
        if hit is not None and hit.album is not None and hit.fresh(now):
            cache.put_album(hit.album, tier=TIER_POPULAR, ttl_seconds=ttl)
            cached += 1
        else:
            fetch.append(album_id)
    fetched = 0
    for start in range(0, len(fetch), 20):
        try:
            albums = container.spotify.get_albums(fetch[start : start + 20])
        except NotFound:
            continue
        for album in albums:
            cache.put_album(album, tier=TIER_POPULAR, ttl_seconds=ttl)
            fetched += 1
    return {"albums_cached": cached + fetched, "albums_fetched": fetched, "albums_from_cache": cached}
