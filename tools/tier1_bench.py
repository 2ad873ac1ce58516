"""Tier-1 figures against the Spotify emulator: share answered, top-5 agreement, latencies.

``python -m tools.tier1_bench [--tier-size 4000] [--queries 400] [--limit 20]``

Model (seeded, deterministic):

* **Demand.** Users ask for albums with probability proportional to ``2 ** (popularity / 8)``
  (hidden popularity: a popular album is searched far more often). A first stream of demand
  events plays the part of past traffic: its counts are the demand signal populate records.
* **Warm popular tier.** What populate would hold after a few runs: the ``--tier-size`` most
  demanded albums, plus every album of the emulator's playlists and new releases. The index is
  built from those with *our* signals only (demand counts, recency): in development mode the
  app never sees Spotify's popularity.
* **Queries.** A second, independent demand stream; for each drawn album a query is made from
  its full title (40 %), its artist's name (35 %) or a partial name (25 %: the first words of a
  multi-word title, or an artist's first word). Query cache cold: every query reaches tier 1.
* **Agreement.** For every query tier 1 answers, the emulator's ``/v1/search`` (over HTTP, same
  query, market US) gives Spotify's top 5; we report the share of answers whose top-5 ids are
  identical in order, the same as a set, and the mean overlap.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import httpx

from musicboxd.index.core import IndexedAlbum, Tier1Index
from musicboxd.models import AlbumSummary, ArtistRef


def _summary(catalog, album) -> AlbumSummary:
    artists = [ArtistRef(id=catalog.artists[i].id, name=catalog.artists[i].name) for i in album.artists]
    return AlbumSummary(
        id=album.id,
        name=album.name,
        artists=artists,
        artist_name=", ".join(a.name for a in artists),
        release_date=album.release_date or "2025-12-20",
        total_tracks=album.total_tracks,
        album_type=album.album_type,
        image_url=f"https://i.scdn.co/image/{album.id}",
        spotify_url=f"https://open.spotify.com/album/{album.id}",
    )


def demand_weights(catalog) -> list[float]:
    return [2 ** (a.popularity / 8) for a in catalog.albums]


def warm_tier(catalog, *, tier_size: int, seed: int, events: int = 50_000) -> tuple[list[IndexedAlbum], dict]:
    rng = random.Random(seed)
    weights = demand_weights(catalog)
    counts: dict[int, int] = {}
    for i in rng.choices(range(len(catalog.albums)), weights=weights, k=events):
        counts[i] = counts.get(i, 0) + 1
    chosen = set(sorted(counts, key=lambda i: -counts[i])[:tier_size])
    for p in catalog.playlists:
        chosen.update(ai for ai, _ in p.items)
    chosen.update(a.index for a in catalog.albums if a.recent_days is not None)
    albums = [
        IndexedAlbum(_summary(catalog, catalog.albums[i]), demand=counts.get(i, 0)) for i in sorted(chosen)
    ]
    return albums, counts


def make_queries(catalog, n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    weights = demand_weights(catalog)
    out = []
    for i in rng.choices(range(len(catalog.albums)), weights=weights, k=n):
        album = catalog.albums[i]
        artist = catalog.artists[album.artists[0]].name
        roll = rng.random()
        if roll < 0.40:
            out.append(("title", album.name))
        elif roll < 0.75:
            out.append(("artist", artist))
        else:
            words = album.name.split()
            if len(words) >= 3:
                out.append(("partial", " ".join(words[: rng.randint(1, len(words) - 1)])))
            else:
                out.append(("partial", artist.split()[0]))
    return out


class SpotifyTop:
    def __init__(self, base: str):
        self.http = httpx.Client(base_url=base, timeout=10)
        tok = self.http.post("/api/token", data={"grant_type": "client_credentials",
                                                 "client_id": "bench", "client_secret": "bench"}).json()
        self.http.headers["Authorization"] = f"Bearer {tok['access_token']}"

    def top(self, q: str, k: int = 5) -> tuple[list[str], float]:
        t = time.perf_counter()
        r = self.http.get("/v1/search", params={"q": q, "type": "album", "limit": k, "market": "US"})
        r.raise_for_status()
        return [a["id"] for a in r.json()["albums"]["items"]], time.perf_counter() - t


def run(tier_size: int, n_queries: int, limit: int, seed: int, verbose: bool = False) -> dict:
    from tools.emulator import load_catalog, start_emulator

    catalog = load_catalog()
    albums, _ = warm_tier(catalog, tier_size=tier_size, seed=seed)
    index = Tier1Index.build(albums, version="bench", built_at=0, now_year=2026)
    index = Tier1Index.loads(index.dumps())
    queries = make_queries(catalog, n_queries, seed + 1)
    emu = start_emulator(port=0, mode="development")
    try:
        spotify = SpotifyTop(emu.url)
        answered, exact, same_set, top1, overlap = 0, 0, 0, 0, []
        by_kind: dict[str, list[int]] = {}
        idx_lat, sug_lat, spot_lat = [], [], []
        for kind, q in queries:
            t = time.perf_counter()
            page = index.answer(q, limit=limit, offset=0)
            idx_lat.append(time.perf_counter() - t)
            t = time.perf_counter()
            index.suggest(q[: max(1, len(q) // 2)], limit=5)
            sug_lat.append(time.perf_counter() - t)
            top, lat = spotify.top(q)
            spot_lat.append(lat)
            stats = by_kind.setdefault(kind, [0, 0, 0])
            stats[0] += 1
            if page is None:
                continue
            answered += 1
            stats[1] += 1
            ours = [a.id for a in page.items[:5]]
            exact += ours == top
            same_set += set(ours) == set(top)
            top1 += ours[:1] == top[:1]
            stats[2] += ours == top
            overlap.append(len(set(ours) & set(top)) / max(1, len(top)))
            if verbose and ours != top:
                print(f"DISAGREE {kind} {q!r}\n  ours {ours}\n  spot {top}")
    finally:
        emu.stop()

    def p95(xs):
        return statistics.quantiles(xs, n=20)[-1] * 1000

    return {
        "index_albums": len(index),
        "queries": len(queries),
        "answered_share": answered / len(queries),
        "top5_exact_order": exact / max(1, answered),
        "top5_same_set": same_set / max(1, answered),
        "top1_same": top1 / max(1, answered),
        "top5_mean_overlap": statistics.fmean(overlap) if overlap else 0.0,
        "by_kind": {k: {"queries": v[0], "answered": v[1], "exact": v[2]} for k, v in by_kind.items()},
        "answer_p95_ms": p95(idx_lat),
        "suggest_p95_ms": p95(sug_lat),
        "spotify_miss_p95_ms": p95(spot_lat),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tier-size", type=int, default=4000)
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    result = run(args.tier_size, args.queries, args.limit, args.seed, args.verbose)
    for k, v in result.items():
        print(f"{k:22s} {v:.3f}" if isinstance(v, float) else f"{k:22s} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
