"""A local stack per test module for the resilience suites, isolated from other modules.

``LocalStack`` configures itself through ``os.environ`` and moto keeps its state in-process,
so each module gets its own table/parameter names and the environment is restored after.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session
import httpx

from tests.e2e.contract import ContractHook
from tools.localstack.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / ".local" / "resilience"
CACHE_KINDS = ("ALBUM", "MISSING", "SEARCH")


@dataclass
class Stack:
    local: LocalStack
    http: httpx.Client
    latencies: list[float] = field(default_factory=list)

    @property
    def api(self) -> str:
        return self.local.api_url

    @property
    def emulator(self) -> str:
        return self.local.emulator_url

    # -- API

    def get(self, path: str, **params: Any) -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        response = self.http.get(f"{self.api}{path}", params=params or None)
        elapsed = time.perf_counter() - started
        self.latencies.append(elapsed)
        return response, elapsed

    # -- emulator control plane

    def stats(self) -> dict[str, Any]:
        return self.http.get(f"{self.emulator}/_emulator/stats").json()

    def spotify_calls(self) -> int:
        return int(self.stats()["total"])

    def faults(self, *rules: dict[str, Any]) -> None:
        response = self.http.post(f"{self.emulator}/_emulator/faults", json={"rules": list(rules)})
        response.raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete(f"{self.emulator}/_emulator/faults").raise_for_status()

    def config(self, **values: Any) -> None:
        self.http.post(f"{self.emulator}/_emulator/config", json=values).raise_for_status()

    def reset_emulator(self) -> None:
        self.http.post(f"{self.emulator}/_emulator/reset").raise_for_status()

    def sample(self, n: int = 20, seed: int = 0) -> dict[str, Any]:
        return self.http.get(f"{self.emulator}/_emulator/catalog/sample", params={"n": n, "seed": seed}).json()

    # -- the table

    def dynamodb(self):
        return botocore.session.get_session().create_client(
            "dynamodb", region_name=os.environ["AWS_REGION"], endpoint_url=self.local.moto_url
        )

    def items(self, *, include_budget: bool = False) -> dict[tuple[str, str], dict]:
        """The cache items of the table (albums, 404s, searches); with ``include_budget`` everything
        (budget/circuit, leases, usage counters: bookkeeping that legitimately changes)."""
        client, out, kwargs = self.dynamodb(), {}, {"TableName": os.environ["TABLE_NAME"]}
        while True:
            page = client.scan(**kwargs)
            for item in page["Items"]:
                kind = item.get("kind", {}).get("S", "")
                if include_budget or kind in CACHE_KINDS:
                    out[(item["pk"]["S"], item["sk"]["S"])] = item
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def reset_resilience_state(self) -> None:
        """Fresh emulator, no budget/circuit items, a new container (in-process state)."""
        from musicboxd import config, wiring

        self.reset_emulator()
        client = self.dynamodb()
        for (pk, sk), item in self.items(include_budget=True).items():
            if item.get("kind", {}).get("S") == "BUDGET":
                client.delete_item(TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": pk}, "sk": {"S": sk}})
        config.settings.cache_clear()
        wiring.set_container(None)


@contextlib.contextmanager
def resilience_stack(*, lambda_instances: int | None = None, **env: str):
    """Start moto + emulator + API with ``env`` on top of a fresh table; restore everything after.

    ``lambda_instances``: the functions run on that many worker processes each, as Lambda scales
    out (tests that patch the handlers' process leave it None: in-process, one at a time)."""
    saved = dict(os.environ)
    suffix = uuid.uuid4().hex[:8]
    for key in (
        "SPOTIFY_API_URL",
        "SPOTIFY_ACCOUNTS_URL",
        "SPOTIFY_CLIENT_ID",
        "SPOTIFY_CLIENT_SECRET",
        "MUSICBRAINZ_URL",
        "COVERART_URL",
        "DYNAMODB_ENDPOINT_URL",
        "SSM_ENDPOINT_URL",
    ):
        os.environ.pop(key, None)  # always the emulator and this module's moto
    os.environ.update({"TABLE_NAME": f"musicboxd-e2e-{suffix}", "TOKEN_PARAMETER": f"/musicboxd/e2e/{suffix}/token"})
    os.environ.update(env)
    local = LocalStack(api_port=0, write_stack_file=False, lambda_instances=lambda_instances)
    try:
        local.start()
        document = httpx.get(f"{local.api_url}/openapi.json", timeout=30).json()
        # every answer of a documented operation is checked against the document (tests/e2e/contract.py)
        with httpx.Client(timeout=30, event_hooks={"response": [ContractHook(document)]}) as http:
            yield Stack(local, http)
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)
        from musicboxd import config, wiring

        config.settings.cache_clear()
        wiring.set_container(None)


def record_figures(name: str, figures: dict[str, Any]) -> None:
    """Figures for the report (``.local/resilience/<name>.json``, git-ignored), also printed."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\n[{name}] " + json.dumps(figures))
