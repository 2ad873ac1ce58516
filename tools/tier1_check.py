"""Operator's check of tier 1 against the configured Spotify: ``make tier1-check [N=200] [ARGS=...]``.

Asks ``N`` sample queries of tier 1 (the live index, at the calibration's current margins, nothing
queued) and of Spotify, and prints tier 1's share and its top-5 agreement per query shape:

* **deployed / configured**: the environment's table and Spotify (``TABLE_NAME``, the SSM
  credential parameters, the operator's AWS credentials); queries are the most-asked of the last
  7 days (demand counters). Spotify calls go through the shared budget's background share and
  stop at ``N``; nothing is written.
* **local stack**: with no ``DYNAMODB_ENDPOINT_URL`` set and ``make run`` up, its
  ``.local/stack.json`` (emulator, moto) as ``make populate`` does.
* ``--offline``: no stack at all: the index is built in-process from the emulator's catalog
  (``tools.tier1_bench.build``, ~20 s) and the bench workload supplies the queries.

``--fail-below 0.95`` exits 1 when the agreement of tier-1 answers is below that share (CI, cron).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from musicboxd.models import SearchPage

TOP = 5


def check(
    queries: Iterable[str],
    tier1: Callable[[str], tuple[str, SearchPage | None]],
    spotify: Callable[[str], SearchPage],
) -> dict[str, Any]:
    """Tier 1's answer (shape, page or None) and Spotify's page for each query; share and agreement."""
    asked: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    disagreements: list[dict[str, Any]] = []
    for query in queries:
        shape, page = tier1(query)
        asked[shape] += 1
        if page is None:
            continue
        answered[shape] += 1
        ours, theirs = [a.id for a in page.items[:TOP]], [a.id for a in spotify(query).items[:TOP]]
        agreed[shape] += ours == theirs
        if ours != theirs and len(disagreements) < 20:
            disagreements.append({"query": query, "shape": shape, "tier1": ours, "spotify": theirs})

    def figures(n: int, hits: int, good: int) -> dict[str, Any]:
        return {"queries": n, "answered": hits, "agreed": good, "tier1_share": hits / n if n else None,
                "agreement": good / hits if hits else None,
                "service_agreement": (n - hits + good) / n if n else None}  # fmt: skip

    total = figures(sum(asked.values()), sum(answered.values()), sum(agreed.values()))
    return {**total, "by_shape": {s: figures(asked[s], answered[s], agreed[s]) for s in sorted(asked)},
            "disagreements": disagreements}  # fmt: skip


def report(result: dict[str, Any]) -> str:
    def pct(x: float | None) -> str:
        return "   -  " if x is None else f"{x:6.1%}"

    lines = [f"{'shape':10s} {'queries':>7s} {'tier 1':>7s} {'agree':>7s} {'service':>7s}"]
    for name, row in [*result["by_shape"].items(), ("all", result)]:
        lines.append(f"{name:10s} {row['queries']:7d} {pct(row['tier1_share'])} {pct(row['agreement'])} "
                     f"{pct(row['service_agreement'])}")  # fmt: skip
    for d in result["disagreements"][:5]:
        lines.append(f"  differs: {d['query']!r} ({d['shape']}): tier 1 {d['tier1']} vs Spotify {d['spotify']}")
    return "\n".join(lines)


def _configured(n: int, seed: int) -> tuple[list[str], Callable, Callable]:
    """Queries, tier 1 and Spotify from the environment (deployed, or make run's stack)."""
    from tools.jobs.cli import apply_env, load_stack_env
    from tools.localstack.stack import STACK_FILE

    if not os.environ.get("DYNAMODB_ENDPOINT_URL") and not os.environ.get("AWS_ENDPOINT_URL") and STACK_FILE.exists():
        apply_env(load_stack_env())
    import time

    from musicboxd.job_runner import job_spotify
    from musicboxd.services.call_counter import CallCounter
    from musicboxd.services.usage import DEMAND_QUERY, days_between
    from musicboxd.services.verification import CalibratedTier1, CalibrationView
    from musicboxd.wiring import container

    c = container()
    now = time.time()
    demand = c.usage_store.top_demand(days_between(now - 7 * 86_400, now))
    ranked = sorted(((hits, k[len(DEMAND_QUERY) :]) for k, hits in demand.items() if k.startswith(DEMAND_QUERY)),
                    reverse=True)  # fmt: skip
    queries = [q for _, q in ranked[: n * 5]]
    random.Random(seed).shuffle(queries)
    view = CalibrationView(c.checkpoints, c.calibration_policy)
    probe = CalibratedTier1(c.tier1.index, view, c.verification_queue, rate=0.0,
                            correct_typos=c.settings.tier1_typo_correction)  # fmt: skip
    spotify = job_spotify(c, CallCounter(n))
    return queries[:n], _ask(probe), lambda q: spotify.search_albums(q, limit=10, offset=0)


def _offline(n: int, seed: int) -> tuple[list[str], Callable, Callable]:
    from musicboxd.normalize import normalize_query
    from musicboxd.services.call_counter import CallCounter
    from musicboxd.services.verification import CalibratedTier1, CalibrationPolicy, CalibrationView
    from tools.tier1_bench import TODAY, EmulatorSearch, build

    built = build(seed=seed, requests=max(3 * n, 1000))
    queries = list(
        dict.fromkeys(normalize_query(r.value) for r in built.workload.phase("steady") if r.kind == "search")
    )

    from bench.drift import MemoryQueue, MemoryState

    probe = CalibratedTier1(
        lambda: built.index, CalibrationView(MemoryState(), CalibrationPolicy()), MemoryQueue(), rate=0.0
    )
    spotify = EmulatorSearch(built.workload.catalog, TODAY, CallCounter())
    return queries[:n], _ask(probe), lambda q: spotify.search_albums(q, limit=10, offset=0)


def _ask(probe) -> Callable[[str], tuple[str, SearchPage | None]]:
    """Tier 1 as a probe: its shape and answer, nothing queued (rate 0)."""

    def ask(query: str) -> tuple[str, SearchPage | None]:
        shape, page = probe.assess(query, limit=10, offset=0)
        return shape or "none", page

    return ask


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="sample queries (and at most as many Spotify calls)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--offline", action="store_true", help="emulator and an index built in-process")
    ap.add_argument("--fail-below", type=float, default=None, help="exit 1 below this tier-1 agreement")
    args = ap.parse_args(argv)
    queries, tier1, spotify = (_offline if args.offline else _configured)(args.n, args.seed)
    if not queries:
        print("no sample queries (no demand counters yet): try --offline", file=sys.stderr)
        return 1
    result = check(queries, tier1, spotify)
    print(report(result))
    agreement = result["agreement"]
    if args.fail_below is not None and agreement is not None and agreement < args.fail_below:
        print(f"FAIL: tier-1 agreement {agreement:.1%} < {args.fail_below:.1%}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
