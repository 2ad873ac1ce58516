"""Invoke a job handler in-process against the stack described by ``.local/stack.json``.

Reads the stack file written by ``make run`` (endpoints + the environment the stack set),
sets the same environment here, and calls ``functions/<job>/handler.py`` with a fake Lambda
context (15-minute timeout by default). Populate draws a progress bar on the terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tools.localstack import STACK_FILE
from tools.localstack.apigw import LambdaContext
from tools.localstack.metrics_file import metrics_to_file


def load_stack_env(path: Path = STACK_FILE) -> dict[str, str]:
    if not path.exists():
        raise SystemExit(f"{path} not found: start the stack first (make run)")
    stack = json.loads(path.read_text())
    env = dict(stack.get("env") or {})
    env.setdefault("AWS_SECRET_ACCESS_KEY", os.environ.get("AWS_SECRET_ACCESS_KEY") or "local")  # not in the file
    if stack.get("emulator_url"):
        env.setdefault("SPOTIFY_CLIENT_ID", "local-client")
        env.setdefault("SPOTIFY_CLIENT_SECRET", "local-secret")
    return env


def apply_env(env: dict[str, str]) -> None:
    for key, value in env.items():
        os.environ[key] = value
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from musicboxd import config, wiring

    config.settings.cache_clear()
    wiring.set_container(None)


class Bar:
    """A plain carriage-return progress bar (no dependency)."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream = stream
        self.width = width
        self.started = time.monotonic()
        self.tty = stream.isatty()
        self.last = ""

    def __call__(self, p) -> None:
        if p.phase == "collect":
            line = f"collecting candidates ({p.source}): {p.total} albums, {p.calls}/{p.budget} calls"
        else:
            filled = int(self.width * p.done / p.total) if p.total else self.width
            line = (
                f"[{'#' * filled}{'.' * (self.width - filled)}] {p.done}/{p.total} albums, "
                f"{p.calls}/{p.budget} calls, {p.cached} cached, {time.monotonic() - self.started:.1f}s"
            )
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
        elif line != self.last:
            self.stream.write(line + "\n")
        self.last = line
        self.stream.flush()

    def done(self) -> None:
        if self.tty and self.last:
            self.stream.write("\n")
            self.stream.flush()


def run_job(job: str, event: dict[str, Any], *, timeout: float = 900.0, progress=None) -> dict[str, Any]:
    """Call the job's handler in-process; ``progress`` receives populate's Progress updates."""
    from musicboxd import job_runner
    from tools.localstack.apigw import load_handler

    handler = load_handler(job)
    context = LambdaContext(function_name=f"musicboxd-{job}", timeout_seconds=timeout)
    job_runner.set_progress_hook(progress)
    try:
        return handler(event, context)
    finally:
        job_runner.set_progress_hook(None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run populate or cleanup against the local stack.")
    parser.add_argument("job", choices=["populate", "cleanup"])
    parser.add_argument("--budget", type=int, help="Spotify call budget of this run")
    parser.add_argument("--sources", help="comma-separated: demand,new_releases,playlists")
    parser.add_argument("--playlists", help="comma-separated playlist ids")
    parser.add_argument("--force", action="store_true", help="ignore a previous 429's not-before time")
    parser.add_argument("--restart", action="store_true", help="drop an unfinished run and start over")
    parser.add_argument("--timeout", type=float, default=900.0, help="fake Lambda timeout in seconds")
    parser.add_argument("--stack-file", type=Path, default=STACK_FILE)
    args = parser.parse_args(argv)

    apply_env(load_stack_env(args.stack_file))
    event: dict[str, Any] = {}
    for key in ("budget", "sources", "playlists"):
        if getattr(args, key) is not None:
            event[key] = getattr(args, key)
    if args.force:
        event["force"] = True
    if args.restart:
        event["restart"] = True
    bar = Bar()
    started = time.monotonic()
    with metrics_to_file():  # EMF lines into .local/metrics.jsonl, not over the progress bar
        result = run_job(args.job, event, timeout=args.timeout, progress=bar)
    bar.done()
    print(json.dumps(result, indent=2, default=str))
    if args.job == "populate":
        print(
            f"populate {result['status']}{' (' + result['reason'] + ')' if result.get('reason') else ''}: "
            f"{result['albums_cached']} albums cached with {result['calls']} Spotify calls "
            f"({result['albums_per_call']} albums/call) in {time.monotonic() - started:.1f}s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
