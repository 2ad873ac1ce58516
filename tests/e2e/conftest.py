"""The whole local stack (moto + emulator + API Gateway emulation), as `make run` starts it."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.e2e.contract import ContractHook
from tools.localstack.stack import LocalStack


@pytest.fixture(scope="module")
def stack():
    saved = dict(os.environ)  # LocalStack configures itself through os.environ: the next module starts clean
    try:
        with LocalStack(api_port=0, write_stack_file=False) as running:
            yield running
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def contract(stack):
    """Validates every answer of a documented operation against the served document."""
    document = httpx.get(f"{stack.api_url}/openapi.json", timeout=15).json()
    return ContractHook(document)


@pytest.fixture
def api(stack, contract):
    with httpx.Client(base_url=stack.api_url, timeout=15, event_hooks={"response": [contract]}) as client:
        yield client


@pytest.fixture
def emulator(stack):
    """Control plane of the emulator: stats, faults, config; reset around each test."""
    with httpx.Client(base_url=stack.emulator_url, timeout=15) as client:
        client.post("/_emulator/reset")
        yield client
        client.post("/_emulator/reset")


def spotify_calls(emulator: httpx.Client) -> int:
    return emulator.get("/_emulator/stats").json()["total"]
