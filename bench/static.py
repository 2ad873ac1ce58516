"""Figures that need no workload: handler import time, layer size (unzipped)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER_PY = ROOT / "layers" / "common" / "python"
REQUIREMENTS = ROOT / "layers" / "common" / "requirements.txt"
CACHE_DIR = ROOT / ".local" / "bench"
# Provided by the Lambda Python runtime: not shipped in the layer.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "urllib3", "dateutil", "python_dateutil", "jmespath", "six")

_TIMER = "import time, sys; t = time.perf_counter(); {stmt}; sys.stdout.write(repr(time.perf_counter() - t))"
NAIVE = "import boto3, pynamodb.models, httpx, aws_lambda_powertools"


def _import_seconds(stmt: str, cwd: Path, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _TIMER.format(stmt=stmt)], cwd=cwd, env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return float(out.stdout)


def import_times(repeats: int = 7) -> dict:
    """Median cold import (fresh interpreter each time) of each handler vs the naive imports."""
    env = {
        **os.environ,
        "PYTHONPATH": str(LAYER_PY),  # like /opt/python on Lambda
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "musicboxd",
        "POWERTOOLS_METRICS_NAMESPACE": "Musicboxd",
        "TABLE_NAME": "bench",
    }
    cases = {
        "search": ("import handler", ROOT / "functions" / "search"),
        "album": ("import handler", ROOT / "functions" / "album"),
        "naive": (NAIVE, ROOT),
    }
    samples: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(repeats):  # interleaved, so drifting machine load hits every case alike
        for name, (stmt, cwd) in cases.items():
            samples[name].append(_import_seconds(stmt, cwd, env))
    med = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    return {
        "repeats": repeats,
        "median_ms": med,
        "ratio_vs_naive": {k: med[k] / med["naive"] for k in ("search", "album")},
        "naive": NAIVE,
    }


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


INFRA_LAYER = ROOT / "infra" / "constructs" / "layer.py"


def _infra_bundle(log) -> dict | None:
    """The layer exactly as the CDK app bundles it (infra's PipLayerBundler), minus our package."""
    try:
        from infra.constructs.layer import PipLayerBundler
        from infra.paths import LAYER_DIR
    except Exception:  # infra not in this tree, or CDK not importable
        return None
    with tempfile.TemporaryDirectory() as tmp:
        log("  layer: infra's PipLayerBundler (pip for the Lambda platform; cached afterwards)")
        PipLayerBundler(Path(LAYER_DIR)).try_bundle(tmp)
        site = Path(tmp) / "python"
        ours = _size(site / "musicboxd")
        return {"dependencies_bytes": _size(site) - ours, "recipe": "infra.constructs.layer.PipLayerBundler"}


def layer_size(log=print) -> dict:
    """Unzipped size of the layer as bundled for Lambda (arm64, Python 3.13), cached by recipe."""
    recipe = REQUIREMENTS.read_bytes() + (INFRA_LAYER.read_bytes() if INFRA_LAYER.exists() else b"")
    key = hashlib.sha256(recipe).hexdigest()[:16]
    cache = CACHE_DIR / f"layer-deps-{key}.json"
    if cache.exists():
        deps = json.loads(cache.read_text())
    elif (deps := _infra_bundle(log)) is not None:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(deps))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "python"
            cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q",
                   "--platform", "manylinux2014_aarch64", "--python-version", "3.13", "--implementation", "cp",
                   "--only-binary=:all:", "--target", str(target), "-r", str(REQUIREMENTS)]  # fmt: skip
            log("  layer: pip install for manylinux2014_aarch64 / cp313 (cached afterwards)")
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                return {"measured": False, "reason": done.stderr.strip().splitlines()[-1:]}
            dropped = 0
            for entry in list(target.iterdir()):
                name = entry.name.lower()
                if any(name == p or name.startswith(p + "-") or name.startswith(p + ".") for p in RUNTIME_PROVIDED):
                    dropped += _size(entry) if entry.is_dir() else entry.stat().st_size
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            for pyc in list(target.rglob("__pycache__")):
                shutil.rmtree(pyc)
            deps = {"dependencies_bytes": _size(target), "runtime_provided_dropped_bytes": dropped,
                    "recipe": "bench pip --target (manylinux2014_aarch64, cp313)"}  # fmt: skip
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(deps))
    package = sum(
        f.stat().st_size for f in (LAYER_PY / "musicboxd").rglob("*") if f.is_file() and "__pycache__" not in f.parts
    )
    total = deps["dependencies_bytes"] + package
    return {"measured": True, "bytes": total, "mb": total / 1e6, "package_bytes": package, **deps,
            "platform": "aarch64 / cp313", "recipe_sha": key}  # fmt: skip
