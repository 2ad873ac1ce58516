"""A per-run Spotify call meter and hard cap for the background jobs (populate, cleanup)."""

from __future__ import annotations

from typing import Any


class CallCounter:
    """CallMeter + RateBudget for one run: counts observed calls, refuses calls past ``limit``.

    Wire ``observe`` into the Spotify adapter's observer and pass the counter as its
    ``budget``: the adapter then cannot make call ``limit + 1`` (it raises RateLimited, which
    the services report as ``budget``). ``inner`` is an app-wide budget asked as well.
    """

    def __init__(self, limit: int | None = None, inner: Any = None):
        self.limit = limit
        self.inner = inner
        self.used = 0
        self.by_endpoint: dict[str, int] = {}

    def observe(self, endpoint: str, status: int, seconds: float) -> None:
        self.used += 1
        self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1

    def acquire(self, *, interactive: bool = True) -> bool:
        if self.limit is not None and self.used >= self.limit:
            return False
        return self.inner is None or self.inner.acquire(interactive=False)

    def retry_after(self) -> float:
        getter = getattr(self.inner, "retry_after", None)
        return float(getter()) if callable(getter) and self.inner is not None else 0.0
