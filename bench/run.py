"""``python -m bench``: the side-by-side benchmark (see README "Benchmarks", output BENCHMARKS.md)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = {"seed": 2026, "warmup": 2000, "steady": 300, "zipf": 1.0, "latency_ms": 150}


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def run_mode(spec: dict, mode: str, workload=None) -> dict:
    """One mode's strategies (a separate process when modes run side by side)."""
    import warnings

    from bench.harness import run_modes
    from bench.popular import warm_popular_tier
    from bench.workload import Workload
    from tools.emulator import load_catalog

    if workload is None:
        workload = Workload(load_catalog(), seed=spec["seed"], warmup=spec["warmup"], steady=spec["steady"],
                            s=spec["zipf"])  # fmt: skip
    warnings.filterwarnings("ignore", "No application metrics to publish")  # handlers without metrics
    extra = {"strategies": spec["strategies"]} if spec["strategies"] else {}
    quiet = io.StringIO()  # the handlers' EMF metric lines go to stdout, as on Lambda
    with contextlib.redirect_stdout(quiet):
        return run_modes(workload, modes=(mode,), latency_ms=spec["latency_ms"], populate=warm_popular_tier,
                         suggest=spec["suggest"], cold_replays=spec.get("cold_replays", True), log=log,
                         **extra)[mode]  # fmt: skip


def run(*, seed: int, warmup: int, steady: int, zipf: float, latency_ms: int, modes: tuple[str, ...],
        static: bool = True, suggest: int = 200, strategies=None, cold_replays: bool = True) -> dict:  # fmt: skip
    from bench.figures import goals, mode_figures, static_goals
    from bench.harness import SEARCH_LIMIT
    from bench.workload import Workload
    from tools.emulator import load_catalog

    started = time.perf_counter()
    workload = Workload(load_catalog(), seed=seed, warmup=warmup, steady=steady, s=zipf)
    log(f"bench: seed {seed}, Zipf s={zipf}, {warmup} warm-up + {steady} steady requests, modes {', '.join(modes)}, "
        f"emulator latency {latency_ms} ms in the steady phase")  # fmt: skip
    spec = {"seed": seed, "warmup": warmup, "steady": steady, "zipf": zipf, "latency_ms": latency_ms,
            "suggest": suggest, "strategies": strategies, "cold_replays": cold_replays}  # fmt: skip
    if len(modes) > 1 and (os.cpu_count() or 1) > 1:
        # Each mode is its own stack (emulator, moto, API) and environment: one process per mode,
        # side by side. Every figure is a count or a ratio within one mode's run.
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(len(modes)) as pool:
            results = dict(zip(modes, pool.starmap(run_mode, [(spec, mode) for mode in modes]), strict=True))
    else:
        results = {mode: run_mode(spec, mode, workload) for mode in modes}
    figures = {mode: mode_figures(res) for mode, res in results.items()}
    static_figs: dict = {}
    if static:
        from bench.static import import_times, layer_size

        log("bench: handler import times, layer size")
        static_figs = {"imports": import_times(), "layer": layer_size(log=log)}
    all_goals = [g for mode in modes for g in goals(mode, figures[mode], static_figs)] + static_goals(static_figs)
    populate_note = (
        "after the warm-up the populate job runs once (`musicboxd.job_runner.run_populate`, in-process with the "
        "strategy's container, budget 3,000 calls): warm-up demand (usage counters flushed first), new releases, "
        "the emulator's playlists, then the popularity sweep (year by year); it ends by rebuilding the tier-1 "
        "index, which the search container picks up."
    )
    return {
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "run_seconds": time.perf_counter() - started,
        "workload": workload.describe(),
        "search_limit": SEARCH_LIMIT,
        "latency_ms": latency_ms,
        "populate_note": populate_note,
        "modes": figures,
        "static": static_figs,
        "goals": all_goals,
        "_results": results,
    }


def write(doc: dict, out_dir: Path) -> None:
    from bench.report import plot

    results = doc.pop("_results")
    (out_dir / "bench").mkdir(parents=True, exist_ok=True)
    plot(results, out_dir / "bench" / "calls_hit_rate.png", doc["workload"]["warmup"])
    (out_dir / "bench" / "results.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
    rewrite_report(out_dir, doc)


def rewrite_report(out_dir: Path, doc: dict) -> None:
    """BENCHMARKS.md from ``doc``, keeping the sections other commands splice in (``<!-- name:begin -->``)."""
    from bench.report import markdown

    report = out_dir / "BENCHMARKS.md"
    previous = report.read_text() if report.exists() else ""
    spliced = previous.find("\n<!-- ")
    report.write_text(markdown(doc).rstrip("\n") + "\n" + (previous[spliced:] if spliced >= 0 else ""))


def merge_costs(doc: dict, previous: dict) -> dict:
    """The last full run's results with this (cost-only) run's cost figures and cost goals put in."""
    merged = dict(previous)
    merged["modes"] = {mode: dict(figures) for mode, figures in previous["modes"].items()}
    for mode, figures in doc["modes"].items():
        for strategy, figs in figures.items():
            merged["modes"].setdefault(mode, {}).setdefault(strategy, {})
            merged["modes"][mode][strategy] = {**merged["modes"][mode][strategy], "cost": figs["cost"]}
    new = {g["goal"]: g for g in doc["goals"] if "$ per million" in g["goal"]}
    merged["goals"] = [new.pop(g["goal"], g) for g in previous["goals"]] + list(new.values())  # in place
    merged["cost_run"] = {"generated": doc["generated"], "run_seconds": doc["run_seconds"],
                          "modes": sorted(doc["modes"])}  # fmt: skip
    return merged


def main(argv: list[str] | None = None) -> int:
    from bench.figures import goal_line

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=int(os.environ.get("BENCH_SEED", DEFAULTS["seed"])))
    ap.add_argument("--warmup", type=int, default=DEFAULTS["warmup"])
    ap.add_argument("--steady", type=int, default=DEFAULTS["steady"])
    ap.add_argument("--zipf", type=float, default=DEFAULTS["zipf"])
    latency = int(os.environ.get("EMULATOR_LATENCY_MS", DEFAULTS["latency_ms"]))
    ap.add_argument("--latency-ms", type=int, default=latency, help="emulator latency in the steady phase")
    ap.add_argument("--modes", default="development,extended")
    ap.add_argument("--strategies", default="", help="comma-separated subset (default: all)")
    ap.add_argument("--no-static", action="store_true", help="skip import times and layer size")
    ap.add_argument("--out-dir", type=Path, default=ROOT)
    ap.add_argument("--render", action="store_true", help="only re-render BENCHMARKS.md from bench/results.json")
    ap.add_argument(
        "--cost-only",
        action="store_true",
        help="run the strategies for the cost figures only (no tier-1 cold replays, suggest or static "
        "figures) and put them into the last full run's bench/results.json and BENCHMARKS.md",
    )
    args = ap.parse_args(argv)
    if args.render:
        rewrite_report(args.out_dir, json.loads((args.out_dir / "bench" / "results.json").read_text()))
        return 0
    doc = run(seed=args.seed, warmup=args.warmup, steady=args.steady, zipf=args.zipf, latency_ms=args.latency_ms,
              modes=tuple(m for m in args.modes.split(",") if m), static=not (args.no_static or args.cost_only),
              strategies=tuple(s for s in args.strategies.split(",") if s) or None,
              suggest=0 if args.cost_only else 200, cold_replays=not args.cost_only)  # fmt: skip
    if args.cost_only:
        from bench.figures import goal_line

        doc.pop("_results")
        results_file = args.out_dir / "bench" / "results.json"
        merged = merge_costs(doc, json.loads(results_file.read_text()))
        results_file.write_text(json.dumps(merged, indent=1, default=str) + "\n")
        rewrite_report(args.out_dir, merged)
        for g in merged["goals"]:
            if "$ per million" in g["goal"]:
                print(goal_line(g))
        return 0
    write(doc, args.out_dir)
    if not args.no_static:
        from bench import coldstart

        cold = coldstart.measure(log=log)
        coldstart.write(cold, args.out_dir)
        doc["goals"] += [{"goal": name, "pass": ok, "shown": value} for name, ok, value in coldstart.goals(cold)]
    print(f"\nseed {doc['workload']['seed']}; {doc['run_seconds']:.0f} s; wrote BENCHMARKS.md, bench/results.json, "
          "bench/calls_hit_rate.png")  # fmt: skip
    for g in doc["goals"]:
        print(goal_line(g))
    return 0
