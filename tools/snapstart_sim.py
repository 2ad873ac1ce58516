"""Offline SnapStart: snapshot a function once, restore it twice, answer a request in each copy.

``python -m tools.snapstart_sim search /search?q=love [--copies 2] [--open-http URL]`` (Linux).
The process imports the function's handler as Lambda's init would and runs the registered
before-snapshot hooks (in the runtime's order); ``os.fork`` then stands for a restore: each
child first puts back the snapshot's random state (Python reseeds it at fork, a restored
snapshot does not), runs the after-restore hooks, answers the request, and reports what a
copy must not share with another: its TCP sockets (inodes, local ports), its random draw and
its lease holder (each copy in turn then tries to take one lease). Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

LEASE = "snapstart-sim"


def tcp_sockets() -> dict[int, dict[str, int]]:
    """This process's established TCP sockets: inode -> local and remote port (from /proc)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        found = re.fullmatch(r"socket:\[(\d+)\]", _readlink(f"/proc/self/fd/{fd}"))
        if found:
            inodes.add(int(found.group(1)))
    sockets = {}
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
            if inode in inodes and state == "01":  # ESTABLISHED
                sockets[inode] = {"local_port": int(local.rsplit(":", 1)[1], 16),
                                  "remote_port": int(remote.rsplit(":", 1)[1], 16)}  # fmt: skip
    return sockets


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:  # closed meanwhile (the listing's own fd)
        return ""


def run_before_snapshot() -> float:
    from snapshot_restore_py import get_before_snapshot

    started = time.perf_counter()
    hooks = get_before_snapshot()
    while hooks:  # the runtime runs them last-registered first
        func, args, kwargs = hooks.pop()
        func(*args, **kwargs)
    return time.perf_counter() - started


def run_after_restore() -> float:
    from snapshot_restore_py import get_after_restore

    started = time.perf_counter()
    for func, args, kwargs in get_after_restore():
        func(*args, **kwargs)
    return time.perf_counter() - started


def _copy(function: str, handler: Any, event: dict[str, Any], snapshot_random: Any, report: int, go: int) -> None:
    """A restored copy (runs in a forked child, never returns)."""
    from musicboxd.adapters import aws
    from musicboxd.wiring import container
    from tools.localstack.apigw import LambdaContext

    status = 1
    try:
        random.setstate(snapshot_random)  # what a restored snapshot has; fork alone would reseed
        restored = time.perf_counter()
        hooks_s = run_after_restore()
        clients_before = len(aws._CLIENTS)
        response = handler(event, LambdaContext(function_name=function))
        answered_s = time.perf_counter() - restored
        lease = container().lease
        out = {
            "pid": os.getpid(),
            "status": response["statusCode"],
            "headers": {
                **{k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()},
                **(response.get("headers") or {}),
            },
            "body": json.loads(response["body"]) if response.get("body") else None,
            "after_restore_hooks_s": hooks_s,
            "restore_to_answer_s": answered_s,
            "botocore_clients_built": len(aws._CLIENTS) - clients_before,  # each costs ~10-50 ms
            "random": random.random(),
            "lease_holder": lease.holder,
            "sockets": tcp_sockets(),
        }
        os.write(report, (json.dumps(out) + "\n").encode())
        if os.read(go, 1):  # the parent says when this copy may try the lease
            os.write(report, (json.dumps({"lease_taken": lease.acquire(LEASE, ttl_seconds=60)}) + "\n").encode())
        status = 0
    finally:
        os._exit(status)


def simulate(function: str, raw_path: str, *, copies: int = 2, open_http: str = "") -> dict[str, Any]:
    from musicboxd.wiring import container
    from tools.localstack.apigw import build_event, load_handler, match

    handler = load_handler(function)  # Lambda's init: the handler module and what it imports
    if open_http:  # a keep-alive connection in the snapshot, as priming that called out would leave
        container().http.get(open_http)
    before_s = run_before_snapshot()
    route, parameters, _ = match("GET", raw_path.split("?", 1)[0])
    if route is None:
        raise SystemExit(f"no route for {raw_path}")
    event = build_event("GET", raw_path, route=route, path_parameters=parameters)
    snapshot = {"before_snapshot_s": before_s, "sockets": tcp_sockets(), "lease_holder": container().lease.holder}
    snapshot_random = random.getstate()
    children = []
    for _ in range(copies):
        report_r, report_w = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            _copy(function, handler, event, snapshot_random, report_w, go_r)
        os.close(report_w)
        os.close(go_r)
        children.append((pid, os.fdopen(report_r), go_w))
    reports = [json.loads(stream.readline() or "{}") for _, stream, _ in children]
    for (_, stream, go), report in zip(children, reports, strict=True):  # one copy after another
        os.write(go, b"1")
        report.update(json.loads(stream.readline() or "{}"))
    for pid, stream, go in children:
        os.close(go)
        stream.close()
        os.waitpid(pid, 0)
    return {"function": function, "path": raw_path, "snapshot": snapshot, "copies": reports}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("function", choices=["search", "album"])
    parser.add_argument("path", help="a GET path with its query, e.g. /search?q=love")
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--open-http", default="", help="GET this URL through the Spotify HTTP client before")
    args = parser.parse_args(argv)
    json.dump(simulate(args.function, args.path, copies=args.copies, open_http=args.open_http), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
