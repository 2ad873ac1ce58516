"""Tier-1 verification over a real moto server and the Spotify emulator: queue, verify run, /stats."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from musicboxd import wiring
from musicboxd.adapters.dynamo import make_model
from musicboxd.adapters.verification_queue import DynamoVerificationQueue
from musicboxd.job_runner import run_verify
from musicboxd.ports import PendingCheck
from musicboxd.services.catalog import search_key
from musicboxd.services.verification import CALIBRATION_STATE, ORDER
from tools.emulator.server import start_emulator
from tools.localstack.apigw import Gateway, LambdaContext


def check(query: str, ids: tuple[str, ...], shape: str = "title", at: float = 0.0) -> PendingCheck:
    return PendingCheck(query, shape, 10, ids, at or time.time())


def test_queue_is_oldest_first_and_done_removes(table_settings):
    clock = [1_800_000_000.0]
    queue = DynamoVerificationQueue(make_model(table_settings), ttl_seconds=600, clock=lambda: clock[0])
    for n in range(3):
        queue.put([check(f"q{n}", ("a", "b"))])
        clock[0] += 1
    taken = queue.take(2)
    assert [c.query for _, c in taken] == ["q0", "q1"] and taken[0][1].tier1_ids == ("a", "b")
    queue.done([key for key, _ in taken])
    assert [c.query for _, c in queue.take(10)] == ["q2"]
    clock[0] += 601  # expired but not reaped yet by TTL: skipped
    assert queue.take(10) == []


@pytest.fixture
def stack(emulated_settings):
    emulator = start_emulator(port=0, quiet=True)
    settings = emulated_settings(
        emulator,
        usage_flush_seconds=0,
        tier1_verify_batch=10,
    )
    container = wiring.AppContainer(settings)
    wiring.set_container(container)
    control = httpx.Client(base_url=emulator.url, timeout=5)
    yield container, control
    wiring.set_container(None)
    control.close()
    emulator.stop()


def spotify_top(control: httpx.Client, query: str) -> tuple[str, ...]:
    token = control.post("/api/token", data={"grant_type": "client_credentials"}, auth=("x", "y")).json()
    answer = control.get("/v1/search", params={"q": query, "type": "album", "limit": 10, "market": "US"},
                         headers={"Authorization": f"Bearer {token['access_token']}"})  # fmt: skip
    return tuple(a["id"] for a in answer.json()["albums"]["items"])


def test_verify_run_checks_caches_calibrates_and_reports_in_stats(stack):
    container, control = stack
    right, wrong = spotify_top(control, "love"), spotify_top(control, "greatest hits")
    assert len(right) == 10 and len(wrong) == 10
    container.verification_queue.put([check("love", right)])
    container.verification_queue.put([check("greatest hits", (wrong[1], wrong[0], *wrong[2:]), shape="partial")])
    control.post("/_emulator/reset")
    report = run_verify({"verify_only": True}, LambdaContext("musicboxd-cleanup", timeout_seconds=60))
    assert (report.checked, report.agreed, report.fetched) == (2, 1, 2)
    assert control.get("/_emulator/stats").json()["by_endpoint"]["search"] == {"200": 2}  # one call per check
    cached = container.cache.get_search(search_key("US", "love", offset=0, limit=10))
    assert cached is not None and tuple(a.id for a in cached.page.items) == right  # serves the next request
    state = container.checkpoints.load(CALIBRATION_STATE)
    assert state["shapes"]["partial"]["recent"] == ORDER and state["shapes"]["title"]["agreed"] == 1
    assert container.verification_queue.take(10) == []
    signed = {"Host": "localhost", "Authorization": "AWS4-HMAC-SHA256 Credential=local"}  # /stats is IAM-only
    status, _, body = Gateway().invoke("GET", "/stats?hours=1", signed, b"")
    verification = json.loads(body)["tier1_verification"]
    assert status == 200 and verification["checked"] == 2 and verification["agreed"] == 1
    assert verification["spotify_calls"] == 2 and verification["by_shape"]["partial"]["agreement"] == 0.0
    # a second run finds the queue empty and spends nothing
    assert run_verify({}, LambdaContext("musicboxd-cleanup", timeout_seconds=60)).checked == 0
    assert control.get("/_emulator/stats").json()["by_endpoint"]["search"] == {"200": 2}


def test_operator_check_reads_the_demand_counters_and_asks_spotify_only_where_tier1_answers(stack, monkeypatch):
    from musicboxd.services.usage import day_key
    from tools.tier1_check import _configured, check

    container, control = stack
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", container.settings.dynamodb_endpoint_url)  # not make run's stack
    container.usage_store.add_demand(day_key(time.time()), {"Q#love": 5, "Q#greatest hits": 2, "A#x": 9})
    queries, tier1, spotify = _configured(10, seed=1)
    assert sorted(queries) == ["greatest hits", "love"]  # queries only, not album ids
    control.post("/_emulator/reset")
    result = check(queries, tier1, spotify)
    assert result["queries"] == 2 and result["answered"] == 0  # no index built here: tier 1 stays silent
    assert control.get("/_emulator/stats").json()["total"] == 0  # so Spotify was never asked
