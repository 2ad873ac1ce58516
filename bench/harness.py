"""Runs the workload through the local API once per strategy and records every request."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.capacity import CapacityMeter, read_units
from bench.strategies import STRATEGIES, make_container
from bench.workload import Request, Workload

SEARCH_LIMIT = 10

# -- DynamoDB round trips: one count per HTTP request a botocore DynamoDB client sends


class DynamoCounter:
    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, **_: Any) -> None:
        with self._lock:
            self.count += 1


DYNAMO = DynamoCounter()
CAPACITY = CapacityMeter()  # on-demand read/write request units (bench/capacity.py)
_installed = False


def install_dynamo_counter() -> None:
    """Every botocore client created from now on counts its DynamoDB sends and request units."""
    global _installed
    if _installed:
        return
    import botocore.session

    original = botocore.session.Session.create_client

    def create_client(self, service_name, *args, **kwargs):
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("before-send.dynamodb", DYNAMO)
            CAPACITY.install(client)
        return client

    botocore.session.Session.create_client = create_client
    _installed = True


@dataclass
class Record:
    i: int
    phase: str
    kind: str
    variant: str
    status: int
    source: str
    cache: str  # X-Cache
    seconds: float
    spotify_calls: int
    dynamo_calls: int
    album_id: str = ""
    value: str = ""  # the query or album id
    modelled_dynamo: int = 0  # seed strategy: 1 MB Query pages its substring search reads (see SeedNames)
    top5: list[str] = field(default_factory=list)
    reference_top5: list[str] = field(default_factory=list)
    # what bench/cost.py prices: request units, and the answer as sent (replayed through the CDN)
    read_units: float = 0.0
    write_units: float = 0.0
    writes_by_kind: dict[str, float] = field(default_factory=dict)  # write units by item kind (pk prefix)
    url: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def hit(self) -> bool:
        return self.cache == "HIT"

    @property
    def agrees(self) -> bool:
        return self.top5 == self.reference_top5


class Reference:
    """What Spotify (the emulator) itself returns for a query: its top 5, market US, in-process."""

    def __init__(self, emulator) -> None:
        from tools.emulator.search import parse_query

        self._emu = emulator
        self._parse = parse_query
        self._memo: dict[str, list[str]] = {}

    def top5(self, q: str) -> list[str]:
        if q not in self._memo:
            state = self._emu.state
            _, albums, _ = state.catalog.index.search(self._parse(q), state.config.today, 0, 5, "US")
            self._memo[q] = [a.id for a in albums]
        return self._memo[q]


class ModeRun:
    """One local stack (moto + emulator + API) in one Spotify mode; strategies run in turn."""

    def __init__(self, mode: str, *, latency_ms: int, log=print):
        self.mode = mode
        self.latency_ms = latency_ms
        self.log = log

    def __enter__(self) -> ModeRun:
        from musicboxd import config, wiring
        from tools.localstack.stack import LocalStack

        install_dynamo_counter()
        self._saved_env = dict(os.environ)  # the stack sets endpoints and credentials: restored on exit
        os.environ["SPOTIFY_MODE"] = self.mode
        # The shared Spotify budget (SPOTIFY_RATE_LIMIT per 30 s) guards Spotify's rolling window; the bench
        # replays days of traffic in minutes, so under the production budget it would measure that compression,
        # not the caches. Every strategy gets the same, effectively unlimited, budget (still one UpdateItem/call).
        os.environ["SPOTIFY_RATE_LIMIT"] = str(10**9)
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
        config.settings.cache_clear()
        wiring.set_container(None)
        self.stack = LocalStack(
            api_port=0, write_stack_file=False, emulator_options={"mode": self.mode, "latency_ms": 0, "quiet": True}
        ).start()
        self.emulator = self.stack.emulator
        self.reference = Reference(self.emulator)
        self.http = httpx.Client(base_url=self.stack.api_url, timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        from musicboxd import config, wiring

        self.http.close()
        self.stack.stop()
        os.environ.clear()
        os.environ.update(self._saved_env)
        config.settings.cache_clear()
        wiring.set_container(None)

    def set_latency(self, ms: int) -> None:
        httpx.post(f"{self.emulator.url}/_emulator/config", json={"latency_ms": ms}).raise_for_status()

    def spotify_total(self) -> int:
        return self.emulator.state.stats()["total"]

    # -- one strategy

    def use(self, strategy: str):
        import dataclasses

        from musicboxd import config, wiring
        from musicboxd.adapters.dynamo import create_table

        settings = dataclasses.replace(config.settings(), table_name=f"bench-{strategy}-{self.mode}")
        container = make_container(strategy, settings)
        create_table(container.model)
        wiring.set_container(container)
        return container

    def request(self, i: int, r: Request, container=None) -> Record:
        calls0, dyn0 = self.spotify_total(), DYNAMO.count
        reads0, writes0, by_kind0 = CAPACITY.read_units, CAPACITY.write_units, dict(CAPACITY.writes_by_kind)
        params = {"q": r.value, "limit": SEARCH_LIMIT} if r.kind == "search" else None
        started = time.perf_counter()
        resp = self.http.get(r.path, params=params)
        seconds = time.perf_counter() - started
        body = resp.json()
        rec = Record(
            i=i, phase=r.phase, kind=r.kind, variant=r.variant, status=resp.status_code,
            source=body.get("source", "error") if resp.status_code == 200 else "error",
            cache=resp.headers.get("X-Cache", "-"), seconds=seconds,
            spotify_calls=self.spotify_total() - calls0, dynamo_calls=DYNAMO.count - dyn0,
            album_id=r.album_id, value=r.value,
            read_units=CAPACITY.read_units - reads0, write_units=CAPACITY.write_units - writes0,
            writes_by_kind={kind: units - by_kind0.get(kind, 0.0) for kind, units in CAPACITY.writes_by_kind.items()
                            if units != by_kind0.get(kind, 0.0)},
            url=str(resp.request.url), response_headers=dict(resp.headers), body=resp.content,
        )  # fmt: skip
        names = getattr(container, "seed_names", None) if container is not None else None
        if names is not None and r.kind == "search":
            rec.modelled_dynamo, names.pages = names.pages, 0
            rec.read_units += read_units(names.scanned_bytes, consistent=False)  # the modelled Query (eventual)
            names.scanned_bytes = 0
        if r.kind == "search" and resp.status_code == 200:
            rec.top5 = [a["id"] for a in body["albums"][:5]]
            rec.reference_top5 = self.reference.top5(r.value)
        return rec

    def run_strategy(self, strategy: str, workload: Workload, *, populate=None, suggest: int = 0,
                     cold_replays: bool = True) -> dict:  # fmt: skip
        container = self.use(strategy)
        self.set_latency(0)
        started = time.perf_counter()
        records: list[Record] = []
        warm = workload.phase("warmup")
        for r in warm:
            records.append(self.request(len(records), r, container))
        extra: dict[str, Any] = {}
        if populate is not None:
            extra["populate"] = populate(self, container, records)
        self.set_latency(self.latency_ms)
        for r in workload.phase("steady"):
            records.append(self.request(len(records), r, container))
        if suggest:
            extra["suggest"] = self.suggest_latency(workload, suggest)
        if populate is not None and cold_replays:  # the strategy with a popular tier: tier 1, cold query cache
            extra["tier1_cold"] = self.tier1_cold(workload, container)
            built = getattr(self, "index_without_sweep", None)
            if built is not None:  # the same, with the index populate builds when POPULATE_SWEEP is off
                container.index_store.save(built["blob"], version=built["version"], built_at=built["built_at"],
                                           albums=built["albums"])  # fmt: skip
                container.tier1._checked_at = None  # pick up the new version now
                container.tier1.index()
                extra["tier1_cold_without_sweep"] = self.tier1_cold(workload, container)
        self.set_latency(0)
        extra["seconds"] = time.perf_counter() - started
        errors = Counter(r.status for r in records if r.status != 200)
        if errors:
            self.log(f"  {strategy}: non-200 answers {dict(errors)}")
        return {"records": records, **extra}

    def tier1_cold(self, workload: Workload, container) -> list[Record]:
        """Every steady-phase search again, through the API, after the exact-query cache was emptied.

        A cold query cache and a warm popular tier: each search reaches tier 1 first; those it
        does not answer go to Spotify as usual (and are cached again, which the replay never
        revisits: each distinct query is asked once).
        """
        from musicboxd.adapters.dynamo import KIND_SEARCH

        model = container.model
        with model.batch_write() as batch:
            for item in model.scan(model.kind == KIND_SEARCH):
                batch.delete(item)
        clear = getattr(container.cache, "clear", None)
        if clear is not None:
            clear()
        seen: set[str] = set()
        records = []
        for r in workload.phase("steady"):
            if r.kind == "search" and r.value not in seen:
                seen.add(r.value)
                records.append(self.request(len(records), r, container))
        return records

    def suggest_latency(self, workload: Workload, n: int) -> dict:
        queries = [r.value for r in workload.phase("steady") if r.kind == "search"][:n]
        lat, answered = [], 0
        for q in queries:
            prefix = q[: max(2, len(q) // 2)]
            calls0 = self.spotify_total()
            started = time.perf_counter()
            resp = self.http.get("/suggest", params={"q": prefix, "limit": 5})
            lat.append(time.perf_counter() - started)
            answered += bool(resp.status_code == 200 and resp.json().get("suggestions"))
            assert self.spotify_total() == calls0, "suggest called Spotify"
        return {"n": len(lat), "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "answered": answered}


def pct(values: list[float], p: float) -> float | None:
    """Percentile in milliseconds (nearest rank); None without samples."""
    if not values:
        return None
    xs = sorted(values)
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k] * 1000


def median(xs):
    return statistics.median(xs) if xs else None


def run_modes(workload: Workload, *, modes=("development", "extended"), latency_ms: int = 150,
              strategies=STRATEGIES, populate=None, suggest: int = 200, cold_replays: bool = True,
              log=print) -> dict:  # fmt: skip
    out: dict[str, Any] = {}
    for mode in modes:
        with ModeRun(mode, latency_ms=latency_ms, log=log) as run:
            out[mode] = {}
            for strategy in strategies:
                t = time.perf_counter()
                out[mode][strategy] = run.run_strategy(
                    strategy, workload,
                    populate=populate if strategy == "ours" else None,
                    suggest=suggest if strategy == "ours" else 0, cold_replays=cold_replays,
                )  # fmt: skip
                n = sum(r.spotify_calls for r in out[mode][strategy]["records"])
                log(f"  {mode:11s} {strategy:12s} {n:5d} Spotify calls  {time.perf_counter() - t:6.1f}s")
    return out
