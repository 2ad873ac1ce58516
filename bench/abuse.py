"""Abuse run (``make bench-abuse``): legitimate Zipf traffic with and without an attacker.

Two runs on fresh local stacks (moto + emulator + API, loopback only, bounded in time), the
same legitimate requests in both: a warm-up from eight "earlier users" (127.0.0.11-18),
then a paced steady phase from 127.0.0.1. In the second run an attacker on 127.0.0.2 sends,
at the same time and at several times the Spotify budget: random queries, ``limit=50`` deep
paging, long Unicode queries, random album ids, and repeats of what it was answered before.

The gateway runs each function on up to ``INSTANCES`` Lambda instances (worker processes), as
Lambda scales out. The app's Spotify budget is ``BUDGET`` calls per 30 s, 5 % under the emulator's
own rate limit (``SPOTIFY_LIMIT``, it answers 429 past it). Every Spotify call is attributed to a
caller from its URL where the emulator receives it (attacker queries carry a marker word, attacker
album ids are generated). PASS/FAIL lines:
legit hit rate within 2 points and legit p95 within 10 % of the run without the attacker;
legit misses answered by Spotify; Spotify calls never above the budget; the attacker's share
of Spotify calls within its configured share; table items written per attacker request;
no 5xx where a cached or stale answer existed. Figures go to ``bench/abuse.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.workload import Request, Workload
from tools.localstack.metrics_file import METRICS_FILE_ENV

SPOTIFY_LIMIT = 630  # the emulator answers 429 past this many calls per rolling 30 s ("Spotify's limit")
BUDGET = 600  # SPOTIFY_RATE_LIMIT: the app's budget, 5 % under Spotify's limit (scaled: the run is short)
WINDOW = 30.0
CLIENT_SHARE = 0.25  # SPOTIFY_CLIENT_SHARE for both runs
INSTANCES = 8  # Lambda instances per function (LOCAL_LAMBDA_INSTANCES)
MARKER = "zqx"  # in every attacker query: attributes its Spotify calls
LEGIT_IP, ATTACKER_IP = "127.0.0.1", "127.0.0.2"
WARMUP_IPS = [f"127.0.0.{i}" for i in range(11, 19)]
OUT = Path(__file__).resolve().parent / "abuse.json"


@dataclass
class Outcome:
    who: str
    path: str
    status: int
    cache: str
    source: str
    seconds: float


@dataclass
class RunResult:
    name: str
    legit: list[Outcome] = field(default_factory=list)
    attacker: list[Outcome] = field(default_factory=list)
    spotify_calls: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, caller)
    emulator_429: int = 0
    table_items: int = 0
    seconds: float = 0.0
    instances: dict[str, int] = field(default_factory=dict)  # Lambda instances started per function
    queued: dict[str, tuple[int, float]] = field(default_factory=dict)  # requests that waited for an instance


def _pace(total: int, rate: float, threads: int, work, stop_at: float) -> None:
    """Run ``work(i)`` for i in range(total) on ``threads`` threads, request i not before start + i / rate."""
    start = time.monotonic()
    counter = iter(range(total))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None or time.monotonic() > stop_at:
                return
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            work(index)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def _client(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def _call(http: httpx.Client, base: str, request: Request | tuple[str, dict[str, Any]], who: str) -> Outcome:
    if isinstance(request, Request):
        path = request.path
        params = {"q": request.value, "limit": 10} if request.kind == "search" else None
    else:
        path, params = request
    started = time.perf_counter()
    try:
        response = http.get(base + path, params=params)
        status = response.status_code
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        cache = response.headers.get("X-Cache", "-")
    except httpx.HTTPError:
        status, body, cache = 599, {}, "-"
    seconds = time.perf_counter() - started
    key = path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(params.items())) if params else "")
    return Outcome(who, key, status, cache, body.get("source", "error") if status == 200 else "error", seconds)


class Attacker:
    """Random queries, deep paging, long Unicode queries, random album ids, and repeats."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.answered: list[tuple[str, dict[str, Any]]] = []
        self.album_ids: set[str] = set()
        self.lock = threading.Lock()

    def next(self) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        with self.lock:
            roll = rng.random()
            if roll < 0.10 and self.answered:
                return rng.choice(self.answered)
            if roll < 0.40:
                return "/search", {"q": f"{MARKER} {self._word()} {self._word()}", "limit": 10}
            if roll < 0.70:
                return "/search", {"q": f"{MARKER} {self._word()}", "limit": 50, "offset": rng.randrange(0, 951)}
            if roll < 0.85:
                if rng.random() < 0.5:
                    return "/search", {"q": "\ufdfa" * 200}  # grows 18-fold under NFKC: refused
                return "/search", {"q": MARKER + " " + "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(150))}
            album_id = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(22))
            self.album_ids.add(album_id)
            return f"/albums/{album_id}", {}

    def _word(self) -> str:
        return "".join(self.rng.choice(string.ascii_lowercase) for _ in range(6))

    def remember(self, request: tuple[str, dict[str, Any]], outcome: Outcome) -> None:
        if outcome.status == 200:
            with self.lock:
                self.answered.append(request)

    def owns(self, path: str, params: dict[str, str]) -> bool:
        if MARKER in params.get("q", ""):
            return True
        parts = path.split("/")
        return len(parts) > 3 and parts[-2] == "albums" and parts[-1] in self.album_ids


def record_spotify_calls(emulator, record) -> None:
    """``record(path, params)`` for every Spotify Web API request the emulator receives (any instance's)."""
    handler = emulator.server.RequestHandlerClass

    class Recording(handler):
        def _spotify(self, method, path, params):
            record(path, params)
            return super()._spotify(method, path, params)

    emulator.server.RequestHandlerClass = Recording


def run(name: str, workload: Workload, *, attack: bool, steady_seconds: float, legit_rate: float,
        attack_rate: float, seed: int, settle_seconds: float, log=print) -> RunResult:  # fmt: skip
    from musicboxd import config, wiring
    from tools.localstack.stack import LocalStack

    saved = dict(os.environ)
    os.environ.update({
        "SPOTIFY_MODE": "development",
        "SPOTIFY_RATE_LIMIT": str(BUDGET),
        "SPOTIFY_CLIENT_SHARE": str(CLIENT_SHARE),
        "TABLE_NAME": f"abuse-{name}",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "L1_CACHE_ITEMS": "512",
        METRICS_FILE_ENV: os.devnull,  # the instances' EMF lines (printed even when disabled) off the console
        "USAGE_FLUSH_SECONDS": "1",  # an instance's demand counters reach the table by its next request
    })  # fmt: skip
    config.settings.cache_clear()
    wiring.set_container(None)
    result = RunResult(name)
    stack = LocalStack(
        api_port=0,
        write_stack_file=False,
        emulator_options={"mode": "development", "latency_ms": 20, "quiet": True, "rate_limit": SPOTIFY_LIMIT},
        lambda_instances=INSTANCES,
    ).start()
    attacker = Attacker(seed)
    calls_lock = threading.Lock()
    try:
        container = wiring.container()  # this process's: only to count the table's items

        def on_spotify_call(path: str, params: dict[str, str]) -> None:
            with calls_lock:
                who = "attacker" if attacker.owns(path, params) else "legit"
                result.spotify_calls.append((time.monotonic(), who))

        record_spotify_calls(stack.emulator, on_spotify_call)
        base = stack.api_url
        started = time.monotonic()
        warmup = workload.phase("warmup")
        warm_clients = [_client(address) for address in WARMUP_IPS]
        _pace(len(warmup), 10_000, 8, lambda i: _call(warm_clients[i % 8], base, warmup[i], "warmup"), started + 90)
        log(f"  {name}: warm-up {len(warmup)} requests in {time.monotonic() - started:.0f} s")
        time.sleep(settle_seconds)  # the warm-up's calls leave the rolling window before the measured phase
        steady = workload.phase("steady")
        legit_http, attack_http = _client(LEGIT_IP), _client(ATTACKER_IP)
        stop_at = time.monotonic() + steady_seconds + 5
        outcomes_lock = threading.Lock()

        def legit(i: int) -> None:
            outcome = _call(legit_http, base, steady[i], "legit")
            with outcomes_lock:
                result.legit.append(outcome)

        def attack_one(_: int) -> None:
            request = attacker.next()
            outcome = _call(attack_http, base, request, "attacker")
            attacker.remember(request, outcome)
            with outcomes_lock:
                result.attacker.append(outcome)

        threads = [
            threading.Thread(
                target=_pace, args=(min(len(steady), int(steady_seconds * legit_rate)), legit_rate, 4, legit, stop_at)
            )
        ]
        if attack:
            threads.append(
                threading.Thread(
                    target=_pace, args=(int(steady_seconds * attack_rate), attack_rate, 8, attack_one, stop_at)
                )
            )
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result.instances = {name: stack.gateway.instances(name) for name in ("search", "album")}
        result.queued = {name: stack.gateway.queued(name) for name in ("search", "album")}
        result.seconds = time.monotonic() - started
        result.emulator_429 = sum(int(v.get("429", 0)) for v in stack.emulator.state.stats()["by_endpoint"].values())
        result.table_items = _count_items(container)
        for client in (*warm_clients, legit_http, attack_http):
            client.close()
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        config.settings.cache_clear()
        wiring.set_container(None)
    return result


def _count_items(container) -> int:
    client = container.dynamodb_client
    total, start = 0, None
    while True:
        kwargs: dict[str, Any] = {"TableName": container.settings.table_name, "Select": "COUNT"}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = client.scan(**kwargs)
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


def max_window(times: list[float], window: float = WINDOW) -> int:
    times = sorted(times)
    best, left = 0, 0
    for right, now in enumerate(times):
        while now - times[left] >= window:
            left += 1
        best = max(best, right - left + 1)
    return best


def summarize(base: RunResult, attack: RunResult) -> dict[str, Any]:
    def legit_figures(run: RunResult) -> dict[str, Any]:
        hits = [o.seconds for o in run.legit if o.cache == "HIT"]
        return {
            "requests": len(run.legit),
            "hit_rate": round(len(hits) / len(run.legit), 4) if run.legit else None,
            "p50_ms": round(pct([o.seconds for o in run.legit], 50) * 1000, 1),
            "p95_ms": round(pct([o.seconds for o in run.legit], 95) * 1000, 1),
            "hits_p50_ms": round(pct(hits, 50) * 1000, 1),  # no Spotify call, no budget take: the platform's share
            "hits_p95_ms": round(pct(hits, 95) * 1000, 1),
            "misses_not_from_spotify": sum(o.cache == "MISS" and o.source != "spotify" for o in run.legit),
            "5xx": sum(o.status >= 500 for o in run.legit),
        }

    cached: set[str] = set()  # attacker requests answered from Spotify or the cache: a copy exists
    lost = 0
    for outcome in attack.attacker:  # in the order they were recorded (completion order)
        if outcome.status >= 500 and outcome.path in cached:
            lost += 1
        if outcome.status == 200 and outcome.source in ("spotify", "cache", "stale", "popular"):
            cached.add(outcome.path)
    calls = Counter(who for _, who in attack.spotify_calls)
    total_calls = sum(calls.values())
    attacker_requests = len(attack.attacker)
    items_delta = attack.table_items - base.table_items
    return {
        "budget_per_30s": BUDGET,
        "spotify_limit_per_30s": SPOTIFY_LIMIT,
        "client_share": CLIENT_SHARE,
        "instances_per_function": INSTANCES,
        "without_attacker": legit_figures(base) | {"instances": base.instances,
                                                   "queued_for_an_instance": base.queued,
                                                   "spotify_calls": len(base.spotify_calls),
                                                   "max_calls_30s": max_window([t for t, _ in base.spotify_calls]),
                                                   "emulator_429": base.emulator_429,
                                                   "table_items": base.table_items},
        "with_attacker": legit_figures(attack) | {
            "instances": attack.instances,
            "queued_for_an_instance": attack.queued,
            "spotify_calls": total_calls,
            "max_calls_30s": max_window([t for t, _ in attack.spotify_calls]),
            "emulator_429": attack.emulator_429,
            "attacker_calls": calls["attacker"],
            "attacker_max_calls_30s": max_window([t for t, who in attack.spotify_calls if who == "attacker"]),
            "attacker_requests": attacker_requests,
            "attacker_status": dict(Counter(str(o.status) for o in attack.attacker)),
            "attacker_sources": dict(Counter(o.source for o in attack.attacker)),
            "attacker_5xx_after_an_answer": lost,
            "table_items": attack.table_items,
            "table_items_per_attacker_request": round(items_delta / attacker_requests, 2) if attacker_requests else 0,
        },
    }  # fmt: skip


def verdicts(doc: dict[str, Any]) -> list[tuple[str, bool, str]]:
    base, attack = doc["without_attacker"], doc["with_attacker"]
    share_cap = CLIENT_SHARE * BUDGET
    return [
        ("legit hit rate within 2 points", abs(attack["hit_rate"] - base["hit_rate"]) <= 0.02,
         f"{attack['hit_rate']:.4f} vs {base['hit_rate']:.4f}"),
        ("legit p95 within 10 %", attack["p95_ms"] <= base["p95_ms"] * 1.10,
         f"{attack['p95_ms']} ms vs {base['p95_ms']} ms"),
        ("legit misses answered by Spotify", attack["misses_not_from_spotify"] == 0 and attack["5xx"] == 0,
         f"{attack['misses_not_from_spotify']} degraded, {attack['5xx']} 5xx"),
        ("Spotify calls never above the budget",
         attack["max_calls_30s"] <= BUDGET and attack["emulator_429"] == 0,
         f"max {attack['max_calls_30s']} per rolling 30 s (budget {BUDGET}, Spotify's limit {SPOTIFY_LIMIT}), "
         f"{attack['emulator_429']} x 429"),
        # every grant is a take of the caller's share item, in every instance: the share itself is the bound
        ("attacker within its share", attack["attacker_max_calls_30s"] <= share_cap,
         f"max {attack['attacker_max_calls_30s']} calls per rolling 30 s (share {share_cap:.0f}, "
         f"{INSTANCES} instances per function); {attack['attacker_calls']} of {attack['spotify_calls']} calls"),
        ("table items per attacker request bounded (<= 8)", attack["table_items_per_attacker_request"] <= 8,
         f"{attack['table_items_per_attacker_request']} items/request over {attack['attacker_requests']} requests"),
        ("no 5xx where a cached/stale answer existed",
         attack["attacker_5xx_after_an_answer"] == 0 and attack["5xx"] == 0,
         f"{attack['attacker_5xx_after_an_answer']} attacker repeats, {attack['5xx']} legit"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--settle-seconds", type=float, default=15.0)
    parser.add_argument("--steady-seconds", type=float, default=35.0)
    parser.add_argument("--legit-rate", type=float, default=5.0, help="legit requests/s in the steady phase")
    parser.add_argument("--attack-rate", type=float, default=20.0, help="attacker requests/s")
    args = parser.parse_args(argv)
    from tools.emulator import load_catalog

    started, load_at_start = time.monotonic(), os.getloadavg()[0]
    steady = int(args.steady_seconds * args.legit_rate)
    workload = Workload(load_catalog(), seed=args.seed, warmup=args.warmup, steady=steady)
    print(f"abuse run: budget {BUDGET}/30 s, legit {args.legit_rate}/s, attacker {args.attack_rate}/s "
          f"(up to 6 Spotify calls each), {args.steady_seconds:.0f} s steady, up to {INSTANCES} instances "
          f"per function; load average {load_at_start:.1f}")  # fmt: skip
    common = dict(steady_seconds=args.steady_seconds, legit_rate=args.legit_rate, attack_rate=args.attack_rate,
                  seed=args.seed, settle_seconds=args.settle_seconds)  # fmt: skip
    base = run("baseline", workload, attack=False, **common)
    attacked = run("attacked", workload, attack=True, **common)
    doc = summarize(base, attacked)
    doc["seconds"] = round(time.monotonic() - started, 1)
    doc["load_average_1min"] = {"start": round(load_at_start, 1), "end": round(os.getloadavg()[0], 1)}
    doc["verdicts"] = [{"check": name, "pass": ok, "figures": text} for name, ok, text in verdicts(doc)]
    OUT.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps({k: v for k, v in doc.items() if k != "verdicts"}, indent=2))
    for check in doc["verdicts"]:
        print(f"{'PASS' if check['pass'] else 'FAIL'}  {check['check']}: {check['figures']}")
    print(
        f"total {doc['seconds']} s; figures in {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}"
    )
    return 0 if all(check["pass"] for check in doc["verdicts"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
