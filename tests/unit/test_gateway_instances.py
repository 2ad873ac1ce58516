"""The local gateway runs a function as Lambda does: each instance (worker process) serves one
request at a time (its Powertools resolver holds the current request), a function scales out to
several instances, warm ones are reused first, and the caller's address is
``requestContext.identity.sourceIp``. In-process (tests with fakes) one invocation at a time."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.unit.gateway_apps import echo_app, load_broken, load_echo, load_slow
from tools.localstack.apigw import Gateway

ROOT = Path(__file__).resolve().parents[2]


def _concurrently(calls):
    """Run each ``call()`` on its own thread at once; their answers in the order given."""
    answers = [None] * len(calls)

    def run(index):
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _body(answer):
    status, _, body = answer
    assert status == 200, body
    return json.loads(body)


def _gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_in_process_concurrent_requests_to_one_function_each_see_their_own_event():
    handler = echo_app()
    gateway = Gateway(loader=lambda name: handler)
    queries = [f"q{i}" for i in range(12)]
    answers = _concurrently([lambda q=q: gateway.invoke("GET", f"/search?q={q}", {}, b"") for q in queries])
    for q, answer in zip(queries, answers, strict=True):
        assert {k: v for k, v in _body(answer).items() if k != "instance"} == {"q": q, "asked": q}


def test_in_process_different_functions_run_at_once_and_the_caller_address_is_the_source_ip():
    both_inside = threading.Barrier(2, timeout=5)

    def handler(event, context):
        both_inside.wait()  # search and album must be inside their handlers at the same time
        return {"statusCode": 200, "body": json.dumps(event["requestContext"]["identity"]["sourceIp"])}

    gateway = Gateway(loader=lambda name: handler)
    calls = [("/search?q=a", "127.0.0.1"), ("/albums/4aawyAB9vmqN3uQ7FjRGTy", "127.0.0.2")]
    answers = _concurrently([lambda p=p, ip=ip: gateway.invoke("GET", p, {}, b"", source_ip=ip) for p, ip in calls])
    assert [a[::2] for a in answers] == [(200, b'"127.0.0.1"'), (200, b'"127.0.0.2"')]


@pytest.mark.parametrize("instances", [1, 2])
def test_slow_requests_to_one_function_overlap_in_separate_instances_up_to_the_maximum(instances):
    gateway = Gateway(loader=load_slow, instances=instances, timeout_seconds=10)
    try:
        calls = [("/search?q=a", "127.0.0.1"), ("/search?q=b", "127.0.0.2")]
        answers = [_body(a) for a in _concurrently(
            [lambda p=p, ip=ip: gateway.invoke("GET", p, {}, b"", source_ip=ip) for p, ip in calls]
        )]  # fmt: skip
        overlap = max(a["started"] for a in answers) < min(a["ended"] for a in answers)
        assert overlap is (instances > 1), answers
        assert len({a["instance"] for a in answers}) == instances
        assert gateway.instances("search") == instances
        assert gateway.queued("search")[0] == (1 if instances == 1 else 0)  # the second waited for the first
        # the event and context as Lambda passes them, in the worker
        assert [a["source_ip"] for a in answers] == ["127.0.0.1", "127.0.0.2"]
        assert {a["resource"] for a in answers} == {"/search"}
        assert all(0 < a["remaining_ms"] <= 10_000 - 400 for a in answers), answers
    finally:
        gateway.stop()


def test_concurrent_requests_to_one_function_each_get_their_own_answer_from_several_instances():
    gateway = Gateway(loader=load_echo, instances=4)
    try:
        queries = [f"q{i}" for i in range(16)]
        answers = _concurrently([lambda q=q: gateway.invoke("GET", f"/search?q={q}", {}, b"") for q in queries])
        bodies = [_body(a) for a in answers]
        assert [(b["q"], b["asked"]) for b in bodies] == [(q, q) for q in queries]  # no cross-talk
        assert 1 < len({b["instance"] for b in bodies}) <= 4  # it scaled out, within the maximum
    finally:
        gateway.stop()


def test_idle_instances_are_reused_and_stopped_with_the_gateway():
    gateway = Gateway(loader=load_echo, instances=4)
    answers = [_body(gateway.invoke("GET", f"/search?q=q{i}", {}, b"")) for i in range(3)]
    assert len({a["instance"] for a in answers}) == 1  # one after the other: the warm instance each time
    assert gateway.instances("search") == 1 and gateway.instances("album") == 0
    gateway.stop()
    assert _gone(answers[0]["instance"], seconds=1)


def test_an_instance_that_fails_its_init_is_a_502():
    gateway = Gateway(loader=load_broken, instances=2)
    try:
        status, _, body = gateway.invoke("GET", "/search?q=a", {}, b"")
        assert (status, json.loads(body)) == (502, {"message": "Internal server error"})
    finally:
        gateway.stop()


def test_an_instance_that_overruns_its_timeout_is_a_502_and_its_late_answer_reaches_no_one(monkeypatch):
    from tools.localstack import instances

    monkeypatch.setattr(instances, "COLD_START_MARGIN_SECONDS", 0.0)
    gateway = Gateway(loader=load_slow, instances=1, timeout_seconds=3)
    try:
        warm = _body(gateway.invoke("GET", "/search?q=warm&seconds=0", {}, b""))
        assert gateway.invoke("GET", "/search?q=late&seconds=6", {}, b"")[0] == 502
        after = _body(gateway.invoke("GET", "/search?q=after&seconds=0", {}, b""))
        assert after["q"] == "after" and after["instance"] != warm["instance"]  # a new instance, its own answer
        assert _gone(warm["instance"], seconds=1)
    finally:
        gateway.stop()


def test_instances_exit_when_the_gateway_process_is_killed():
    script = (
        "import json, sys, time\n"
        "from tools.localstack.apigw import Gateway\n"
        "from tests.unit.gateway_apps import load_echo\n"
        "gateway = Gateway(loader=load_echo, instances=2)\n"
        "print(json.loads(gateway.invoke('GET', '/search?q=a', {}, b'')[2])['instance'], flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
    )  # fmt: skip
    try:
        worker = int(parent.stdout.readline())
        parent.kill()  # no clean-up at all, as with kill -9
        parent.wait(10)
        assert _gone(worker), f"instance {worker} outlived its gateway"
    finally:
        parent.kill()
        parent.stdout.close()
