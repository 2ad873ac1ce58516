"""Tier-1 index size and load time: ``python -m tools.index_bench [--albums 50000]``.

Generates realistic album summaries with Faker (several locales and scripts, 22-char ids,
Spotify-shaped image/album URLs) with sweep ranks like populate's, builds the index, and
reports the compressed artifact size, the number of 350 KB DynamoDB chunks, and the time to
rebuild the in-memory index from the artifact (what a search Lambda pays once per container,
on top of one BatchGetItem), for the shipped layout (format 4, pickled prepared state) and
the JSON columns it replaced (format 3, still readable).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import string
import time
import zlib

from musicboxd.index.core import IndexedAlbum, Tier1Index
from musicboxd.index.ranks import Rank
from musicboxd.models import AlbumSummary, ArtistRef

LOCALES = ["en_US", "de_DE", "fr_FR", "es_ES", "ja_JP", "ru_RU", "ko_KR", "zh_CN", "sv_SE", "pt_BR"]


def _id(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=22))


def generate(n: int, seed: int = 1) -> list[IndexedAlbum]:
    from faker import Faker

    rng = random.Random(seed)
    fakers = {loc: Faker(loc) for loc in LOCALES}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(seed + i)
    artists = []
    for _ in range(max(1, n // 4)):
        f = fakers[rng.choice(LOCALES)]
        artists.append((ArtistRef(id=_id(rng), name=f.name()), f))
    out = []
    for _ in range(n):
        artist, f = rng.choice(artists)
        name = " ".join(w.capitalize() for w in f.words(rng.randint(1, 4)))
        aid = _id(rng)
        out.append(IndexedAlbum(
            AlbumSummary(
                id=aid, name=name, artists=[artist], artist_name=artist.name,
                release_date=f"{rng.randint(1960, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                release_date_precision="day", total_tracks=rng.randint(1, 30),
                album_type=rng.choice(["album", "single", "compilation"]),
                image_url=f"https://i.scdn.co/image/ab67616d0000b273{rng.getrandbits(96):024x}",
                spotify_url=f"https://open.spotify.com/album/{aid}",
            ),
            demand=rng.paretovariate(1.2),
        ))  # fmt: skip
    return out


def with_ranks(albums: list[IndexedAlbum], seed: int = 2) -> list[IndexedAlbum]:
    """What a sweep gives each album: its position in its year's list (and the global list for the
    top 1,010), an estimate with its error, and for one in three a run in a cached search page."""
    rng = random.Random(seed)
    by_year: dict[int, int] = {}
    out = []
    for n, a in enumerate(albums):
        year = int(a.summary.release_date[:4])
        pos = by_year[year] = by_year.get(year, -1) + 1
        lists = [(f"y{year}", pos)] + ([("y1960-2026", n)] if n < 1010 else [])
        if rng.random() < 0.33:
            lists.append((f"s{rng.randrange(n // 3 + 1)}.{rng.randrange(8)}", rng.randrange(10)))
        rank = Rank(year, float(n), rng.uniform(10, 500), tuple(sorted(lists)))
        out.append(dataclasses.replace(a, rank=rank, catalog_size=len(albums)))
    return out


def format3_artifact(index: Tier1Index) -> bytes:
    """The JSON column layout written before format 4: zlib JSON of the columns only."""
    doc = {"format": 3, "version": index.version, "built_at": index.built_at, "artists": index.artists,
           "catalog_size": index.catalog_size, "list_ids": index.list_ids, "searched": index.searched,
           "artist_links": index.artist_links, "cols": index.cols}  # fmt: skip
    return zlib.compress(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode(), 9)


def _load_seconds(blob: bytes, repeats: int = 3) -> tuple[list[float], Tier1Index]:
    loads = []
    for _ in range(repeats):
        started = time.perf_counter()
        loaded = Tier1Index.loads(blob)
        loads.append(time.perf_counter() - started)
    return loads, loaded


def measure(n: int) -> dict:
    albums = with_ranks(generate(n))
    t = time.perf_counter()
    index = Tier1Index.build(albums, version="bench", built_at=0, now_year=2026, catalog_size=n)
    build_s = time.perf_counter() - t
    blob = index.dumps()
    json_blob = format3_artifact(index)
    json_loads, _ = _load_seconds(json_blob)
    loads, loaded = _load_seconds(blob)
    t = time.perf_counter()
    for q in ("a", "ma", "mar", "love", "gold", "шко", "東京"):
        loaded.suggest(q, limit=10)
    suggest_ms = (time.perf_counter() - t) / 7 * 1000
    return {
        "albums": len(index), "artifact_bytes": len(blob), "chunks_350kb": -(-len(blob) // 350_000),
        "build_s": build_s, "load_s_min": min(loads), "load_s_max": max(loads), "suggest_ms_avg": suggest_ms,
        "json_artifact_bytes": len(json_blob), "json_load_s_min": min(json_loads),
        "json_load_s_max": max(json_loads),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--albums", type=int, nargs="+", default=[18_000, 50_000])
    for albums in ap.parse_args(argv).albums:
        r = measure(albums)
        print(
            f"albums {r['albums']}: artifact {r['artifact_bytes'] / 1e6:.2f} MB in {r['chunks_350kb']} chunk(s), "
            f"build {r['build_s']:.2f}s, load {r['load_s_min'] * 1000:.0f}-{r['load_s_max'] * 1000:.0f} ms "
            f"(JSON columns: {r['json_artifact_bytes'] / 1e6:.2f} MB, "
            f"{r['json_load_s_min'] * 1000:.0f}-{r['json_load_s_max'] * 1000:.0f} ms), "
            f"suggest {r['suggest_ms_avg']:.2f} ms avg"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
