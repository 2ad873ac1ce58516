"""Shared fixtures: a real moto server on loopback (DynamoDB + SSM), dynalite, dummy AWS credentials.

The DynamoDB adapter and integration modules in ``SECOND_ENGINE_MODULES`` run against two
independent implementations of DynamoDB: moto and dynalite (npm, in memory; it mirrors
DynamoDB's validation and error messages). Where they disagree, DynamoDB's documented
behaviour wins and the test names the rule it checks.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Musicboxd")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    _warm_up(url)
    yield url
    server.stop()


def _warm_up(url: str) -> None:
    """moto imports a service's backend on its first call (SSM: ~2 s, far more on a busy box);
    a Lambda's first request pays no such price, so the tests' first request must not either."""
    import botocore.session

    session = botocore.session.get_session()
    for service, call in (("ssm", "describe_parameters"), ("dynamodb", "list_tables")):
        client = session.create_client(service, region_name="us-east-1", endpoint_url=url)
        getattr(client, call)()


ROOT = Path(__file__).resolve().parent.parent
DYNALITE = ROOT / "node_modules" / ".bin" / "dynalite"
ENGINES = ("moto", "dynalite")
# Not here: test_rate_budget and test_jobs_dynamo. Under their concurrent conditional UpdateItems
# dynalite 4.0.0 stops answering (botocore read timeouts, then every later call of the session).
SECOND_ENGINE_MODULES = {"test_dynamo_cache", "test_tier1_store", "test_cache_only"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if "table_settings" in metafunc.fixturenames and module in SECOND_ENGINE_MODULES:
        metafunc.parametrize("dynamodb_engine", ENGINES, indirect=True)


@pytest.fixture
def dynamodb_engine(request) -> str:
    return getattr(request, "param", "moto")


@pytest.fixture(scope="session")
def dynalite_url():
    """dynalite in memory on loopback (`npm ci` installs it from package-lock.json)."""
    if not DYNALITE.exists():
        if shutil.which("npm") is None:
            pytest.fail("dynalite needs node/npm (make node_modules)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(DYNALITE), "--host", "127.0.0.1", "--port", str(port), "--createTableMs", "0", "--deleteTableMs", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("dynalite did not start")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def table_settings(request, moto_url, dynamodb_engine):
    """Settings for a fresh, empty table (moto, or dynalite for the second-engine modules; SSM on moto)."""
    from pynamodb.exceptions import TableError

    from musicboxd.adapters.dynamo import create_table, make_model
    from musicboxd.config import Settings

    dynamodb_url = request.getfixturevalue("dynalite_url") if dynamodb_engine == "dynalite" else moto_url
    settings = Settings(
        table_name=f"t-{uuid.uuid4().hex[:8]}",
        dynamodb_endpoint_url=dynamodb_url,
        ssm_endpoint_url=moto_url,
        token_parameter=f"/test/{uuid.uuid4().hex[:8]}/token",
    )
    try:
        create_table(make_model(settings))
    except TableError as exc:  # dynalite has no TTL API (the table exists); every read checks expires_at itself
        if "UnknownOperationException" not in str(exc) or dynamodb_engine != "dynalite":
            raise
    return settings


@pytest.fixture
def emulated_settings(table_settings):
    """``emulated_settings(emulator, **overrides)``: the fresh table's settings pointed at a running
    Spotify + MusicBrainz emulator with its local client credentials."""
    from dataclasses import replace

    def build(emulator, **overrides):
        return replace(
            table_settings,
            spotify_api_url=f"{emulator.url}/v1",
            spotify_accounts_url=f"{emulator.url}/api/token",
            spotify_client_id="local-client",
            spotify_client_secret="local-secret",
            **overrides,
        )

    return build


@pytest.fixture(autouse=True)
def request_deadline_per_test(monkeypatch):
    """Each test starts with no request deadline: one a test began (``deadline.begin``) stays in
    its thread's context and would otherwise expire under a later test's calls."""
    from contextvars import ContextVar

    from musicboxd import deadline

    monkeypatch.setattr(deadline, "_current", ContextVar("musicboxd_deadline", default=None))
