"""Spotify's Developer Terms, the parts that are pure logic (docs/compliance.md names each test)."""

from __future__ import annotations

import pytest

from musicboxd.config import Settings
from musicboxd.index.core import Tier1Index
from musicboxd.models import AlbumSummary, ArtistRef
from musicboxd.ports import CachedAlbum, IndexPointer, SweepPage
from musicboxd.services.tier1 import rebuild_index
from tests.fakes import FakeClock


def test_the_popularity_sweep_is_off_unless_chosen():
    assert Settings().populate_sweep is False
    assert Settings.from_env({}).populate_sweep is False
    assert Settings.from_env({"POPULATE_SWEEP": "true"}).populate_sweep is True


@pytest.mark.parametrize("value", ["9999", "50001", "1000000"])
def test_index_size_bound_stays_within_what_tier_1_needs(value):
    with pytest.raises(ValueError, match="INDEX_MAX_ALBUMS must be at (least 10000|most 50000)"):
        Settings.from_env({"INDEX_MAX_ALBUMS": value})
    assert 10_000 <= Settings().index_max_albums <= 50_000


class _Kept:
    def save(self, blob: bytes, *, version: str, built_at: float, albums: int) -> IndexPointer:
        self.blob = blob
        return IndexPointer(version, 1, "", len(blob), built_at, albums)


class _NoPopular:
    def popular_albums(self) -> list[CachedAlbum]:
        return []


class _Sweep:
    def __init__(self, pages: list[SweepPage]) -> None:
        self._pages = pages

    def pages(self) -> list[SweepPage]:
        return self._pages

    def put_page(self, page: SweepPage, *, ttl_seconds: int) -> None:
        self._pages.append(page)


def _album(n: int) -> AlbumSummary:
    return AlbumSummary(id=f"{n:022d}", name=f"Album {n}", artists=[ArtistRef(id="a", name="Band")],
                        artist_name="Band", release_date="2001")  # fmt: skip


def test_the_index_keeps_at_most_index_max_albums_the_best_ranked():
    albums = [_album(n) for n in range(30)]  # Spotify's popularity order for 2001
    pages = [SweepPage("y2001", offset, 30, tuple(albums[offset : offset + 10])) for offset in (0, 10, 20)]
    kept = _Kept()
    pointer = rebuild_index(_NoPopular(), kept, sweeps=_Sweep(pages), clock=FakeClock(), max_albums=12)
    index = Tier1Index.loads(kept.blob)
    assert pointer.albums == len(index) == 12
    assert set(index.cols["id"]) == {a.id for a in albums[:12]}  # the most popular twelve


# What the sweep and the index derive about Spotify's popularity (musicboxd.index.ranks/core):
# never served, never exported (Spotify's terms: no derived metrics, docs/compliance.md).
RANK_FIELDS = {"rank", "ranks", "est", "err", "lists", "list_ids", "score", "catalog_size", "position", "year_totals",
               "estimate", "popularity_estimate", "sweep"}  # fmt: skip


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_rank_data_never_leaves_the_service():
    """No response (tier-1 answers and suggestions of an index built with a sweep), no schema of
    the OpenAPI document (/stats included), no metric name or dimension carries rank data."""
    import json

    from musicboxd import metric_names, wiring
    from musicboxd.api.openapi import openapi_document
    from tests.unit.test_api_tier1 import Tier1Container
    from tools.localstack.apigw import Gateway

    fake = Tier1Container()
    assert fake.tier1.index().catalog_size  # ranks are in the index
    wiring.set_container(fake)
    try:
        bodies = [json.loads(Gateway().invoke("GET", path, {"Host": "localhost"}, b"")[2])
                  for path in ("/search?q=gold&limit=5", "/suggest?q=gol&limit=10", "/suggest?q=bj")]  # fmt: skip
    finally:
        wiring.set_container(None)
    assert bodies[0]["source"] == "popular" and bodies[1]["suggestions"]
    for body in bodies:
        assert not _keys(body) & RANK_FIELDS, body
    schemas = openapi_document()["components"]["schemas"]
    assert "StatsResponse" in schemas and "AlbumResponse" in schemas
    for name, schema in schemas.items():
        assert not set(schema.get("properties", {})) & RANK_FIELDS, name
    names = [v for k, v in vars(metric_names).items() if k.isupper() and isinstance(v, str) and k != "NAMESPACE"]
    assert names and not [n for n in names if any(w in n.lower() for w in ("rank", "popularity", "estimate"))]
    assert "the only dimension is ``service``" in metric_names.__doc__


def test_every_test_docs_compliance_names_exists():
    """docs/compliance.md names the tests that show each clause: a renamed test must be renamed there too."""
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)", (root / "docs" / "compliance.md").read_text())
    assert len(named) >= 15
    for path, name in named:
        tree = ast.parse((root / path).read_text())
        functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert name in functions, f"docs/compliance.md names {path}::{name}, which does not exist"
