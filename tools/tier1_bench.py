"""Tier-1 /search against the Spotify emulator, in-process: share answered and top-5 agreement.

``python -m tools.tier1_bench [--seed 2026] [--requests 5000] [--page 10] [--limit 10]``

A quick loop for the confidence rule (seconds, no HTTP, no DynamoDB), complementing ``make
bench``, which measures the same through the local API:

* **Sweep.** The pages populate's sweep would read (``musicboxd.services.populate``): the
  global list, every year, the least popular of the years too big to page through, with the
  mode's page size (``--page``: 10 development, 50 extended), straight from the emulator's
  search index.
* **Index.** Built from those pages by ``musicboxd.index.ranks`` + ``Tier1Index.build``.
* **Queries.** Every distinct search of the bench workload (``bench.workload``, same seed):
  a cold query cache, so each reaches tier 1. Agreement: the answer's first five ids equal the
  emulator's first five (market US), in order.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter

from bench.workload import Workload
from musicboxd.index import ranks
from musicboxd.index.core import IndexedAlbum, Tier1Index
from musicboxd.models import AlbumSummary, ArtistRef
from musicboxd.ports import SweepPage
from tools.emulator import load_catalog
from tools.emulator.search import parse_query

MAX_OFFSET = 1000


def sweep_pages(catalog, today: dt.date, page: int, from_year: int = 1950) -> list[SweepPage]:
    index = catalog.index

    def summary(album) -> AlbumSummary:
        artists = [ArtistRef(id=catalog.artists[i].id, name=catalog.artists[i].name) for i in album.artists]
        date, precision = album.release(today)
        return AlbumSummary(id=album.id, name=album.name, artists=artists,
                            artist_name=", ".join(a.name for a in artists), release_date=date,
                            release_date_precision=precision, total_tracks=album.total_tracks,
                            album_type=album.album_type)  # fmt: skip

    lists = [("all", f"year:{from_year}-{today.year}")]
    lists += [(f"y{y}", f"year:{y}") for y in range(today.year, from_year - 1, -1)]
    pages: list[SweepPage] = []
    for list_id, query in lists:  # grows while iterating: hipster lists are appended
        offset = 0
        while True:
            total, albums, _ = index.search(parse_query(query), today, offset, page, "US")
            if albums:
                pages.append(SweepPage(list_id, offset, total, tuple(summary(a) for a in albums)))
            offset += len(albums)
            if not albums or offset >= total or offset > MAX_OFFSET:
                if list_id.startswith("y") and offset < total:
                    lists.append((f"h{list_id[1:]}", f"{query} tag:hipster"))
                break
    return pages


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--page", type=int, default=10)
    ap.add_argument("--limit", type=int, default=10)
    args = ap.parse_args(argv)

    catalog = load_catalog()
    today = dt.date(2026, 11, 25)
    started = time.perf_counter()
    pages = sweep_pages(catalog, today, args.page)
    sweep = ranks.from_pages(pages)
    albums = [IndexedAlbum(s, rank=sweep.ranks[i], catalog_size=sweep.catalog_size, tier="sweep")
              for i, s in sweep.summaries.items()]  # fmt: skip
    built = Tier1Index.build(albums, version="bench", built_at=0, now_year=today.year, catalog_size=sweep.catalog_size)
    blob = built.dumps()
    t = time.perf_counter()
    index = Tier1Index.loads(blob)
    load_s = time.perf_counter() - t
    print(f"sweep: {len(pages)} pages, {len(index)} albums indexed of {sweep.catalog_size}; artifact "
          f"{len(blob) / 1e6:.2f} MB, load {load_s * 1000:.0f} ms ({time.perf_counter() - started:.1f} s)")

    workload = Workload(catalog, seed=args.seed, warmup=0, steady=args.requests)
    queries: dict[str, str] = {}
    for r in workload.requests:
        if r.kind == "search":
            queries.setdefault(r.value, r.variant)
    asked, answered, agreed = Counter(), Counter(), Counter()
    for q, variant in queries.items():
        asked[variant] += 1
        page = index.answer(q, limit=args.limit, offset=0)
        if page is None:
            continue
        answered[variant] += 1
        _, reference, _ = catalog.index.search(parse_query(q), today, 0, 5, "US")
        agreed[variant] += [a.id for a in page.items[:5]] == [a.id for a in reference]
    n, a, g = sum(asked.values()), sum(answered.values()), sum(agreed.values())
    print(f"{n} distinct searches: {a} answered by tier 1 = {a / n:.1%}; top-5 agreement {g / max(a, 1):.1%}")
    for v in sorted(asked):
        print(f"  {v:8s} {answered[v]:4d}/{asked[v]:4d} answered, {agreed[v]} agreeing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
