"""Handler import as shipped: the built layer under Python 3.13, vs the naive set measured the same way.

``python -m bench.shipped_import`` (part of ``make bench``): builds the layer with the shipping
recipe (lock, pip, Python 3.13 compileall, unchecked-hash) for this machine's architecture,
then times, in fresh ``python3.13 -I -B`` interpreters with only boto3 installed (as the Lambda
runtime has), ``import handler`` of search and album from their function folder + the layer,
and the naive ``import boto3, pynamodb.models, httpx, aws_lambda_powertools`` from the same
layer; also the search handler with the layer's bytecode ignored (what the old recipe shipped).
Median of N, interleaved. Writes its section of BENCHMARKS.md (between markers) and
``bench/shipped_import.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = ROOT / ".local" / "bench"
NAIVE = "import boto3, pynamodb.models, httpx, aws_lambda_powertools"
GOAL = 0.5  # issue 18: handler import <= 0.5x naive
BEGIN, END = "<!-- shipped-import:begin -->", "<!-- shipped-import:end -->"
TIMER = (
    "import sys, time; sys.path[:0] = {paths!r}; t = time.perf_counter(); {stmt}; "
    "sys.stdout.write(repr(time.perf_counter() - t))"
)


def built_layer() -> Path:
    """The layer as `make synth` bundles it, for this machine, cached by the asset hash."""
    os.environ["MUSICBOXD_LAYER_PLATFORM"] = "host"
    from infra.constructs.layer import PipLayerBundler, layer_asset_hash
    from infra.paths import LAYER_DIR

    target = CACHE_DIR / f"layer-{layer_asset_hash()[:16]}"
    if not (target / ".complete").exists():
        PipLayerBundler(LAYER_DIR).try_bundle(str(target))
        (target / ".complete").touch()
    return target / "python"


def import_seconds(python: Path, stmt: str, paths: list[str], env: dict[str, str]) -> float:
    done = subprocess.run(
        [str(python), "-I", "-B", "-c", TIMER.format(paths=paths, stmt=stmt)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def measure(repeats: int) -> dict:
    from infra.toolchain import python313_like_lambda

    python = python313_like_lambda(CACHE_DIR, ROOT / "requirements-dev.lock")
    layer = str(built_layer())
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "musicboxd",
        "POWERTOOLS_METRICS_NAMESPACE": "Musicboxd",
        "TABLE_NAME": "bench",
    }
    with tempfile.TemporaryDirectory() as empty:
        cases = {
            "search": ("import handler", [str(ROOT / "functions" / "search"), layer]),
            "album": ("import handler", [str(ROOT / "functions" / "album"), layer]),
            "naive": (NAIVE, [layer]),
            # .pyc looked up only in an empty folder: every module compiled from source (old recipe)
            "search_without_bytecode": (
                f"sys.pycache_prefix = {empty!r}; import handler",
                [str(ROOT / "functions" / "search"), layer],
            ),
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(repeats):  # interleaved: drifting load hits every case alike
            for name, (stmt, paths) in cases.items():
                samples[name].append(import_seconds(python, stmt, paths, env))
    median = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    ratios = {name: median[name] / median["naive"] for name in ("search", "album")}
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True
    )
    return {
        "repeats": repeats,
        "python": version.stdout.strip(),
        "median_ms": median,
        "ratio_vs_naive": ratios,
        "naive": NAIVE,
    }


def goal_lines(figures: dict) -> list[str]:
    median, worst = figures["median_ms"], max(figures["ratio_vs_naive"].values())
    return [
        f"{'PASS' if worst <= GOAL else 'FAIL'}  handler import from the built layer (Python {figures['python']}, "
        f"bytecode as shipped) <= {GOAL}x naive: search {median['search']:.0f} ms, album {median['album']:.0f} ms "
        f"vs naive {median['naive']:.0f} ms = {worst:.2f}x",
        f"{'PASS' if median['search'] < median['search_without_bytecode'] else 'FAIL'}  shipped bytecode is used: "
        f"search {median['search']:.0f} ms with it, {median['search_without_bytecode']:.0f} ms compiling from source",
    ]


def section(figures: dict) -> str:
    lines = [
        BEGIN,
        "## Handler import as shipped (`python -m bench.shipped_import`)",
        "",
        f"Fresh `python{figures['python']} -I -B` interpreters with only boto3 installed (the Lambda runtime's "
        f"set), function folder + the built layer on `sys.path` (/var/task, /opt/python), median of "
        f"{figures['repeats']}, cases interleaved. Naive: `{figures['naive']}` from the same layer. The layer is "
        "built with the shipping recipe for this machine's architecture.",
        "",
        "```",
        *goal_lines(figures),
        "```",
        END,
    ]
    return "\n".join(lines)


def write(figures: dict, path: Path = ROOT / "BENCHMARKS.md") -> None:
    text = path.read_text() if path.exists() else ""
    block = section(figures)
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
    (ROOT / "bench" / "shipped_import.json").write_text(json.dumps(figures, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args(argv)
    figures = measure(args.repeats)
    write(figures)
    for line in goal_lines(figures):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
