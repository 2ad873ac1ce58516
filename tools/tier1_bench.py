"""Tier-1 /search against the Spotify emulator, in-process: share answered and top-5 agreement.

``python -m tools.tier1_bench [--seed 2026] [--requests 5000] [--page 10] [--limit 10]``

A quick loop for the confidence rule (seconds, no HTTP, no DynamoDB), complementing ``make
bench``, which measures the same through the local API:

* **Sweep.** Populate's own sweep (``PopulateService``, other sources off) with the mode's page
  size (``--page``: 10 development, 50 extended), over the emulator's search index in-process.
* **Index.** ``rebuild_index`` over those pages and the first pages of the warm-up's searches
  (``--warmup`` requests of the bench workload: the searched tier populate would find).
* **Queries.** Every distinct search of the following ``--requests`` (``bench.workload``, same
  seed): a cold query cache, so each reaches tier 1. Agreement: the answer's first five ids
  equal the emulator's first five (market US), in order.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter

from bench.workload import Workload
from musicboxd.errors import RateLimited
from musicboxd.index.core import Tier1Index
from musicboxd.models import AlbumSummary, ArtistRef, SearchPage
from musicboxd.ports import SweepPage
from musicboxd.services.call_counter import CallCounter
from musicboxd.services.populate import PopulateOptions, PopulateService
from musicboxd.services.tier1 import rebuild_index
from tools.emulator import load_catalog
from tools.emulator.search import parse_query


class EmulatorSearch:
    """The emulator's search index in-process, as populate's Spotify adapter (search only)."""

    def __init__(self, catalog, today: dt.date, meter: CallCounter):
        self.catalog, self.today, self.meter = catalog, today, meter

    def search_albums(self, query: str, *, limit: int, offset: int) -> SearchPage:
        if not self.meter.acquire():
            raise RateLimited(0, message="budget")
        self.meter.observe("search", 200, 0.0)
        total, albums, _ = self.catalog.index.search(parse_query(query), self.today, offset, limit, "US")
        return SearchPage(items=[self._summary(a) for a in albums], total=total)

    def _summary(self, album) -> AlbumSummary:
        artists = [ArtistRef(id=self.catalog.artists[i].id, name=self.catalog.artists[i].name) for i in album.artists]
        date, precision = album.release(self.today)
        return AlbumSummary(id=album.id, name=album.name, artists=artists,
                            artist_name=", ".join(a.name for a in artists), release_date=date,
                            release_date_precision=precision, total_tracks=album.total_tracks,
                            album_type=album.album_type)  # fmt: skip


class _Memory:
    """Sweep store + checkpoint store in memory."""

    def __init__(self) -> None:
        self.stored: list[SweepPage] = []
        self.states: dict = {}

    def put_page(self, page: SweepPage, *, ttl_seconds: int) -> None:
        self.stored.append(page)

    def pages(self) -> list[SweepPage]:
        return self.stored

    def load(self, name):
        return self.states.get(name)

    def save(self, name, state) -> None:
        self.states[name] = state


class _NoPopularTier:
    def popular_albums(self):
        return []


class _Searched:
    def __init__(self, pages: dict[str, SearchPage]):
        self._pages = pages

    def searched_pages(self):
        return list(self._pages.items())


def sweep_pages(catalog, today: dt.date, page: int) -> tuple[list[SweepPage], int]:
    """Run populate's sweep (sources off) against the emulator's index; (pages, calls)."""
    meter = CallCounter(100_000)
    memory = _Memory()
    clock = dt.datetime.combine(today, dt.time(12), dt.UTC).timestamp
    service = PopulateService(EmulatorSearch(catalog, today, meter), None, memory, meter, sweeps=memory, clock=clock)
    report = service.run(PopulateOptions(budget=100_000, sources=(), search_page=page))
    assert report.status == "done", report
    return memory.stored, report.calls


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--warmup", type=int, default=2000, help="workload requests whose searches fill the cache")
    ap.add_argument("--requests", type=int, default=3000, help="workload requests measured after it")
    ap.add_argument("--page", type=int, default=10)
    ap.add_argument("--limit", type=int, default=10)
    args = ap.parse_args(argv)

    catalog = load_catalog()
    today = dt.date(2026, 11, 25)
    started_at = dt.datetime.combine(today, dt.time(12), dt.UTC).timestamp()
    started = time.perf_counter()
    pages, calls = sweep_pages(catalog, today, args.page)
    workload = Workload(catalog, seed=args.seed, warmup=args.warmup, steady=args.requests)
    search = EmulatorSearch(catalog, today, CallCounter())
    searched = {r.value: search.search_albums(r.value, limit=10, offset=0) for r in workload.phase("warmup")
                if r.kind == "search"}  # the query cache the warm-up filled  # fmt: skip
    store = _Memory()
    store.stored = pages

    class Built:
        def save(self, blob, *, version, built_at, albums):
            self.blob = blob

    built = Built()
    rebuild_index(_NoPopularTier(), built, sweeps=store, searched=_Searched(searched), clock=lambda: started_at)
    t = time.perf_counter()
    index = Tier1Index.loads(built.blob)
    load_s = time.perf_counter() - t
    print(f"sweep: {calls} calls, {len(pages)} pages; {len(searched)} cached search pages; {len(index)} albums "
          f"indexed of {index.catalog_size}; artifact {len(built.blob) / 1e6:.2f} MB, load {load_s * 1000:.0f} ms "
          f"({time.perf_counter() - started:.1f} s)")  # fmt: skip

    queries: dict[str, str] = {}
    for r in workload.phase("steady"):
        if r.kind == "search":
            queries.setdefault(r.value, r.variant)
    asked, answered, agreed = Counter(), Counter(), Counter()
    for q, variant in queries.items():
        for key in (variant, "asked in the warm-up" if q in searched else "never asked before"):
            asked[key] += 1
        page = index.answer(q, limit=args.limit, offset=0)
        if page is None:
            continue
        _, reference, _ = catalog.index.search(parse_query(q), today, 0, 5, "US")
        for key in (variant, "asked in the warm-up" if q in searched else "never asked before"):
            answered[key] += 1
            agreed[key] += [a.id for a in page.items[:5]] == [a.id for a in reference]
    n, a, g = (sum(c[v] for v in set(queries.values())) for c in (asked, answered, agreed))
    print(f"{n} distinct searches: {a} answered by tier 1 = {a / n:.1%}; top-5 agreement {g / max(a, 1):.1%}")
    for v in sorted(asked):
        print(f"  {v:20s} {answered[v]:4d}/{asked[v]:4d} answered, {agreed[v]} agreeing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
