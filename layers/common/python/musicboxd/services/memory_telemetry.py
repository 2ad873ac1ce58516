"""In-process implementations of the Telemetry port: one that drops counts, one that keeps them."""

from __future__ import annotations

from collections import defaultdict


class NullTelemetry:
    def count(self, name: str, value: float = 1) -> None:
        pass


class CountingTelemetry:
    """In-memory counters (tests, local runs)."""

    def __init__(self) -> None:
        self.counts: defaultdict[str, float] = defaultdict(float)

    def count(self, name: str, value: float = 1) -> None:
        self.counts[name] += value
