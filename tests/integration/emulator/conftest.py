"""One emulator per test session (real HTTP on an ephemeral port), reset after every test."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.emulator.helpers import SEED, TODAY
from tools.emulator import load_catalog, start_emulator


@pytest.fixture(scope="session")
def emulator():
    # Fixed clock and no MusicBrainz throttle by default; tests that need them change the config.
    with start_emulator(
        port=0,
        seed=SEED,
        today=TODAY,
        mode="development",
        rate_limit=None,
        latency_ms=0,
        token_ttl=3600,
        client_id=None,
        client_secret=None,
        musicbrainz_rps=0,
    ) as handle:
        yield handle


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(SEED)


@pytest.fixture(scope="session")
def http(emulator):
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def token(http) -> str:
    resp = http.post("/api/token", data={"grant_type": "client_credentials"}, auth=("test-id", "test-secret"))
    resp.raise_for_status()
    return resp.json()["access_token"]


@pytest.fixture(scope="session")
def api(emulator, token):
    """httpx client with a valid bearer token."""
    with httpx.Client(base_url=emulator.url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture(autouse=True)
def _reset(http):
    yield
    http.post("/_emulator/reset").raise_for_status()


@pytest.fixture
def extended(http):
    http.post("/_emulator/config", json={"mode": "extended"}).raise_for_status()
    return "extended"
