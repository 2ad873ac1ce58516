"""Time budgets: no request waits longer on upstreams than its budget or the Lambda allows."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextvars import ContextVar

# Keep this much of the Lambda's remaining time for writing the cache and answering.
LAMBDA_SAFETY_SECONDS = 0.5
# A cache write of an answer already paid for (and the usage counters) may take this long even
# once the request's budget is spent, but never past the Lambda's timeout minus ANSWER_SECONDS;
# reads and upstream calls never do (docs/design/deadlines.md).
WRITE_FLOOR_SECONDS = 1.0
ANSWER_SECONDS = 0.1


class Deadline:
    """A monotonic deadline: ``remaining()`` never goes below zero.

    ``hard_seconds``: when the invocation itself ends (the Lambda's timeout), which bounds writes.
    """

    def __init__(
        self, seconds: float, *, hard_seconds: float = math.inf, monotonic: Callable[[], float] = time.monotonic
    ):
        self._monotonic = monotonic
        now = monotonic()
        self._end = now + max(0.0, seconds)
        self._hard_end = now + max(0.0, hard_seconds)

    @classmethod
    def for_invocation(cls, budget_seconds: float, lambda_context=None) -> Deadline:
        """The smaller of the upstream budget and what the Lambda has left (minus a margin)."""
        seconds, hard_seconds = budget_seconds, math.inf
        if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
            lambda_left = lambda_context.get_remaining_time_in_millis() / 1000
            seconds = min(seconds, lambda_left - LAMBDA_SAFETY_SECONDS)
            hard_seconds = lambda_left - ANSWER_SECONDS
        return cls(seconds, hard_seconds=hard_seconds)

    def remaining(self) -> float:
        return max(0.0, self._end - self._monotonic())

    def remaining_for_writes(self) -> float:
        """What is left, but at least ``WRITE_FLOOR_SECONDS`` while the invocation lasts."""
        return max(0.0, min(max(self.remaining(), WRITE_FLOOR_SECONDS), self._hard_end - self._monotonic()))

    def expired(self) -> bool:
        return self.remaining() <= 0.0


class Unlimited:
    """A deadline that never expires (background jobs bound themselves by call budgets)."""

    def remaining(self) -> float:
        return float("inf")

    def remaining_for_writes(self) -> float:
        return float("inf")

    def expired(self) -> bool:
        return False


_current: ContextVar[Deadline | None] = ContextVar("musicboxd_deadline", default=None)
_UNLIMITED = Unlimited()


def begin(budget_seconds: float, lambda_context=None) -> Deadline:
    """Start the upstream budget of the request being handled (per thread/context)."""
    deadline = Deadline.for_invocation(budget_seconds, lambda_context)
    _current.set(deadline)
    return deadline


def current() -> Deadline | Unlimited:
    """The running request's deadline; background work without one is unlimited."""
    return _current.get() or _UNLIMITED


def remaining() -> float:
    """Seconds left for the running request's calls (reads, upstreams)."""
    return current().remaining()


def remaining_for_writes() -> float:
    """Seconds a cache or counter write of the running request may take (``Deadline.remaining_for_writes``)."""
    return current().remaining_for_writes()
