"""A metrics port so services can count without importing Powertools."""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol


class Telemetry(Protocol):
    def count(self, name: str, value: float = 1) -> None: ...


class NullTelemetry:
    def count(self, name: str, value: float = 1) -> None:
        pass


class CountingTelemetry:
    """In-memory counters (tests, local runs)."""

    def __init__(self) -> None:
        self.counts: defaultdict[str, float] = defaultdict(float)

    def count(self, name: str, value: float = 1) -> None:
        self.counts[name] += value
