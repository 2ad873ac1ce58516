"""Typed failures that cross the layers (services and handlers never see HTTP libraries)."""

from __future__ import annotations

import math


class CatalogError(Exception):
    """Base class of upstream (catalog source) failures."""


class NotFound(CatalogError):
    """The upstream says the resource does not exist."""


class RateLimited(CatalogError):
    """The upstream answered 429 (or our shared budget/circuit refuses the call)."""

    def __init__(self, retry_after: float, *, quota: bool = False, message: str = "rate limited"):
        super().__init__(message)
        seconds = float(retry_after)
        # Clamped: inf/NaN/huge/negative values must never reach a header or a sleep.
        self.retry_after = 30.0 if math.isnan(seconds) else min(86_400.0, max(0.0, seconds))
        self.quota = quota


class Unavailable(CatalogError):
    """Upstream failed (5xx, timeout, auth failure) or no time is left to ask it."""


class DeadlineExceeded(Unavailable):
    """No time left in the request for this call (an AWS call cut short by the deadline): never an outage."""


class Forbidden(CatalogError):
    """The upstream refused the call (e.g. an endpoint removed for Development Mode apps)."""


class BadUpstreamRequest(CatalogError):
    """The upstream rejected our request as invalid (400)."""


class CacheUnavailable(Exception):
    """The cache (DynamoDB) failed: callers carry on without it."""


class CacheRejected(CacheUnavailable):
    """DynamoDB rejected this one call (ValidationException and other client errors): a miss, not an outage."""
