"""Bring up the whole stack on 127.0.0.1: moto (DynamoDB + SSM), Spotify emulator, API.

Used by ``make run`` (``python -m tools.localstack``) and by the e2e tests, so both run the
same thing. Spotify endpoint choice:

1. ``SPOTIFY_API_URL`` set: use exactly that (with ``SPOTIFY_ACCOUNTS_URL`` and credentials);
2. real ``SPOTIFY_CLIENT_ID``/``SPOTIFY_CLIENT_SECRET`` set: real Spotify;
3. otherwise: start the emulator and point Spotify, MusicBrainz and Cover Art at it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.localstack import STACK_FILE
from tools.localstack.apigw import Gateway, serve

ROOT = Path(__file__).resolve().parents[2]

LOCAL_DEFAULTS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "TABLE_NAME": "musicboxd-local",
    "TOKEN_PARAMETER": "/musicboxd/local/spotify/token",
    "POWERTOOLS_SERVICE_NAME": "musicboxd-local",
    "POWERTOOLS_METRICS_NAMESPACE": "Musicboxd",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    api_port: int = 3000
    moto_port: int = 0
    emulator_port: int = 0
    emulator_options: dict[str, Any] = field(default_factory=dict)
    write_stack_file: bool = True
    env: dict[str, str] = field(default_factory=dict)  # what we set, for the record
    populate_on_start: bool = False  # make run: POPULATE_ON_START (default true)
    populate_budget: int = 2500  # POPULATE_ON_START_BUDGET (a development-mode sweep is ~1,950 calls)
    # Lambda instances per function (worker processes, LOCAL_LAMBDA_INSTANCES in make run); None: the
    # handlers run in this process, one invocation at a time (tests that patch or fake their state).
    lambda_instances: int | None = None

    def start(self) -> LocalStack:
        started = time.perf_counter()
        for key, value in LOCAL_DEFAULTS.items():
            self._setdefault(key, value)
        self._start_moto()
        self._start_spotify()
        self._reset_process_state()
        self._create_resources()
        self.gateway = Gateway(instances=self.lambda_instances)
        self.api_server = serve(self.gateway, self.host, self.api_port)
        self.api_url = f"http://{self.host}:{self.api_server.server_address[1]}"
        if self.write_stack_file:
            STACK_FILE.parent.mkdir(exist_ok=True)
            STACK_FILE.write_text(json.dumps(self.describe(), indent=2) + "\n")
        self.startup_seconds = time.perf_counter() - started
        if self.populate_on_start:
            self.populate_thread = start_populate(self.populate_budget)
        return self

    def describe(self) -> dict[str, Any]:
        return {
            "api_url": self.api_url,
            "moto_url": self.moto_url,
            "emulator_url": getattr(self, "emulator_url", None),
            "spotify_api_url": os.environ.get("SPOTIFY_API_URL"),
            "env": {k: v for k, v in self.env.items() if "SECRET" not in k},
        }

    def stop(self) -> None:
        server = getattr(self, "api_server", None)
        if server is not None:
            server.shutdown()
            server.server_close()
        if getattr(self, "gateway", None) is not None:
            self.gateway.stop()
        if getattr(self, "emulator", None) is not None:
            self.emulator.stop()
        if getattr(self, "moto", None) is not None:
            self.moto.stop()
        self._reset_process_state()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- pieces

    def _setdefault(self, key: str, value: str) -> None:
        if not os.environ.get(key):
            os.environ[key] = value
            self.env[key] = value

    def _set(self, key: str, value: str) -> None:
        os.environ[key] = value
        self.env[key] = value

    def _start_moto(self) -> None:
        from moto.server import ThreadedMotoServer

        from tools.localstack.moto_fidelity import serialize_dynamodb_writes

        serialize_dynamodb_writes()  # conditional writes atomic per item, as in DynamoDB
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per DynamoDB call

        self.moto = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        self._set("DYNAMODB_ENDPOINT_URL", self.moto_url)
        self._set("SSM_ENDPOINT_URL", self.moto_url)

    def _start_spotify(self) -> None:
        self.emulator = None
        if os.environ.get("SPOTIFY_API_URL"):
            return  # an explicitly configured endpoint
        if os.environ.get("SPOTIFY_CLIENT_ID") and os.environ.get("SPOTIFY_CLIENT_SECRET"):
            return  # real credentials: real Spotify (config defaults)
        from tools.emulator.server import start_emulator

        self.emulator = start_emulator(port=self.emulator_port, host=self.host, **self.emulator_options)
        self.emulator_url = self.emulator.url
        self._set("SPOTIFY_API_URL", f"{self.emulator_url}/v1")
        self._set("SPOTIFY_ACCOUNTS_URL", f"{self.emulator_url}/api/token")
        self._set("SPOTIFY_CLIENT_ID", "local-client")
        self._set("SPOTIFY_CLIENT_SECRET", "local-secret")
        self._setdefault("MUSICBRAINZ_URL", self.emulator_url)
        self._setdefault("POPULATE_PLAYLISTS", _emulator_playlists(self.emulator_url))
        self._setdefault("COVERART_URL", self.emulator_url)
        # the emulator's own rate limit is off unless asked for: let the start-up populate (its
        # ~1,950-call sweep) take ~1.5 min instead of the ~13 min Spotify's real window would need
        self._setdefault("SPOTIFY_RATE_LIMIT", "1500")
        # The popularity sweep is off unless chosen (docs/compliance.md); against the emulator's
        # catalog make run chooses it, so the local tier-1 index is the full one.
        self._setdefault("POPULATE_SWEEP", "true")

    @staticmethod
    def _reset_process_state() -> None:
        from musicboxd import config, wiring

        config.settings.cache_clear()
        wiring.set_container(None)

    def _create_resources(self) -> None:
        from musicboxd.adapters.dynamo import create_table
        from musicboxd.wiring import container

        create_table(container().model)


def start_populate(budget: int):
    """Run the populate job once in a background thread (the API is already serving)."""
    import sys
    import threading

    if not (ROOT / "functions" / "populate" / "handler.py").exists():
        return None

    def run() -> None:
        from tools.jobs.cli import run_job

        try:
            result = run_job("populate", {"budget": budget})
            print(
                f"populate on start: {result['status']}, {result['albums_cached']} albums cached with "
                f"{result['calls']} Spotify calls in {result['seconds']:.1f}s; {_index_status()}",
                file=sys.stderr,
                flush=True,
            )
        except Exception as exc:  # never takes the stack down
            print(f"populate on start failed: {exc!r}", file=sys.stderr, flush=True)

    thread = threading.Thread(target=run, name="populate-on-start", daemon=True)
    thread.start()
    return thread


def _index_status() -> str:
    """Whether /suggest has an index to answer from (a failed build is otherwise only in the job's log)."""
    from musicboxd.errors import CacheUnavailable
    from musicboxd.wiring import container

    try:
        pointer = container().index_store.current()
    except CacheUnavailable as exc:
        return f"tier-1 index unknown ({exc})"
    if pointer is None:
        return "no tier-1 index yet: /suggest answers [] (build it with `make build-index`)"
    return f"tier-1 index {pointer.version}: {pointer.albums} albums for /suggest"


def _emulator_playlists(emulator_url: str, n: int = 4) -> str:
    """A few of the emulator's seeded public playlists, for populate's playlist source."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{emulator_url}/_emulator/catalog/sample", timeout=5) as response:
            sample = json.loads(response.read())
        return ",".join(p["id"] for p in sample.get("playlists", [])[:n])
    except (OSError, ValueError, KeyError):
        return ""
