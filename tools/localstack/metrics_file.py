"""Local stack only: metric records (EMF JSON lines) go to ``.local/metrics.jsonl``, not the console.

Powertools prints one EMF line per flush, and one per 100 values of a metric even with
``POWERTOOLS_METRICS_DISABLED`` set; a populate run prints dozens of 100-element arrays. The
console keeps logs and progress; CloudWatch's view of the metrics stays readable in the file.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from tools.localstack import LOCAL_DIR

METRICS_FILE = LOCAL_DIR / "metrics.jsonl"
EMF_PREFIX = '{"_aws"'
METRICS_FILE_ENV = "MUSICBOXD_LOCAL_METRICS_FILE"  # where the gateway's instances (worker processes) write them


class MetricsToFile:
    """A stdout that writes EMF lines to ``sink`` and everything else to ``console`` (line by line, per thread)."""

    def __init__(self, console: TextIO, sink: TextIO):
        self._console = console
        self._sink = sink
        self._pending = threading.local()
        self._lock = threading.Lock()
        self.records = 0

    def write(self, text: str) -> int:
        *lines, rest = (getattr(self._pending, "text", "") + text).split("\n")
        self._pending.text = rest
        for line in lines:
            if line.startswith(EMF_PREFIX):
                with self._lock:
                    self._sink.write(line + "\n")
                    self._sink.flush()
                    self.records += 1
            else:
                self._console.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        pending = getattr(self._pending, "text", "")
        if pending and not EMF_PREFIX.startswith(pending[: len(EMF_PREFIX)]):
            self._console.write(pending)  # a prompt or progress text without a newline
            self._pending.text = ""
        self._console.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno...: the console's
        return getattr(self._console, name)


@contextmanager
def metrics_to_file(path: Path = METRICS_FILE) -> Iterator[MetricsToFile]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as sink:
        console = sys.stdout
        sys.stdout = diverted = MetricsToFile(console, sink)  # type: ignore[assignment]
        os.environ[METRICS_FILE_ENV] = str(path)
        try:
            yield diverted
        finally:
            sys.stdout = console
            os.environ.pop(METRICS_FILE_ENV, None)


def divert_metrics(path: Path) -> MetricsToFile:
    """For the rest of this process (an instance of the local gateway): EMF lines appended to ``path``."""
    sys.stdout = diverted = MetricsToFile(sys.stdout, path.open("a", encoding="utf-8"))  # type: ignore[assignment]
    return diverted
