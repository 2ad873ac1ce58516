"""Fault injection over the local API (moto + emulator + API Gateway emulation, real HTTP).

Every test asserts the status, ``source``, a latency bound, and that no cache item was lost
or changed by the fault (items before == the same items after).
"""

from __future__ import annotations

import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

pytest.importorskip("tools.emulator.server", reason="needs the Spotify emulator (tools/emulator)")

from tests.e2e.resilience_stack import record_figures, resilience_stack  # noqa: E402

pytestmark = pytest.mark.timeout(120)

UPSTREAM_BUDGET = 3.0
BOUND = UPSTREAM_BUDGET + 1.0  # upstream budget + DynamoDB and local overhead
WORST: dict[str, float] = {}


@pytest.fixture(scope="module")
def stack():
    with resilience_stack(SPOTIFY_RATE_LIMIT="500", HTTP_TIMEOUT_SECONDS="1.5", POPULATE_ON_START="false") as s:
        s.get("/search", q="warm up")  # moto's first SSM call imports half of moto (~2 s)
        yield s
        record_figures("faults", {"worst_latency_s_by_test": WORST, "worst_latency_s": max(WORST.values(), default=0)})


@pytest.fixture
def st(stack, request):
    stack.reset_resilience_state()
    stack.latencies.clear()
    yield stack
    stack.clear_faults()
    WORST[request.node.name] = round(max(stack.latencies, default=0.0), 3)


def words(stack, n, seed):
    """Distinct real album names of the emulator's catalog (uncached queries)."""
    names = [a["name"] for a in stack.sample(n * 2, seed=seed)["albums"]]
    return list(dict.fromkeys(names))[:n]


def assert_envelope(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    assert body["error"]["code"] and body["error"]["message"]
    return body


def expire(stack, pk_prefix):
    """Make cached items stale (expired, not reaped), as DynamoDB TTL leaves them."""
    client = stack.dynamodb()
    for (pk, sk), _ in stack.items().items():
        if pk.startswith(pk_prefix):
            client.update_item(
                TableName=os.environ["TABLE_NAME"],
                Key={"pk": {"S": pk}, "sk": {"S": sk}},
                UpdateExpression="SET expires_at = :t",
                ExpressionAttributeValues={":t": {"N": str(int(time.time()) - 60)}},
            )
    from musicboxd.wiring import container

    clear = getattr(container().cache, "clear", None)  # the warm container's in-memory L1 (a new container's is empty)
    if clear is not None:
        clear()


def album_ids(stack, n=2, seed=3):
    return [a["id"] for a in stack.sample(n, seed=seed)["albums"]]


def test_429_retry_after_3600_one_spotify_call_then_cached_answers_only(st):
    cached = words(st, 3, seed=1)
    for q in cached:
        assert st.get("/search", q=q)[0].status_code == 200
    album = album_ids(st, 1)[0]
    assert st.get(f"/albums/{album}")[0].status_code == 200
    before = st.items()
    calls_before = st.spotify_calls()
    st.faults({"path": r"^/v1/", "status": 429, "retry_after": 3600})

    statuses, sources = [], []
    for q in words(st, 25, seed=2):
        response, elapsed = st.get("/search", q=q)
        assert elapsed < BOUND
        statuses.append(response.status_code)
        if response.status_code == 200:
            sources.append(response.json()["source"])
        else:
            assert_envelope(response, 503)
            assert int(response.headers["Retry-After"]) >= 3500
    for q in cached:
        response, elapsed = st.get("/search", q=q)
        assert response.status_code == 200 and response.json()["source"] == "cache" and elapsed < BOUND
    response, _ = st.get(f"/albums/{album}")
    assert response.status_code == 200 and response.json()["source"] == "cache"
    response, _ = st.get(f"/albums/{'Z' * 22}")  # uncached album: MusicBrainz cannot help
    assert_envelope(response, 503)

    during = st.spotify_calls() - calls_before
    assert during <= 1
    assert set(sources) <= {"musicbrainz", "cache-only"}
    assert "musicbrainz" in sources  # the first fallback answered at least once (1 req/s)
    after = st.items()
    assert {k: after[k] for k in before} == before
    assert len(after) == len(before)  # fallback answers are never cached
    record_figures(
        "circuit_429",
        {
            "distinct_uncached_searches": 25,
            "spotify_calls_during_429_window": during,
            "statuses": {s: statuses.count(s) for s in set(statuses)},
            "sources": {s: sources.count(s) for s in set(sources)},
        },
    )


def test_circuit_expiry_lets_exactly_one_probe_through_then_reopens(st):
    st.get("/search", q="warm")
    st.faults({"path": r"^/v1/search", "status": 429, "retry_after": 2, "times": 1})
    response, _ = st.get("/search", q="first query")
    assert response.status_code in (200, 503)
    calls = st.spotify_calls()
    time.sleep(2.2)
    qs = [f"probe {i}" for i in range(12)]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda q: st.get("/search", q=q), qs))
    assert all(r.status_code in (200, 503) for r, _ in answers)
    spotify_answers = [r for r, _ in answers if r.status_code == 200 and r.json()["source"] == "spotify"]
    assert spotify_answers  # the probe went through and reopened the circuit
    time.sleep(1.1)
    response, _ = st.get("/search", q="after the probe")
    assert response.status_code == 200 and response.json()["source"] == "spotify"
    assert st.spotify_calls() > calls


def test_expired_circuit_lets_exactly_one_probe_through(st):
    st.faults({"path": r"^/v1/", "status": 429, "retry_after": 2})
    st.get("/search", q="closing query")
    assert st.spotify_calls() == 1
    time.sleep(2.2)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: st.get("/search", q=f"burst {i}"), range(16)))
    assert all(r.status_code in (200, 503) for r, _ in answers)
    assert st.spotify_calls() == 2  # one probe, answered 429 again: closed again for everyone


def test_quota_exceeded_closes_the_circuit_for_long(st):
    body = {"error": {"status": 429, "message": "Quota exceeded", "reason": "QUOTA_EXCEEDED"}}
    st.faults({"path": r"^/v1/", "status": 429, "retry_after": 2, "body": body})
    response, elapsed = st.get("/search", q="quota one")
    assert elapsed < BOUND
    calls = st.spotify_calls()
    assert calls == 1
    budget = [i for i in st.items(include_budget=True).values() if i["pk"]["S"] == "BUDGET#spotify"][0]
    assert float(budget["cu"]["N"]) > time.time() + 3000 and budget["q"]["BOOL"] is True
    st.clear_faults()
    time.sleep(2.5)  # Spotify's Retry-After has passed, the quota closure has not
    for q in ("quota two", "quota three"):
        response, elapsed = st.get("/search", q=q)
        assert elapsed < BOUND
        if response.status_code == 503:
            assert int(response.headers["Retry-After"]) > 3000
        else:
            assert response.json()["source"] in ("musicbrainz", "cache-only")
    assert st.spotify_calls() == calls


def test_5xx_burst_is_retried_within_the_deadline(st):
    st.faults({"path": r"^/v1/search", "status": 500, "times": 2})
    response, elapsed = st.get("/search", q="burst query")
    assert response.status_code == 200 and response.json()["source"] == "spotify"
    assert elapsed < BOUND
    assert st.stats()["by_endpoint"]["search"].get("500") == 2


def test_persistent_5xx_degrades_stale_then_musicbrainz(st):
    st.get("/search", q="stale one")
    album = album_ids(st, 1, seed=5)[0]
    st.get(f"/albums/{album}")
    expire(st, "SEARCH#")
    expire(st, "ALBUM#")
    before = st.items()
    st.faults({"path": r"^/v1/", "status": 503})
    response, elapsed = st.get("/search", q="stale one")
    assert response.status_code == 200 and elapsed < BOUND
    assert response.json()["source"] == "stale" and response.headers["X-Cache"] == "STALE"
    response, elapsed = st.get(f"/albums/{album}")
    assert response.status_code == 200 and response.json()["source"] == "stale" and elapsed < BOUND
    response, elapsed = st.get("/search", q="never searched before")
    assert elapsed < BOUND
    assert response.status_code == 200 and response.json()["source"] == "musicbrainz"
    assert all(a["mbid"] and a["image_url"].endswith("/front-500") for a in response.json()["albums"])
    assert st.items() == before  # stale items kept, nothing overwritten


def test_slow_upstream_times_out_and_degrades_within_budget(st):
    st.get("/search", q="slow one")
    expire(st, "SEARCH#")
    before = st.items()
    st.faults({"path": r"^/v1/", "status": 0, "latency_ms": 6000})
    response, elapsed = st.get("/search", q="slow one")
    assert response.status_code == 200 and response.json()["source"] == "stale"
    assert elapsed < BOUND
    response, elapsed = st.get("/search", q="slow and uncached")
    assert elapsed < BOUND
    assert response.status_code in (200, 503)
    if response.status_code == 503:
        assert_envelope(response, 503)
    assert st.items() == before


def test_401_mid_flight_refreshes_the_token_once(st):
    st.get("/search", q="token warm")
    issued = st.stats()["tokens_issued"]
    st.faults({"path": r"^/v1/search", "status": 401, "times": 1})
    response, elapsed = st.get("/search", q="token test")
    assert response.status_code == 200 and response.json()["source"] == "spotify" and elapsed < BOUND
    assert st.stats()["tokens_issued"] == issued + 1
    response, _ = st.get("/search", q="token test two")
    assert response.status_code == 200 and st.stats()["tokens_issued"] == issued + 1


def _dead_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # closed again: connections are refused


def test_dynamodb_down_answers_from_spotify_without_caching(st):
    from musicboxd import wiring
    from musicboxd.config import settings

    st.get("/search", q="dynamo warm")
    before = st.items()
    broken = wiring.AppContainer(replace(settings(), dynamodb_endpoint_url=_dead_endpoint()))
    wiring.set_container(broken)
    try:
        calls = st.spotify_calls()
        for q in ("dynamo down one", "dynamo down two"):
            response, elapsed = st.get("/search", q=q)
            assert response.status_code == 200 and response.json()["source"] == "spotify"
            assert elapsed < BOUND
        album = album_ids(st, 1, seed=9)[0]
        response, elapsed = st.get(f"/albums/{album}")
        assert response.status_code == 200 and response.json()["source"] == "spotify" and elapsed < BOUND
        assert st.spotify_calls() > calls
        assert broken.spotify_budget.local_grants >= 3  # the budget failed open, locally limited
    finally:
        wiring.set_container(None)
    assert st.items() == before  # nothing written, nothing lost


def test_dynamodb_errors_from_the_table_are_survived(st, monkeypatch):
    """Throttling inside DynamoDB (moto raising ProvisionedThroughputExceeded on every call)."""
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
    from moto.dynamodb.models import DynamoDBBackend

    st.get("/search", q="throttle warm")
    before = st.items()

    def throttled(*args, **kwargs):
        raise DynamodbException(ERROR_TYPE_PREFIX + "ProvisionedThroughputExceededException", "Rate exceeded")

    for name in ("get_item", "put_item", "update_item", "query"):
        monkeypatch.setattr(DynamoDBBackend, name, throttled)
    response, elapsed = st.get("/search", q="throttled query")
    assert response.status_code == 200 and response.json()["source"] == "spotify" and elapsed < BOUND
    monkeypatch.undo()
    assert st.items() == before


def test_lambda_deadline_near_never_waits_past_it(st):
    st.get("/search", q="deadline one")
    expire(st, "SEARCH#")
    st.faults({"path": r"^/v1/", "status": 0, "latency_ms": 3000})
    gateway = st.local.gateway
    timeout = gateway.timeout
    gateway.timeout = 0.9  # the Lambda has 0.9 s left: 0.4 s for upstreams after the 0.5 s margin
    try:
        response, elapsed = st.get("/search", q="deadline one")
        assert response.status_code == 200 and response.json()["source"] == "stale"
        assert elapsed < 0.9
        response, elapsed = st.get("/search", q="deadline uncached")
        assert response.status_code in (200, 503) and elapsed < 0.9
    finally:
        gateway.timeout = timeout
