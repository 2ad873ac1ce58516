"""$ per million requests: the price table (bench/prices.json) applied to each strategy's measured counts.

The CDN is simulated by hishel, an RFC 9111 shared cache, in front of each strategy's recorded
answers (``edge_replay``): every request of the run, in order, with exactly the status, headers
and body the API sent; a request the cache answers from storage is answered at the edge, one it
forwards (a miss, or a revalidation the recorded ETag answers with 304) reaches the origin with
that request's measured cost. Method and caveats: docs/design/http-caching.md.
"""

from __future__ import annotations

import gzip
import json
import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hishel
import httpx
from hishel.httpx import CacheTransport

from musicboxd.api.http_cache import none_match

PRICES_FILE = Path(__file__).with_name("prices.json")
MILLION = 1_000_000
GB = 1024**3
HEADER_BYTES = 400  # status line + headers of an answer, as sent to a viewer (approximation)
# CloudFront compresses (cache behaviour compress=True, gzip and Brotli in the cache key:
# infra/constructs/cdn.py) bodies of 1,000 bytes to 10 MB for viewers that accept it, as the
# Musicboxd app and browsers do; API Gateway has no compression configured, so it sends bodies as is.
EDGE_COMPRESSION_MIN_BYTES = 1000


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    return json.loads(path.read_text())


def unit_price(prices: dict[str, Any], name: str) -> float:
    entry = prices["prices"][name]
    return float(entry["usd"]) / float(entry["per"])


def function_memory_mb() -> dict[str, int]:
    """Configured memory of each HTTP route's function, from the CDK specs (one source of truth)."""
    from infra.constructs.layer import SPECS
    from musicboxd.routes import ROUTES

    return {route.path: SPECS[route.function].memory_mb for route in ROUTES}


@dataclass(frozen=True)
class Exchange:
    """What the bench needs of one request to price it (a view of ``bench.harness.Record``)."""

    url: str
    route: str  # API Gateway resource path, e.g. /albums/{id}
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float
    read_units: float
    write_units: float


def edge_replay(exchanges: Sequence[Exchange]) -> list[bool]:
    """For each request in order: was it answered by the shared cache (True) or forwarded?"""
    position = {"index": 0, "forwarded": False}

    def origin(request: httpx.Request) -> httpx.Response:
        position["forwarded"] = True
        recorded = exchanges[position["index"]]
        headers = dict(recorded.headers)
        etag = headers.get("ETag") or headers.get("etag")
        if etag and none_match(request.headers.get("if-none-match"), etag) and recorded.status == 200:
            kept = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
            return httpx.Response(304, headers=kept)
        return httpx.Response(recorded.status, headers=headers, content=recorded.body)

    storage = hishel.SqliteStorage(connection=sqlite3.connect(":memory:", check_same_thread=False))
    transport = CacheTransport(httpx.MockTransport(origin), storage=storage, rfc=hishel.CacheOptions(shared=True))
    answered_at_edge = []
    with httpx.Client(transport=transport) as client:
        for index, exchange in enumerate(exchanges):
            position.update(index=index, forwarded=False)
            client.get(exchange.url).read()
            answered_at_edge.append(not position["forwarded"])
    return answered_at_edge


@dataclass(frozen=True)
class Usage:
    """Counts of a set of requests, the edge's share already taken out of the origin's."""

    requests: int
    origin_requests: int
    lambda_gb_seconds: float
    read_units: float
    write_units: float
    bytes_out: int  # as API Gateway sends them
    edge_bytes_out: int  # as CloudFront sends them (gzip; Brotli, which it prefers, is smaller still)

    @classmethod
    def of(cls, exchanges: Iterable[Exchange], at_edge: Iterable[bool], memory_mb: dict[str, int]) -> Usage:
        requests = origin = 0
        gb_seconds = reads = writes = 0.0
        bytes_out = edge_bytes_out = 0
        for exchange, edge in zip(exchanges, at_edge, strict=True):
            requests += 1
            bytes_out += len(exchange.body) + HEADER_BYTES
            edge_bytes_out += edge_body_bytes(exchange.body) + HEADER_BYTES
            if edge:
                continue
            origin += 1
            billed_seconds = math.ceil(exchange.seconds * 1000) / 1000  # Lambda bills per 1 ms
            gb_seconds += billed_seconds * memory_mb.get(exchange.route, 1024) / 1024
            reads += exchange.read_units
            writes += exchange.write_units
        return cls(requests, origin, gb_seconds, reads, writes, bytes_out, edge_bytes_out)


def edge_body_bytes(body: bytes) -> int:
    """Bytes of a body as CloudFront sends it to a viewer that accepts gzip."""
    return len(gzip.compress(body)) if len(body) >= EDGE_COMPRESSION_MIN_BYTES else len(body)


def dollars_per_million(usage: Usage, prices: dict[str, Any], *, cdn: bool) -> dict[str, float]:
    """Cost of ``usage`` scaled to a million requests, per component (and ``total``)."""
    if not usage.requests:
        return {"total": 0.0}

    def price(name: str) -> float:
        return unit_price(prices, name)

    parts = {
        "api_gateway": usage.origin_requests * price("apigateway_rest_request"),
        # the stack's regional web ACL (infra/constructs/waf.py) on the API stage inspects every
        # request that reaches API Gateway, whichever strategy serves it (its $5 + $1 per rule a
        # month is not per request); with the CDN the distribution's own ACL is added below
        "waf": usage.origin_requests * price("waf_request"),
        "lambda_requests": usage.origin_requests * price("lambda_request"),
        "lambda_duration": usage.lambda_gb_seconds * price("lambda_arm64_gb_second"),
        "dynamodb_reads": usage.read_units * price("dynamodb_read_request_unit"),
        "dynamodb_writes": usage.write_units * price("dynamodb_write_request_unit"),
    }
    if cdn:  # every request is a CloudFront request; origin fetches from API Gateway are free
        parts["cloudfront_requests"] = usage.requests * price("cloudfront_https_request")
        parts["waf"] += usage.requests * price("waf_request")  # the distribution's ACL (scope CLOUDFRONT)
        parts["data_transfer"] = usage.edge_bytes_out / GB * price("cloudfront_data_out_gb")
    else:
        parts["data_transfer"] = usage.bytes_out / GB * price("apigateway_data_out_gb")
    scale = MILLION / usage.requests
    scaled = {name: value * scale for name, value in parts.items()}
    scaled["total"] = sum(scaled.values())
    return scaled


# -- from the harness's records to figures, goals and the report's lines

ROUTES_BY_KIND = {"search": "/search", "album": "/albums/{id}"}


def exchange_of(record: Any) -> Exchange:
    return Exchange(
        url=record.url, route=ROUTES_BY_KIND[record.kind], status=record.status, headers=record.response_headers,
        body=record.body, seconds=record.seconds, read_units=record.read_units, write_units=record.write_units,
    )  # fmt: skip


def strategy_cost(records: Sequence[Any], prices: dict[str, Any], memory_mb: dict[str, int]) -> dict[str, Any]:
    """Steady-phase $ per million requests without and with the CDN (its cache warmed by the warm-up)."""
    replayed = [r for r in records if r.phase in ("warmup", "steady")]
    at_edge = dict(zip((r.i for r in replayed), edge_replay([exchange_of(r) for r in replayed]), strict=True))
    steady = [r for r in replayed if r.phase == "steady"]
    exchanges = [exchange_of(r) for r in steady]
    edge_flags = [at_edge[r.i] for r in steady]
    direct = Usage.of(exchanges, [False] * len(steady), memory_mb)
    behind_cdn = Usage.of(exchanges, edge_flags, memory_mb)
    by_route = {}
    for kind, route in ROUTES_BY_KIND.items():
        flags = [edge for r, edge in zip(steady, edge_flags, strict=True) if r.kind == kind]
        by_route[route] = {"requests": len(flags), "at_edge": sum(flags),
                           "share": sum(flags) / len(flags) if flags else None}  # fmt: skip
    return {
        "without_cdn": dollars_per_million(direct, prices, cdn=False),
        "with_cdn": dollars_per_million(behind_cdn, prices, cdn=True),
        "edge_share": sum(edge_flags) / len(edge_flags) if edge_flags else None,
        "by_route": by_route,
        "per_request": {
            "lambda_ms_mean": 1000 * sum(e.seconds for e in exchanges) / len(exchanges) if exchanges else None,
            "read_units_mean": direct.read_units / direct.requests if direct.requests else None,
            "write_units_mean": direct.write_units / direct.requests if direct.requests else None,
            "bytes_mean": direct.bytes_out / direct.requests if direct.requests else None,
            "edge_bytes_mean": direct.edge_bytes_out / direct.requests if direct.requests else None,
        },
        "write_units_by_kind": _writes_by_kind(steady),
    }


def _writes_by_kind(records: Sequence[Any]) -> dict[str, float]:
    """Mean write units per steady request, by the written item's kind (``BUDGET``: the shared Spotify
    budget and client shares, one UpdateItem each per call; ``SEARCH``/``ALBUM``: cached pages)."""
    totals: dict[str, float] = {}
    for record in records:
        for kind, units in getattr(record, "writes_by_kind", {}).items():
            totals[kind] = totals.get(kind, 0.0) + units
    return {kind: units / len(records) for kind, units in sorted(totals.items())} if records else {}


def cost_figures(results: dict[str, Any]) -> dict[str, Any]:
    prices = load_prices()
    memory_mb = function_memory_mb()
    return {strategy: strategy_cost(res["records"], prices, memory_mb) for strategy, res in results.items()}


def cost_goals(mode: str, costs: dict[str, Any]) -> list[dict[str, Any]]:
    if "ours" not in costs:
        return []
    ours = costs["ours"]["with_cdn"]["total"]
    out = []
    for baseline in ("pass-through", "seed"):
        if baseline not in costs:
            continue
        theirs = costs[baseline]["without_cdn"]["total"]
        ratio = ours / theirs if theirs else None
        out.append({
            "goal": f"[{mode}] $ per million requests (steady): ours with the CDN <= 0.5x {baseline}",
            "value": ratio, "pass": ratio is not None and ratio <= 0.5,
            "shown": f"${ours:.2f} vs ${theirs:.2f} = {ratio:.2f}x" if ratio is not None else "n/a",
        })  # fmt: skip
    return out


COMPONENT_LABELS = {
    "api_gateway": "API Gateway", "waf": "WAF", "lambda_requests": "Lambda requests", "lambda_duration": "Lambda GB-s",
    "dynamodb_reads": "DynamoDB reads", "dynamodb_writes": "DynamoDB writes",
    "cloudfront_requests": "CloudFront requests", "data_transfer": "data out",
}  # fmt: skip


def cost_lines(costs: dict[str, Any], labels: dict[str, str], prices: dict[str, Any] | None = None) -> list[str]:
    """The report's cost table of one mode (markdown lines)."""
    prices = prices or load_prices()
    components = list(COMPONENT_LABELS)
    lines = [
        f"$ per million requests at steady state ({prices['region']}, on-demand list prices recorded "
        f"{prices['recorded']} in `bench/prices.json`; CDN = hishel as an RFC 9111 shared cache warmed by the "
        "warm-up, see docs/design/http-caching.md):",
        "",
        "| strategy | CDN | total $ | "
        + " | ".join(COMPONENT_LABELS[c] for c in components)
        + " | answered at the edge (/search, /albums/{id}) |",
        "|---|---|---:|" + "---:|" * len(components) + "---|",
    ]
    for strategy, figures in costs.items():
        for variant, cdn in (("without_cdn", "no"), ("with_cdn", "yes")):
            parts = figures[variant]
            edge = "-"
            if cdn == "yes":
                routes = figures["by_route"]
                edge = (
                    f"{figures['edge_share']:.1%} ("
                    + ", ".join("-" if r["share"] is None else f"{r['share']:.1%}" for r in routes.values())
                    + ")"
                )
            lines.append(
                f"| {labels.get(strategy, strategy)} | {cdn} | **{parts['total']:.2f}** | "
                + " | ".join(f"{parts[c]:.2f}" if c in parts else "-" for c in components) + f" | {edge} |"
            )  # fmt: skip
    per = {s: f["per_request"] for s, f in costs.items()}
    lines += ["", "Per request (steady, no CDN): " + "; ".join(
        f"{labels.get(s, s)} {p['lambda_ms_mean']:.1f} ms billed, {p['read_units_mean']:.2f} RRU, "
        f"{p['write_units_mean']:.2f} WRU, {p['bytes_mean'] / 1000:.1f} kB out"
        for s, p in per.items() if p["lambda_ms_mean"] is not None
    )]  # fmt: skip
    lines[-1] += (
        ". WAF: the stack's regional web ACL on the API stage, counted for every strategy per request "
        "reaching API Gateway (plus $5 + $1 per rule a month, not per request). Data out with the CDN: "
        "gzip-compressed bodies (CloudFront compresses; API Gateway, without the CDN, does not)."
    )
    return lines


def cost_note(doc: dict[str, Any]) -> str | None:
    """Why ours with the CDN is not at 0.5x the pass-through, from the figures (None when it is)."""
    for mode, figs in doc["modes"].items():
        costs = {k: v["cost"] for k, v in figs.items() if "cost" in v}
        if "ours" not in costs or "pass-through" not in costs:
            continue
        ours, base = costs["ours"], costs["pass-through"]["without_cdn"]
        cdn = ours["with_cdn"]
        target = 0.5 * base["total"]
        if cdn["total"] <= target:
            continue
        share = ours["edge_share"] or 0.0
        first_seen = figs["ours"]["steady"].get("first_seen_share") or 0.0
        edge_waf = unit_price(load_prices(), "waf_request") * MILLION  # the distribution's ACL, every request
        edge_own = cdn["cloudfront_requests"] + cdn["data_transfer"] + edge_waf
        floor = cdn["api_gateway"] + cdn.get("waf", 0.0) - edge_waf + cdn["lambda_requests"]
        work = cdn["lambda_duration"] + cdn["dynamodb_reads"] + cdn["dynamodb_writes"]
        per_origin = (cdn["total"] - edge_own) / (1 - share) if share < 1 else 0.0
        needed = 1 - (target - edge_own) / per_origin if per_origin else 0.0
        writes = ours.get("write_units_by_kind") or {}
        all_writes = sum(writes.values())
        budget = writes.get("BUDGET", 0.0)
        budget_text = (
            f" DynamoDB writes: {all_writes:.2f} WRU per steady request, {budget:.2f} of them "
            f"({budget / all_writes:.0%}) the Spotify budget's and client shares' UpdateItems (two per Spotify "
            f"call), the rest cached pages and albums."
            if all_writes
            else ""
        )
        ratio = cdn["total"] / base["total"]
        return (
            f"- **$ per million vs pass-through** ({mode}). Ours with the CDN ${cdn['total']:.2f} against "
            f"0.5x the pass-through's ${base['total']:.2f} = ${target:.2f}. The CDN answered {share:.1%} of the "
            f"steady requests: every repeat; the other {first_seen:.1%} were asked for the first time in the run "
            f"and must reach the origin. Every request pays the CDN ${edge_own:.2f} per million (requests, "
            f"the distribution's WAF, compressed transfer) and the origin share pays API Gateway + the stage's "
            f"WAF + Lambda requests, ${floor:.2f}, "
            f"before any work: that leaves ${target - edge_own - floor:.2f} for Lambda time and DynamoDB, which "
            f"cost ${work:.2f} (Lambda ${cdn['lambda_duration']:.2f}: mostly misses waiting on Spotify; DynamoDB "
            f"${cdn['dynamodb_reads'] + cdn['dynamodb_writes']:.2f}).{budget_text} At the measured "
            f"${per_origin:.2f} per million origin requests, 0.5x needs {needed:.0%} of requests answered at the "
            f"edge, i.e. at most {1 - needed:.0%} first seen. Savings the pass-through shares (Lambda memory, "
            f"fewer budget writes, cheaper API Gateway) lower it on every request and ours only on the "
            f"{1 - share:.0%} reaching the origin, so they raise the ratio while it ({ratio:.2f}x) is above that "
            "share. Lambda time is client-side latency on a shared 2-core box (an upper bound), every strategy alike."
        )
    return None
