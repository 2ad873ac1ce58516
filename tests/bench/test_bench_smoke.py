"""Smoke run of the benchmark harness: tiny workload, development mode, no latency.

Asserts the result structure and counts only (never timings): ours makes fewer Spotify calls
than the pass-through on the same workload, the seed strategy no more than the pass-through,
and pass-through never hits.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json

import pytest

from bench.figures import goal_line, goals, mode_figures
from bench.harness import run_modes
from bench.popular import warm_popular_tier
from bench.report import markdown, plot
from bench.run import write
from bench.workload import Workload


@pytest.fixture(scope="module")
def catalog():
    from tools.emulator import load_catalog

    return load_catalog()


def test_workload_is_reproducible(catalog):
    a = Workload(catalog, seed=5, warmup=50, steady=20)
    b = Workload(catalog, seed=5, warmup=50, steady=20)
    assert a.requests == b.requests
    assert Workload(catalog, seed=6, warmup=50, steady=20).requests != a.requests
    assert {r.phase for r in a.requests} == {"warmup", "steady"}
    assert {r.kind for r in a.requests} == {"search", "album"}
    us = {x.id for x in catalog.albums if "US" in x.markets}
    assert all(r.album_id in us for r in a.requests)


def test_smoke_run(catalog, tmp_path):
    workload = Workload(catalog, seed=11, warmup=60, steady=30)
    with contextlib.redirect_stdout(io.StringIO()):
        results = run_modes(
            workload, modes=("development",), latency_ms=0, suggest=5, log=lambda *a: None,
            populate=functools.partial(warm_popular_tier, budget=40),
        )  # fmt: skip
    figs = mode_figures(results["development"])
    assert set(figs) == {"pass-through", "seed", "ours"}
    for fig in figs.values():
        st = fig["steady"]
        assert st["requests"] == 30 and st["errors"] == 0
        assert {"spotify_calls", "hit_rate", "top5_agreement", "hits", "misses", "saved_vs_pass_through"} <= set(st)
    calls = {s: f["warmup"]["spotify_calls"] + f["steady"]["spotify_calls"] for s, f in figs.items()}
    assert calls["ours"] < calls["pass-through"]
    assert calls["seed"] <= calls["pass-through"]
    assert figs["pass-through"]["steady"]["hit_rate"] == 0
    assert figs["pass-through"]["steady"]["top5_agreement"] == 1.0  # Spotify's own answer
    # a hit of ours costs at most one DynamoDB round trip (none from the in-memory L1)
    assert figs["ours"]["steady"]["dynamo_per_hit_max"] in (None, 0, 1)
    assert figs["ours"]["populate"]["albums_cached"] > 0
    assert figs["ours"]["suggest"]["n"] == 5
    # tier 1 is measured twice on the same replay: with and without the popularity sweep
    assert figs["ours"]["tier1"]["cold_searches"] == figs["ours"]["tier1_without_sweep"]["cold_searches"] > 0
    for fig in figs.values():  # priced: every steady request, with and without the CDN in front
        cost = fig["cost"]
        assert cost["with_cdn"]["total"] > 0 and cost["without_cdn"]["total"] > 0
        assert sum(route["requests"] for route in cost["by_route"].values()) == 30
    assert figs["ours"]["cost"]["edge_share"] > 0  # repeats of the warm-up answered at the edge
    gs = goals("development", figs, {})
    assert any("$ per million" in g["goal"] for g in gs)
    assert all(goal_line(g).startswith(("PASS", "FAIL")) for g in gs)

    doc = {"generated": "now", "machine": "test", "run_seconds": 1.0, "workload": workload.describe(),
           "search_limit": 10, "latency_ms": 0, "populate_note": "stand-in", "modes": {"development": figs},
           "static": {}, "goals": gs}  # fmt: skip
    text = markdown(doc)
    assert "| ours |" in text and "## Goals" in text and "with / without the popularity sweep" in text
    assert "$ per million requests at steady state" in text
    json.dumps(doc, default=str)
    plot(results, tmp_path / "plot.png", workload.describe()["warmup"])
    assert (tmp_path / "plot.png").stat().st_size > 1000

    # a full run rewrites its own part of BENCHMARKS.md and keeps the sections other benches splice in
    (tmp_path / "BENCHMARKS.md").write_text("# old figures\n\n<!-- abuse:begin -->\nkept\n<!-- abuse:end -->\n")
    write({**doc, "_results": results}, tmp_path)
    written = (tmp_path / "BENCHMARKS.md").read_text()
    assert "# old figures" not in written and "## Goals" in written
    assert written.endswith("<!-- abuse:begin -->\nkept\n<!-- abuse:end -->\n")
