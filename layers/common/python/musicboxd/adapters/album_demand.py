"""The DemandCounts port over the daily demand counters: album id -> requests in the last days."""

from __future__ import annotations

import time
from collections.abc import Callable

from musicboxd.ports import DemandReader
from musicboxd.services.usage import DEMAND_ALBUM, days_between


class AlbumDemand:
    def __init__(self, store: DemandReader, *, days: int = 7, clock: Callable[[], float] = time.time):
        self._store = store
        self._days = days
        self._clock = clock

    def demand(self) -> dict[str, float]:
        now = self._clock()
        counts = self._store.top_demand(days_between(now - self._days * 86_400, now))
        return {k.removeprefix(DEMAND_ALBUM): float(v) for k, v in counts.items() if k.startswith(DEMAND_ALBUM)}
