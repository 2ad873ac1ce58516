"""``make run``: the whole stack in the foreground; Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import sys
import threading
import warnings

from tools.localstack import STACK_FILE
from tools.localstack.metrics_file import METRICS_FILE, metrics_to_file
from tools.localstack.stack import LocalStack


def main() -> int:
    # Metrics on, as deployed, but into .local/metrics.jsonl: the console keeps logs and progress.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "false")
    warnings.filterwarnings("ignore", "No application metrics to publish")
    with metrics_to_file():  # the Lambda instances (worker processes) write there too
        run_stack()
        print(f"metric records in {METRICS_FILE}", file=sys.stderr)
    return 0


def run_stack() -> None:
    stack = LocalStack(
        api_port=int(os.environ.get("API_PORT", "3000")),
        emulator_port=int(os.environ.get("EMULATOR_PORT", "8790")),
        moto_port=int(os.environ.get("MOTO_PORT", "0")),
        populate_on_start=os.environ.get("POPULATE_ON_START", "true").strip().lower() not in ("0", "false", "no"),
        populate_budget=int(os.environ.get("POPULATE_ON_START_BUDGET", "2500")),
        lambda_instances=max(1, int(os.environ.get("LOCAL_LAMBDA_INSTANCES", "8"))),
    )
    stack.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"moto (DynamoDB + SSM): {stack.moto_url}")
    if stack.emulator is not None:
        print(f"Spotify emulator:      {stack.emulator_url}")
    else:
        print(f"Spotify:               {os.environ.get('SPOTIFY_API_URL', 'https://api.spotify.com/v1')}")
    print(f"stack file:            {STACK_FILE}")
    print(f"metrics (EMF):         {METRICS_FILE}")
    print(f"Lambda instances:      up to {stack.lambda_instances} per function (LOCAL_LAMBDA_INSTANCES)")
    print(f"started in {stack.startup_seconds:.1f}s")
    print(f"API ready: {stack.api_url}   (try: curl '{stack.api_url}/search?q=love')", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", file=sys.stderr)
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
