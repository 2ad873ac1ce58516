"""The cost model: request units from a real moto server, the CDN replay, prices per million."""

from __future__ import annotations

import json

import botocore.session
import pytest

from bench.capacity import CapacityMeter, item_size
from bench.cost import Exchange, Usage, dollars_per_million, edge_replay, load_prices


def exchange(url: str, cache_control: str | None, *, etag: str = '"a"', body: bytes = b'{"x":1}') -> Exchange:
    headers = {"Content-Type": "application/json", "ETag": etag, "Date": "Mon, 30 Nov 2026 12:00:00 GMT"}
    if cache_control:
        headers["Cache-Control"] = cache_control
    return Exchange(url=url, route="/search", status=200, headers=headers, body=body, seconds=0.0101,
                    read_units=0.5, write_units=1.0)  # fmt: skip


def test_edge_replay_honours_exactly_the_headers_sent():
    import email.utils

    now = email.utils.formatdate(usegmt=True)
    fresh = [exchange("http://api/search?q=a", "public, max-age=60, s-maxage=3600") for _ in range(3)]
    private = [exchange("http://api/search?q=b", "private, max-age=3600") for _ in range(2)]
    stored_nowhere = [exchange("http://api/search?q=c", "no-store") for _ in range(2)]
    revalidated = [exchange("http://api/search?q=d", "no-cache") for _ in range(2)]
    other_key = [exchange("http://api/search?q=a&limit=3", "public, s-maxage=3600")]
    for e in fresh + private + stored_nowhere + revalidated + other_key:
        e.headers["Date"] = now
    flags = edge_replay(fresh + private + stored_nowhere + revalidated + other_key)
    assert flags == [False, True, True, False, False, False, False, False, False, False]


def test_usage_and_dollars_take_the_edge_out_of_the_origin():
    exchanges = [exchange(f"http://api/search?q={i}", None, body=b"x" * 600) for i in range(4)]
    usage = Usage.of(exchanges, [True, True, False, False], {"/search": 2048})
    assert (usage.requests, usage.origin_requests) == (4, 2)
    assert usage.lambda_gb_seconds == pytest.approx(2 * 0.011 * 2)  # 10.1 ms billed as 11 ms, 2 GB
    assert (usage.read_units, usage.write_units) == (1.0, 2.0)
    prices = load_prices()
    direct = dollars_per_million(Usage.of(exchanges, [False] * 4, {"/search": 2048}), prices, cdn=False)
    behind = dollars_per_million(usage, prices, cdn=True)
    assert direct["api_gateway"] == pytest.approx(3.5) and behind["api_gateway"] == pytest.approx(1.75)
    assert behind["cloudfront_requests"] == pytest.approx(1.0) and "cloudfront_requests" not in direct
    assert direct["total"] == pytest.approx(sum(v for k, v in direct.items() if k != "total"))
    # the stage's web ACL inspects what reaches API Gateway, for every strategy alike; with the CDN
    # the distribution's ACL inspects every request too
    assert direct["waf"] == pytest.approx(0.6) and behind["waf"] == pytest.approx(0.3 + 0.6)


def test_the_edge_sends_compressible_bodies_gzipped_and_api_gateway_does_not():
    body = json.dumps({"albums": [{"name": f"Album {i}", "artist": "Someone"} for i in range(100)]}).encode()
    usage = Usage.of([exchange("http://api/search?q=a", None, body=body)], [False], {"/search": 1024})
    assert usage.bytes_out == len(body) + 400 and usage.edge_bytes_out < len(body) / 4
    small = Usage.of([exchange("http://api/search?q=a", None, body=b"x" * 999)], [False], {"/search": 1024})
    assert small.edge_bytes_out == small.bytes_out  # under CloudFront's 1,000-byte floor: sent as is


def test_every_price_names_its_unit_and_source():
    prices = load_prices()
    assert prices["region"] and prices["recorded"]
    for name, entry in prices["prices"].items():
        assert entry["usd"] > 0 and entry["per"] > 0 and entry["unit"], name
        assert entry["source"].startswith("https://aws.amazon.com/"), name
        assert entry["checked"], name  # the date the price was compared with its source page


def test_request_units_follow_item_sizes_on_a_real_table(moto_url):
    client = botocore.session.get_session().create_client("dynamodb", region_name="us-east-1",
                                                          endpoint_url=moto_url)  # fmt: skip
    meter = CapacityMeter()
    meter.install(client)
    client.create_table(TableName="units", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])  # fmt: skip
    item = {"pk": {"S": "A"}, "data": {"S": "x" * 2500}}
    assert item_size(item) == len("pk") + 1 + len("data") + 2500
    client.put_item(TableName="units", Item=item)
    assert (meter.read_units, meter.write_units) == (0.0, 3.0)  # 2.5 KB: 3 write units
    client.get_item(TableName="units", Key={"pk": {"S": "A"}})
    client.get_item(TableName="units", Key={"pk": {"S": "A"}}, ConsistentRead=True)
    assert meter.read_units == 1.5  # one 4 KB unit, halved when eventually consistent
    answer = client.update_item(TableName="units", Key={"pk": {"S": "A"}}, UpdateExpression="SET n = :one",
                                ExpressionAttributeValues={":one": {"N": "1"}})  # fmt: skip
    assert "Attributes" not in answer  # sized with ALL_NEW, not shown to the caller
    assert meter.write_units == 6.0
    json.dumps(answer, default=str)
