"""Populate, cleanup and /stats against the Spotify emulator and a real moto server, in both modes."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import httpx
import pytest

pytest.importorskip("tools.emulator.server")

from musicboxd import wiring  # noqa: E402
from musicboxd.adapters.dynamo import DynamoCache  # noqa: E402
from musicboxd.job_runner import run_cleanup, run_populate  # noqa: E402
from tests.fakes import make_album  # noqa: E402
from tools.emulator.catalog import load_catalog  # noqa: E402
from tools.emulator.server import start_emulator  # noqa: E402
from tools.localstack.apigw import Gateway, LambdaContext  # noqa: E402

DAY = 86_400
COUNTING_LAMBDA_SECONDS = 120.0  # see `upstream_budget_seconds` in the fixture


@pytest.fixture(scope="module")
def playlists():
    catalog = load_catalog()
    return [p.id for p in catalog.playlists[:2]]


@pytest.fixture(params=["development", "extended"])
def stack(request, emulated_settings, playlists):
    mode = request.param
    emulator = start_emulator(port=0, quiet=True, mode=mode)
    settings = emulated_settings(
        emulator,
        spotify_mode=mode,
        populate_playlists=tuple(playlists),
        usage_flush_seconds=0,  # demand counters written after every request
        rate_limit_per_window=100_000,  # the shared Spotify budget has its own tests (test_rate_budget, e2e)
        populate_sweep=False,  # the sweep has its own test below (a full one is ~1,900 calls)
        # These tests count calls and items, not latency (the e2e suites bound that): on a CPU-starved
        # box a request's first DynamoDB/SSM/Spotify round trips can take longer than a real Lambda's
        # 10 s, and a 503 there would fail a count, so the simulated Lambda gets more time (Gateway below).
        upstream_budget_seconds=30,
    )
    container = wiring.AppContainer(settings)
    wiring.set_container(container)
    control = httpx.Client(base_url=emulator.url, timeout=5)
    gateway = Gateway(timeout_seconds=COUNTING_LAMBDA_SECONDS)

    class Stack:
        pass

    s = Stack()
    s.mode, s.emulator, s.container, s.control, s.settings = mode, emulator, container, control, settings

    def api(path):
        signed = {"Host": "localhost", "Authorization": "AWS4-HMAC-SHA256 Credential=local"}  # /stats is IAM-only
        status, headers, body = gateway.invoke("GET", path, signed, b"")
        return status, headers, json.loads(body)

    def stats():
        return control.get("/_emulator/stats").json()

    def calls(endpoints=None):
        by = stats()["by_endpoint"]
        return sum(sum(v.values()) for k, v in by.items() if endpoints is None or k in endpoints)

    s.api, s.stats, s.calls = api, stats, calls
    yield s
    wiring.set_container(None)
    control.close()
    emulator.stop()


def populate(event, *, timeout=900.0, progress=None):
    return run_populate(event, LambdaContext("musicboxd-populate", timeout_seconds=timeout), progress=progress)


def cached_albums(container):
    return {i.pk.removeprefix("ALBUM#"): i for i in container.model.scan() if i.kind == "ALBUM"}


def test_populate_caches_albums_from_each_source(stack):
    # users asked for things: demand counters come from real API requests
    sample = stack.control.get("/_emulator/catalog/sample").json()
    album_id = sample["albums"][0]["id"] if isinstance(sample.get("albums"), list) else None
    assert stack.api("/search?q=love")[0] == 200
    if album_id:
        assert stack.api(f"/albums/{album_id}")[0] == 200
    before = stack.calls()
    report = populate({"budget": 400, "max_per_source": 40})
    assert report.status == "done", report
    assert set(report.by_source) >= {"demand", "new_releases", "playlists"}
    assert report.calls == stack.calls() - before  # the meter agrees with what the emulator counted
    assert report.albums_cached > 0 and report.albums_per_call > 0
    items = cached_albums(stack.container)
    origins = {i.origin for i in items.values() if i.tier == "popular"}
    assert origins >= {"new_releases", "playlists"}
    for item in items.values():
        if item.tier == "popular":
            assert item.expires_at > time.time() + 9 * DAY
    by_endpoint = stack.stats()["by_endpoint"]
    if stack.mode == "extended":
        assert by_endpoint.get("albums") and by_endpoint.get("new_releases")
        assert report.albums_per_call > 5
    else:
        assert not by_endpoint.get("albums") and not by_endpoint.get("new_releases")
        assert report.albums_per_call < 1
    print(f"\n{stack.mode}: {report.albums_cached} albums / {report.calls} calls = {report.albums_per_call}")


def test_the_sweep_builds_an_index_that_answers_searches_like_spotify(stack):
    year = time.gmtime().tm_year
    before = stack.calls()
    report = populate({"sources": [], "sweep": True, "sweep_from_year": year, "budget": 600})
    assert report.status == "done", report
    assert report.calls == stack.calls() - before and report.sweep_pages == report.calls
    index = stack.container.tier1.index()
    assert index is not None and index.catalog_size > 1000 and len(index) > 1000
    # "artist title" of this year's albums: one best match each, answered without Spotify
    emulator_ids = set(index.cols["id"])
    answered = 0
    for i in range(0, 400, 20):
        query = f"{index.artist_name(i)} {index.cols['name'][i]}"
        calls = stack.calls()
        status, headers, body = stack.api(f"/search?q={quote(query)}&limit=5")
        assert status == 200
        if body["source"] != "popular":
            continue
        answered += 1
        assert headers["X-Cache"] == "HIT" and stack.calls() == calls
        assert {a["id"] for a in body["albums"]} <= emulator_ids
        spotify = stack.control.get("/v1/search", params={"q": query, "type": "album", "limit": 5, "market": "US"},
                                    headers={"Authorization": "Bearer x"})  # fmt: skip
        if spotify.status_code == 200:
            assert body["albums"][0]["id"] == spotify.json()["albums"]["items"][0]["id"]
    assert answered >= 15
    calls = stack.calls()
    for prefix in ("gre", "lo", "bjö", "東"):  # typeahead: answered from the index only
        status, _, body = stack.api(f"/suggest?q={quote(prefix)}&limit=5")
        assert status == 200 and body["source"] == "index"
    assert stack.calls() == calls


def test_a_run_cut_by_the_budget_resumes_without_refetching(stack):
    budget = 25 if stack.mode == "development" else 4  # extended: 2 candidate pages + 2 batches of 20
    first = populate({"budget": budget, "sources": ["new_releases"], "max_per_source": 60})
    assert first.status == "stopped" and first.reason == "budget"
    assert first.calls <= budget and stack.calls() == first.calls
    detail = {"album", "albums"}
    detail_first = stack.calls(detail)
    second = populate({"budget": 500, "sources": ["new_releases"], "max_per_source": 60})
    assert second.status == "done" and second.resumed
    assert first.albums_cached + second.albums_cached == second.run_albums_cached
    total_detail = stack.calls(detail)
    if stack.mode == "development":
        assert total_detail == second.run_albums_cached + second.missing  # one call per album, none twice
    else:
        assert total_detail - detail_first <= -(-second.albums_cached // 20) + 1
    assert len([i for i in cached_albums(stack.container).values() if i.tier == "popular"]) == second.run_albums_cached


def test_a_run_cut_by_the_lambda_deadline_resumes(stack):
    state = {"n": 0}

    def progress(p):
        state["n"] += 1

    # a context whose clock runs out once the first fetch batch is done
    class Ctx(LambdaContext):
        def get_remaining_time_in_millis(self):
            return 60_000 if state["n"] < 3 else 1_000

    report = run_populate(
        {"budget": 500, "sources": ["new_releases"], "max_per_source": 60}, Ctx("musicboxd-populate"), progress=progress
    )
    assert report.status == "stopped" and report.reason == "deadline"
    again = populate({"budget": 500, "sources": ["new_releases"], "max_per_source": 60})
    assert again.status == "done" and again.resumed
    assert again.run_albums_cached == len([i for i in cached_albums(stack.container).values() if i.tier == "popular"])


def test_a_429_mid_run_stops_cleanly_with_the_checkpoint_saved(stack):
    def progress(p):
        if p.phase == "fetch" and p.done >= 20:
            stack.control.post(
                "/_emulator/faults", json={"rules": [{"path": "^/v1/albums", "status": 429, "retry_after": 3600}]}
            )

    report = populate({"budget": 500, "sources": ["new_releases"], "max_per_source": 80}, progress=progress)
    assert report.status == "stopped" and report.reason == "rate_limited"
    by = stack.stats()["by_endpoint"]
    throttled = sum(v.get("429", 0) for v in by.values())
    assert throttled == 1  # one 429, then nothing more
    checkpoint = stack.container.model.get("JOB#populate", "C")
    assert checkpoint is not None
    cached_before = len(cached_albums(stack.container))
    # within Retry-After: a new invocation makes no call at all
    calls = stack.calls()
    deferred = populate({"budget": 500})
    assert deferred.status == "deferred" and stack.calls() == calls
    # after it (forced here), it resumes where it stopped
    stack.control.delete("/_emulator/faults")
    stack.container.spotify_budget.reset_circuit()  # Retry-After over: the shared 429 circuit blocks forced runs too
    resumed = populate({"budget": 500, "sources": ["new_releases"], "max_per_source": 80, "force": True})
    assert resumed.status == "done" and resumed.resumed
    assert resumed.albums_cached == resumed.run_albums_cached - cached_before


def test_cleanup_removes_only_expired_items_and_refreshes_hot_ones(stack):
    model = stack.container.model
    now = time.time()
    old = DynamoCache(model, clock=lambda: now - 40 * DAY)
    for i in range(12):
        old.put_album(make_album(f"X{i:021d}"), tier="searched", ttl_seconds=DAY)
    populate({"budget": 60, "sources": ["new_releases"], "max_per_source": 20})
    fresh_before = {k for k, v in cached_albums(stack.container).items() if v.expires_at > now}
    # one hot album expiring within the day (asked for through the API)
    hot = sorted(fresh_before)[0]
    DynamoCache(model, clock=lambda: now - 10 * DAY + 3600).put_album(
        DynamoCache(model).get_album(hot).album, tier="popular", ttl_seconds=10 * DAY
    )
    assert stack.api(f"/albums/{hot}")[0] == 200
    report = run_cleanup({"budget": 5}, LambdaContext("musicboxd-cleanup", timeout_seconds=60))
    assert report.status == "done" and report.deleted == 12
    after = cached_albums(stack.container)
    assert set(after) == fresh_before
    assert report.refreshed == 1 and after[hot].expires_at > now + 9 * DAY
    assert report.stats["expired_unreaped"] == 0 and report.stats["items"]["popular"] >= 1


def test_stats_match_the_calls_the_emulator_counted(stack):
    populate({"budget": 40, "sources": ["new_releases"], "max_per_source": 30})
    for q in ("love", "night", "love"):
        stack.api(f"/search?q={q}")
    stack.control.post(
        "/_emulator/faults", json={"rules": [{"path": "^/v1/search", "status": 429, "retry_after": 5, "times": 1}]}
    )
    stack.api("/search?q=rain")
    status, _, body = stack.api("/stats?hours=2")
    assert status == 200
    emulator = stack.stats()["by_endpoint"]
    expected = {k: sum(v.values()) for k, v in emulator.items() if sum(v.values())}
    assert body["spotify_calls"]["by_endpoint"] == expected
    statuses: dict[str, int] = {}
    for v in emulator.values():
        for code, n in v.items():
            statuses[code] = statuses.get(code, 0) + n
    assert body["spotify_calls"]["by_status"] == statuses
    assert body["spotify_calls"]["total"] == sum(expected.values())
    assert body["cache"]["hits_searched"] == 1 and body["cache"]["misses"] == 3
    assert body["avg_upstream_latency_ms"] > 0


def test_a_failed_index_build_is_an_error_with_a_metric_and_the_job_waits_longer(stack, caplog):
    from botocore.exceptions import ReadTimeoutError

    class SlowPopularTier:  # what moto did on a busy box: the index build's query outlived a 2 s read timeout
        def popular_albums(self):
            raise ReadTimeoutError(endpoint_url=stack.settings.dynamodb_endpoint_url)

    counted = []

    class Recorder:
        def count(self, name, value=1):
            counted.append(name)

    stack.container.popular_albums = SlowPopularTier()  # read by every build, with or without the sweep
    stack.container.telemetry = Recorder()
    report = populate({"budget": 60, "sources": ["new_releases"], "max_per_source": 10})
    assert report.status == "done" and report.albums_cached > 0  # the popular tier is written all the same
    failures = [r for r in caplog.records if r.getMessage() == "tier-1 index rebuild failed"]
    assert failures and failures[0].levelname == "ERROR"
    assert "IndexRebuildFailed" in counted
    # the job's own DynamoDB reads wait as a 15-minute job can; a request's stay short
    job_meta, request_meta = stack.container.job_model.Meta, stack.container.model.Meta
    assert job_meta.read_timeout_seconds == stack.settings.job_dynamodb_read_timeout_seconds >= 30
    assert request_meta.read_timeout_seconds == 2
