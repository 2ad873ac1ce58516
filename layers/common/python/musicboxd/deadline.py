"""Time budgets: no request waits longer on upstreams than its budget or the Lambda allows."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar

# Keep this much of the Lambda's remaining time for writing the cache and answering.
LAMBDA_SAFETY_SECONDS = 0.5


class Deadline:
    """A monotonic deadline: ``remaining()`` never goes below zero."""

    def __init__(self, seconds: float, *, monotonic: Callable[[], float] = time.monotonic):
        self._monotonic = monotonic
        self._end = monotonic() + max(0.0, seconds)

    @classmethod
    def for_invocation(cls, budget_seconds: float, lambda_context=None) -> Deadline:
        """The smaller of the upstream budget and what the Lambda has left (minus a margin)."""
        seconds = budget_seconds
        if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
            lambda_left = lambda_context.get_remaining_time_in_millis() / 1000 - LAMBDA_SAFETY_SECONDS
            seconds = min(seconds, lambda_left)
        return cls(seconds)

    def remaining(self) -> float:
        return max(0.0, self._end - self._monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0


class Unlimited:
    """A deadline that never expires (background jobs bound themselves by call budgets)."""

    def remaining(self) -> float:
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
