"""Runs one shipped function as Lambda would, under Python 3.13 with only boto3 beside it.

Executed by the rehearsal (tests/deploy) as ``python3.13 -I runner.py <job.json>``: the
function's asset folder and the built layer's ``python/`` go first on ``sys.path`` (Lambda's
/var/task and /opt/python), then the interpreter's own site-packages (boto3 and its
dependencies only, as the Lambda runtime has). Every botocore call is recorded (service,
operation, the parameters that name resources) before it is sent. Standard library only.
"""

from __future__ import annotations

import json
import sys
import sysconfig
import time
import traceback
import uuid
from pathlib import Path


class LambdaContext:
    def __init__(self, function_name: str, timeout_seconds: float, memory_mb: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "rehearsal"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


RESOURCE_PARAMETERS = ("TableName", "IndexName", "Name", "Names")


def record_botocore_calls(calls: list[dict]) -> None:
    import botocore.client

    send = botocore.client.BaseClient._make_api_call

    def recording(client, operation_name, api_params):  # type: ignore[no-untyped-def]
        named = {key: api_params[key] for key in RESOURCE_PARAMETERS if key in api_params}
        if "RequestItems" in api_params:
            named["RequestItems"] = sorted(api_params["RequestItems"])
        calls.append(
            {
                "service": client.meta.service_model.signing_name,
                "operation": operation_name,
                "region": client.meta.region_name,
                "params": named,
            }
        )
        return send(client, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = recording


def module_origins(roots: dict[str, Path]) -> dict:
    """Where every imported module came from, and whether the layer's had shipped bytecode."""
    stdlib = {Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib")}
    outside: list[str] = []
    by_root: dict[str, set[str]] = {name: set() for name in roots}
    no_bytecode: list[str] = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        for root_name, root in roots.items():
            if path.is_relative_to(root):
                by_root[root_name].add(name.split(".")[0])
                cached = getattr(module, "__cached__", None)
                if root_name == "layer" and path.suffix == ".py" and not (cached and Path(cached).exists()):
                    no_bytecode.append(name)
                break
        else:
            if not any(path.is_relative_to(s) for s in stdlib):
                outside.append(f"{name}: {path}")
    return {
        "outside": sorted(outside),
        "top_level": {k: sorted(v) for k, v in by_root.items()},
        "no_bytecode": sorted(no_bytecode),
    }


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    asset, layer = Path(job["asset"]).resolve(), Path(job["layer"]).resolve()
    sys.path[:0] = [str(asset), str(layer)]  # /var/task, /opt/python
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    calls: list[dict] = []
    record_botocore_calls(calls)
    results = []
    started = time.perf_counter()
    handler_module = __import__(job["handler"].rsplit(".", 1)[0])
    handler = getattr(handler_module, job["handler"].rsplit(".", 1)[1])
    import_seconds = time.perf_counter() - started
    for event in job["events"]:
        context = LambdaContext(job["function_name"], job["timeout_seconds"], job["memory_mb"])
        first = len(calls)
        try:
            answer = handler(event, context)
            results.append({"ok": True, "answer": answer, "calls": calls[first:]})
        except Exception:
            results.append({"ok": False, "error": traceback.format_exc(), "calls": calls[first:]})
    report = {
        "python": list(sys.version_info[:3]),
        "import_seconds": import_seconds,
        "results": results,
        "modules": module_origins({"asset": asset, "layer": layer, "runtime": site}),
    }
    Path(job["out"]).write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
