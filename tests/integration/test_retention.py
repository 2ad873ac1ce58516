"""Retention (Spotify's terms, docs/compliance.md): every item of Spotify Content expires and
cleanup deletes it once expired - every writer of the table, every kind, over a real moto server."""

from __future__ import annotations

import importlib
import pkgutil
import time

import pytest

from musicboxd import adapters
from musicboxd.adapters.dynamo import DynamoCache, DynamoLease, make_model
from musicboxd.adapters.index_store import DynamoIndexStore, DynamoSweepStore
from musicboxd.adapters.job_stores import DynamoAlbumStore, DynamoCheckpoints, DynamoMaintenance, DynamoUsage
from musicboxd.adapters.rate_budget import DynamoBudgetStore, dynamodb_client
from musicboxd.models import SearchPage
from musicboxd.ports import SweepPage
from musicboxd.services.cleanup import KINDS, CleanupOptions, CleanupService
from tests.fakes import make_album

DAY = 86_400
# Items without Spotify Content, and why they may stay out of cleanup's kinds.
NO_SPOTIFY_CONTENT = {
    "BUDGET": "our own call counters and circuit state (no Spotify data); one item per limit setting",
    "STATS": "hourly counters of our own calls and cache outcomes, TTL-reaped (35 days), no ids or queries",
}


def _kind_of(item) -> str:
    return item.kind or item.pk.split("#", 1)[0]


def write_every_kind(settings, model, clock) -> None:
    """One item (or more) from every writer of the table, as of ``clock``."""
    cache = DynamoCache(model, clock=clock)
    cache.put_album(make_album("A" * 22), tier="searched", ttl_seconds=60)
    cache.put_missing("M" * 22, ttl_seconds=60)
    cache.put_search("SEARCH#US#homogenic|0:10", SearchPage(items=[make_album().summary()], total=1), ttl_seconds=60)
    DynamoAlbumStore(model, clock=clock).put_popular(make_album("P" * 22), tier="popular", ttl_seconds=60,
                                                     source="demand")  # fmt: skip
    DynamoLease(model, clock=clock).acquire("populate", ttl_seconds=60)
    index = DynamoIndexStore(model, clock=clock, chunk_bytes=4, ttl_seconds=60)
    index.save(b"first version", version="v1", built_at=clock(), albums=1)
    index.save(b"second version", version="v2", built_at=clock(), albums=1)  # v1's chunks: expiring in a day
    DynamoSweepStore(model, clock=clock).put_page(SweepPage("y1997", 0, 1, (make_album().summary(),)), ttl_seconds=60)
    usage = DynamoUsage(model, ttl_seconds=60, clock=clock)
    usage.add_demand("2026-01-01", {"A#" + "A" * 22: 1, "Q#homogenic": 2})
    usage.add_hourly("2026-01-01T10", {"cache:CacheMiss": 1})
    DynamoCheckpoints(model, ttl_seconds=60, clock=clock).save("populate", {"candidates": [["A" * 22, "demand", 3]]})
    budget = DynamoBudgetStore(dynamodb_client(settings.aws_region, settings.dynamodb_endpoint_url),
                               settings.table_name, name="spotify", limit=10, window_seconds=30, slice_seconds=5)  # fmt: skip
    budget.take(now=clock(), interactive=True)


@pytest.fixture
def model(table_settings):
    return make_model(table_settings)


def test_every_item_of_spotify_content_has_an_expiry_and_a_kind_cleanup_reaps(table_settings, model):
    write_every_kind(table_settings, model, time.time)
    items = list(model.scan())
    assert {_kind_of(i) for i in items} >= {"ALBUM", "MISSING", "SEARCH", "LOCK", "INDEX", "SWEEP", "DEMAND", "JOB"}
    for item in items:
        kind = _kind_of(item)
        if kind in NO_SPOTIFY_CONTENT:
            continue
        assert item.expires_at is not None, f"{item.pk}/{item.sk} ({kind}) is kept indefinitely"
        assert item.kind in KINDS, f"{item.pk}/{item.sk}: kind {item.kind!r} is never reaped by cleanup"


def test_cleanup_deletes_expired_items_of_every_kind(table_settings, model):
    now = time.time()
    write_every_kind(table_settings, model, lambda: now - 3 * DAY)  # every expiry has passed
    written = sum(_kind_of(i) not in NO_SPOTIFY_CONTENT for i in model.scan())
    report = CleanupService(DynamoMaintenance(model), DynamoCheckpoints(model)).run(
        CleanupOptions(page_size=5, refresh=False, stats=False)
    )
    assert report.status == "done"
    left = {(i.pk, i.sk): _kind_of(i) for i in model.scan()}
    spotify_left = {key: kind for key, kind in left.items() if kind not in NO_SPOTIFY_CONTENT}
    assert spotify_left == {("JOB#cleanup", "C"): "JOB"}, spotify_left  # cleanup's own, fresh checkpoint
    assert report.deleted == written


def test_every_item_kind_an_adapter_declares_is_reaped_or_holds_no_spotify_content():
    declared = {}  # item kinds are upper case (config.KIND_INDEX, the GSI's name, is not one)
    for module in pkgutil.iter_modules(adapters.__path__):
        loaded = importlib.import_module(f"{adapters.__name__}.{module.name}")
        declared |= {name: value for name, value in vars(loaded).items()
                     if name.startswith("KIND_") and isinstance(value, str) and value.isupper()}  # fmt: skip
    assert declared
    for name, kind in declared.items():
        assert kind in KINDS or kind in NO_SPOTIFY_CONTENT, f"{name} = {kind!r}: add it to cleanup.KINDS"
