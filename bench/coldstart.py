"""Cold-start figures under Python 3.13 from a layer built like the shipped one (issue 18).

``python -m bench.coldstart`` measures only this part and rewrites only its section of
BENCHMARKS.md (between the ``coldstart`` markers); ``make bench`` runs it too.

- handler import + first request (a cache hit against a moto server) for search and album,
  each in a fresh interpreter, against the naive set (boto3 + pynamodb.models + httpx +
  aws_lambda_powertools, then the same item read with boto3) measured the same way;
- the simulated SnapStart restore (tools.snapstart_sim): restore -> first answer, and the
  after-restore hooks' own time;
- the tier-1 index load for 18k and 50k albums, format 4 against format 3 (JSON columns).

The layer is the one ``bench.shipped_import`` builds (the shipping recipe, for this machine),
the interpreter a Python 3.13 venv holding only what the Lambda runtime provides (boto3 and
snapshot_restore_py, ``infra.toolchain.python313_like_lambda``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.shipped_import import CACHE_DIR, ROOT

GOAL_RATIO = 0.5
ALBUM_ID = "4aawyAB9vmqN3uQ7FjRGTy"
MARKERS = ("<!-- coldstart:begin -->", "<!-- coldstart:end -->")

# A first request in a fresh interpreter, as Lambda's init + first invoke would run it.
_FIRST_REQUEST = """
import json, sys, time
started = time.perf_counter()
import handler
imported = time.perf_counter()
class Context:
    function_name = "{function}"; memory_limit_in_mb = 1024; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    def get_remaining_time_in_millis(self): return 10_000
response = handler.handler(json.loads(sys.argv[1]), Context())
answered = time.perf_counter()
headers = {{k: v[-1] for k, v in (response.get("multiValueHeaders") or {{}}).items()}}
print(json.dumps({{"import_s": imported - started, "first_s": answered - imported,
                  "status": response["statusCode"], "cache": headers.get("X-Cache")}}))
"""
_NAIVE = """
import json, os, time
started = time.perf_counter()
import boto3, pynamodb.models, httpx, aws_lambda_powertools
imported = time.perf_counter()
client = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT_URL"])
item = client.get_item(TableName=os.environ["TABLE_NAME"], Key={{"pk": {{"S": "{pk}"}}, "sk": {{"S": "{sk}"}}}})
answered = time.perf_counter()
status = 200 if "Item" in item else 404
print(json.dumps({{"import_s": imported - started, "first_s": answered - imported, "status": status}}))
"""
_INDEX_LOAD = """
import json, sys, time
from musicboxd.index.core import Tier1Index
blob = open(sys.argv[1], "rb").read()
best = []
for _ in range(3):
    started = time.perf_counter(); Tier1Index.loads(blob); best.append(time.perf_counter() - started)
print(json.dumps(min(best)))
"""


def _run(cmd: list[str], **kwargs: Any) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ...: {done.stderr[-2000:]}")
    return done.stdout


def build() -> tuple[Path, Path]:
    """(layer python/ folder, Python 3.13 like Lambda's runtime), both cached."""
    from bench.shipped_import import built_layer
    from infra.toolchain import python313_like_lambda

    return built_layer(), python313_like_lambda(CACHE_DIR, ROOT / "requirements-dev.lock")


def _seed(env: dict[str, str]) -> None:
    """A cached album, a cached search page and a tier-1 index in the bench table."""
    from musicboxd.adapters.dynamo import create_table, make_model
    from musicboxd.config import Settings
    from tests.hit_path import seed_hit_path

    model = make_model(Settings(table_name=env["TABLE_NAME"], dynamodb_endpoint_url=env["DYNAMODB_ENDPOINT_URL"]))
    create_table(model)
    seed_hit_path(model)


def _event(function: str) -> dict[str, Any]:
    from tools.localstack.apigw import build_event, match

    path = "/search?q=homogenic" if function == "search" else f"/albums/{ALBUM_ID}"
    route, parameters, _ = match("GET", path.split("?", 1)[0])
    assert route is not None
    return build_event("GET", path, route=route, path_parameters=parameters)


def first_requests(layer: Path, python: Path, env: dict[str, str], repeats: int) -> dict[str, Any]:
    """Median import and first-request times per case, each run in a fresh Python 3.13."""
    run_env = {**env, "PYTHONPATH": str(layer), "PYTHONDONTWRITEBYTECODE": "1"}
    cases: dict[str, tuple[list[str], Path]] = {
        name: ([str(python), "-c", _FIRST_REQUEST.format(function=name), json.dumps(_event(name))],
               ROOT / "functions" / name)
        for name in ("search", "album")
    }  # fmt: skip
    cases["naive"] = ([str(python), "-c", _NAIVE.format(pk=f"ALBUM#{ALBUM_ID}", sk="A")], ROOT)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}
    for _ in range(repeats):  # interleaved: drifting machine load hits every case alike
        for name, (cmd, cwd) in cases.items():
            samples[name].append(json.loads(_run(cmd, cwd=cwd, env=run_env)))
    out: dict[str, Any] = {}
    for name, runs in samples.items():
        out[name] = {
            "import_ms": statistics.median(r["import_s"] for r in runs) * 1000,
            "first_ms": statistics.median(r["first_s"] for r in runs) * 1000,
            "total_ms": statistics.median(r["import_s"] + r["first_s"] for r in runs) * 1000,
            "statuses": sorted({f"{r['status']} {r.get('cache') or ''}".strip() for r in runs}),
        }
    return out


def restores(layer: Path, python: Path, env: dict[str, str], repeats: int) -> dict[str, Any]:
    """tools.snapstart_sim under Python 3.13 from the built layer: restore -> first answer."""
    run_env = {**env, "PYTHONPATH": os.pathsep.join([str(layer), str(ROOT)])}
    out: dict[str, Any] = {}
    for function in ("search", "album"):
        path = "/search?q=homogenic" if function == "search" else f"/albums/{ALBUM_ID}"
        copies = []
        before = []
        for _ in range(repeats):
            result = json.loads(_run([str(python), "-m", "tools.snapstart_sim", function, path], cwd=ROOT, env=run_env))
            copies += result["copies"]
            before.append(result["snapshot"]["before_snapshot_s"])
        out[function] = {
            "restore_to_answer_ms": statistics.median(c["restore_to_answer_s"] for c in copies) * 1000,
            "after_restore_hooks_ms": statistics.median(c["after_restore_hooks_s"] for c in copies) * 1000,
            "before_snapshot_ms": statistics.median(before) * 1000,
            "statuses": sorted({f"{c['status']} {c['headers'].get('X-Cache', '')}".strip() for c in copies}),
            "copies": len(copies),
        }
    return out


def index_loads(layer: Path, python: Path, sizes: tuple[int, ...] = (18_000, 50_000)) -> dict[str, Any]:
    """Artifacts generated here (Faker), loaded by Python 3.13 from the built layer."""
    from musicboxd.index.core import Tier1Index
    from tools.index_bench import format3_artifact, generate, with_ranks

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            index = Tier1Index.build(with_ranks(generate(size)), version="bench", built_at=0, now_year=2026,
                                     catalog_size=size)  # fmt: skip
            row: dict[str, Any] = {"albums": len(index)}
            for label, blob in (("format4", index.dumps()), ("format3_json", format3_artifact(index))):
                path = Path(tmp) / f"{size}-{label}"
                path.write_bytes(blob)
                seconds = json.loads(_run([str(python), "-c", _INDEX_LOAD, str(path)],
                                          env={**os.environ, "PYTHONPATH": str(layer)}))  # fmt: skip
                row[label] = {"bytes": len(blob), "load_ms": seconds * 1000}
            out[str(size)] = row
    return out


def measure(repeats: int = 7, log: Any = print) -> dict[str, Any]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per moto request otherwise

    log("  coldstart: the shipped layer for this machine and a Python 3.13 like Lambda's (cached)")
    layer, python = build()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1", "TABLE_NAME": "bench-coldstart",
        "DYNAMODB_ENDPOINT_URL": f"http://{host}:{port}", "SSM_ENDPOINT_URL": f"http://{host}:{port}",
        "SPOTIFY_API_URL": "http://127.0.0.1:9/v1", "SPOTIFY_ACCOUNTS_URL": "http://127.0.0.1:9/api/token",
        "POWERTOOLS_METRICS_NAMESPACE": "Musicboxd", "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        os.environ.setdefault(name, env[name])  # _seed writes from this process
    try:
        _seed(env)
        log("  coldstart: first requests (fresh Python 3.13 per sample)")
        first = first_requests(layer, python, env, repeats)
        log("  coldstart: simulated SnapStart restores")
        restored = restores(layer, python, env, max(2, repeats // 2))
    finally:
        server.stop()
    log("  coldstart: tier-1 index loads (18k, 50k)")
    naive = first["naive"]["total_ms"]
    return {
        "python": _run([str(python), "-c", "import sys; print(sys.version.split()[0])"]).strip(),
        "repeats": repeats,
        "first_request": first,
        "restore": restored,
        "index": index_loads(layer, python),
        "ratio_vs_naive": {
            f"{name} {how}": value / naive
            for name in ("search", "album")
            for how, value in (
                ("import + first hit", first[name]["total_ms"]),
                ("SnapStart restore -> first hit", restored[name]["restore_to_answer_ms"]),
            )
        },  # fmt: skip
    }


def goals(figures: dict[str, Any]) -> list[tuple[str, bool, str]]:
    return [
        (f"{case} <= {GOAL_RATIO}x naive", ratio <= GOAL_RATIO, f"{ratio:.2f}x")
        for case, ratio in figures["ratio_vs_naive"].items()
    ]


def section(figures: dict[str, Any]) -> str:
    first, restored, index = figures["first_request"], figures["restore"], figures["index"]
    lines = [
        MARKERS[0],
        "## Cold start (issue 18)",
        "",
        f"`python -m bench.coldstart` (also part of `make bench`): Python {figures['python']} holding only what "
        "Lambda's runtime provides (boto3, snapshot_restore_py), the layer built by the shipping recipe for this "
        f"machine, a moto server for DynamoDB, Spotify unreachable. Medians of {figures['repeats']} fresh "
        "interpreters; the naive set is `import boto3, pynamodb.models, httpx, aws_lambda_powertools` plus the same "
        "item read with boto3.",
        "",
        "| case | import | first request (cache hit) | total | answered |",
        "|---|---|---|---|---|",
    ]
    for name in ("search", "album", "naive"):
        row = first[name]
        lines.append(f"| {name} | {row['import_ms']:.0f} ms | {row['first_ms']:.0f} ms | {row['total_ms']:.0f} ms "
                     f"| {', '.join(row['statuses'])} |")  # fmt: skip
    lines += [
        "",
        "Simulated SnapStart (`tools.snapstart_sim`: before-snapshot hooks, fork, after-restore hooks, first "
        "request). Lambda's own restore of the microVM comes on top and cannot be measured offline.",
        "",
        "| function | restore -> first answer | after-restore hooks | before-snapshot hooks (per version) | answered |",
        "|---|---|---|---|---|",
    ]
    for name in ("search", "album"):
        row = restored[name]
        lines.append(f"| {name} | {row['restore_to_answer_ms']:.1f} ms | {row['after_restore_hooks_ms']:.1f} ms "
                     f"| {row['before_snapshot_ms']:.0f} ms | {', '.join(row['statuses'])} |")  # fmt: skip
    lines += ["", "| tier-1 index | format 4 (shipped) | format 3 (JSON columns) |", "|---|---|---|"]
    for size, row in index.items():
        new, old = row["format4"], row["format3_json"]
        lines.append(f"| {int(size):,} albums | {new['bytes'] / 1e6:.2f} MB, {new['load_ms']:.0f} ms "
                     f"| {old['bytes'] / 1e6:.2f} MB, {old['load_ms']:.0f} ms |")  # fmt: skip
    lines += ["", "Goals:", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'} {name}: {value}" for name, ok, value in goals(figures)]
    lines.append(MARKERS[1])
    return "\n".join(lines) + "\n"


def splice(document: str, part: str) -> str:
    """``document`` with its coldstart section replaced by ``part`` (appended when absent)."""
    begin, end = MARKERS
    if begin in document and end in document:
        head, rest = document.split(begin, 1)
        return head + part.rstrip("\n") + rest.split(end, 1)[1]
    return document.rstrip("\n") + "\n\n" + part


def write(figures: dict[str, Any], out_dir: Path = ROOT) -> None:
    out = out_dir / "BENCHMARKS.md"
    out.write_text(splice(out.read_text() if out.exists() else "", section(figures)))
    (out_dir / "bench").mkdir(parents=True, exist_ok=True)
    (out_dir / "bench" / "coldstart.json").write_text(json.dumps(figures, indent=1) + "\n")


def main() -> int:
    started = time.perf_counter()
    figures = measure()
    write(figures)
    print(section(figures))
    print(f"coldstart figures in {time.perf_counter() - started:.0f} s -> BENCHMARKS.md, bench/coldstart.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
