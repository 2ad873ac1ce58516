"""The DynamoDB adapter against a real (moto) server over HTTP."""

import threading

import botocore.session
import pytest

from musicboxd.adapters.dynamo import DynamoCache, DynamoLease, make_model
from musicboxd.config import KIND_INDEX, TTL_ATTRIBUTE
from musicboxd.errors import CacheUnavailable
from musicboxd.models import SearchPage
from musicboxd.ports import TIER_POPULAR
from musicboxd.services.catalog import search_key
from tests.fakes import FakeClock, make_album


@pytest.fixture
def cache(table_settings):
    clock = FakeClock()
    return DynamoCache(make_model(table_settings), clock=clock), clock, table_settings


def test_album_round_trip_with_many_tracks_and_unicode(cache):
    c, clock, _ = cache
    album = make_album(n_tracks=200, name="Ágætis byrjun — 坂本龍一 — Кино")
    c.put_album(album, tier=TIER_POPULAR, ttl_seconds=100)
    got = c.get_album(album.id)
    assert got.album == album and got.tier == TIER_POPULAR
    assert got.expires_at == int(clock() + 100) and got.fresh(clock())
    assert c.get_album("x" * 22) is None


def test_expired_items_are_returned_with_their_expiry_not_hidden(cache):
    """moto (like DynamoDB) keeps expired items until reaped: callers see they are stale."""
    c, clock, _ = cache
    album = make_album()
    c.put_album(album, tier="searched", ttl_seconds=10)
    clock.advance(11)
    got = c.get_album(album.id)
    assert got is not None and not got.fresh(clock())


def test_negative_entry_never_replaces_a_real_album(cache):
    c, clock, _ = cache
    c.put_missing("M" * 22, ttl_seconds=60)
    got = c.get_album("M" * 22)
    assert got.album is None and got.fresh(clock())
    album = make_album()
    c.put_album(album, tier="searched", ttl_seconds=10)
    c.put_missing(album.id, ttl_seconds=60)
    assert c.get_album(album.id).album == album


def test_search_round_trip_keeps_order_and_unicode_key(cache):
    c, clock, _ = cache
    page = SearchPage(items=[make_album(f"{i:022d}").summary() for i in range(10)], total=1234)
    key = search_key("US", "björk | homogenic 坂本", offset=0, limit=10)
    c.put_search(key, page, ttl_seconds=30)
    assert c.get_search(key).page == page
    assert c.get_search(search_key("US", "björk | homogenic 坂本", offset=10, limit=10)) is None


def test_items_carry_ttl_and_kind_for_the_index(cache, dynamodb_engine):
    c, _, settings = cache
    c.put_album(make_album(), tier="searched", ttl_seconds=100)
    client = botocore.session.get_session().create_client(
        "dynamodb", region_name="us-east-1", endpoint_url=settings.dynamodb_endpoint_url
    )
    if dynamodb_engine != "dynalite":  # dynalite has no TTL API (deployed: CDK's TimeToLiveSpecification)
        desc = client.describe_time_to_live(TableName=settings.table_name)["TimeToLiveDescription"]
        assert desc["AttributeName"] == TTL_ATTRIBUTE and desc["TimeToLiveStatus"] == "ENABLED"
    table = client.describe_table(TableName=settings.table_name)["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == [KIND_INDEX]
    item = client.get_item(
        TableName=settings.table_name, Key={"pk": {"S": f"ALBUM#{make_album().id}"}, "sk": {"S": "A"}}
    )
    assert item["Item"]["kind"] == {"S": "ALBUM"} and "N" in item["Item"][TTL_ATTRIBUTE]


def test_lease_is_exclusive_until_expiry_or_release(cache):
    c, clock, _ = cache
    a, b = DynamoLease(c.model, clock=clock), DynamoLease(c.model, clock=clock)
    assert a.acquire("job", ttl_seconds=5)
    assert not b.acquire("job", ttl_seconds=5)
    assert a.acquire("job", ttl_seconds=5)  # re-entrant for the holder
    clock.advance(6)
    assert b.acquire("job", ttl_seconds=5)
    b.release("job")
    assert a.acquire("job", ttl_seconds=5)


def test_concurrent_leases_have_one_winner(cache):
    c, clock, _ = cache
    wins = []
    leases = [DynamoLease(c.model, clock=clock) for _ in range(6)]
    threads = [
        threading.Thread(target=lambda lease=lease: wins.append(lease.acquire("x", ttl_seconds=5))) for lease in leases
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


def test_unreachable_dynamodb_is_cache_unavailable(table_settings):
    from dataclasses import replace

    broken = replace(table_settings, dynamodb_endpoint_url="http://127.0.0.1:9")
    c = DynamoCache(make_model(broken))
    with pytest.raises(CacheUnavailable):
        c.get_album(make_album().id)
    with pytest.raises(CacheUnavailable):
        c.put_album(make_album(), tier="searched", ttl_seconds=1)
