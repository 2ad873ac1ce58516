"""Build the tier-1 index from the popular tier: ``python -m tools.build_index``.

Reads the table named by the environment (``TABLE_NAME``, ``DYNAMODB_ENDPOINT_URL``); with
no endpoint set it uses the local stack's ``.local/stack.json``. Populate calls the same
``rebuild_index`` at the end of each run.
"""

from __future__ import annotations

import json
import os
import time

from tools.localstack import STACK_FILE


def main() -> int:
    if not os.environ.get("DYNAMODB_ENDPOINT_URL") and STACK_FILE.exists():
        stack = json.loads(STACK_FILE.read_text())
        for key, value in {**stack.get("env", {}), "DYNAMODB_ENDPOINT_URL": stack["moto_url"]}.items():
            os.environ.setdefault(key, value)
    from musicboxd.wiring import container

    started = time.perf_counter()
    pointer = container().rebuild_index()
    print(
        f"tier-1 index {pointer.version}: {pointer.albums} albums, {pointer.size / 1024:.1f} KiB "
        f"in {pointer.chunks} chunk(s), built in {time.perf_counter() - started:.2f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
