"""Plain botocore clients (boto3 is not needed; botocore ships with the Lambda runtime)."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from musicboxd.errors import CacheRejected, CacheUnavailable, DeadlineExceeded

# DynamoDB errors that mean "the table is struggling": they switch the cache off for a moment.
# Any other error DynamoDB answers with (ValidationException, ...) rejects that one call only.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


@lru_cache(maxsize=1)
def _session() -> botocore.session.Session:
    """One session per container: its loader reads each service model once, so a client per
    timeout step (DeadlineClient) costs milliseconds, not a model load."""
    return botocore.session.get_session()


@lru_cache(maxsize=32)
def botocore_client(
    service: str,
    region: str,
    endpoint_url: str,
    *,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int = 2,
    max_pool_connections: int = 10,
):
    """One fast-failing client per (service, region, endpoint, timeouts), reused by the container."""
    client = _session().create_client(
        service,
        region_name=region,
        endpoint_url=endpoint_url or None,
        config=Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            max_pool_connections=max_pool_connections,
        ),
    )
    _CLIENTS.append(client)
    return client


_CLIENTS: list[Any] = []  # every client botocore_client built, for close_connections


def close_connections(*more_clients: Any) -> None:
    """Drop the pooled connections of every client built here (and of ``more_clients``).

    The clients stay usable: their next call opens a new connection. A SnapStart copy must
    not reuse a socket from the snapshot (musicboxd.snapstart).
    """
    for client in (*_CLIENTS, *more_clients):
        client.close()


def cache_error(exc: Exception) -> CacheUnavailable:
    """Map a botocore/PynamoDB failure to CacheUnavailable (outage) or CacheRejected (this call only).

    Throttling, 5xx, timeouts and connection errors (no error response at all) are outages.
    """
    cause = getattr(exc, "cause", None) or exc  # PynamoDB wraps the botocore error
    response = getattr(cause, "response", None)
    if not isinstance(response, dict):
        return CacheUnavailable(str(exc))
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if not code or code in TRANSIENT_ERROR_CODES or status >= 500:
        return CacheUnavailable(str(exc))
    return CacheRejected(f"{code}: {exc}")


MIN_CALL_SECONDS = 0.05  # below this much time left, an AWS call is not started
TIMEOUT_STEPS = (2.0, 1.0, 0.5, 0.25)  # read timeouts a DeadlineClient uses: a few cached clients serve every deadline


class DeadlineClient:
    """A botocore client whose timeouts and retries shrink to the request's remaining time.

    Each call picks (and caches) a client whose connect/read timeouts fit in what is left
    and makes one attempt when two would not fit; with no time left the call is not made
    (``DeadlineExceeded``). A timeout of a call whose timeouts were cut to fit is
    ``DeadlineExceeded`` too: the request ran out of time, the service is not down (the
    budget must not fail open on it).
    """

    def __init__(
        self,
        service: str,
        region: str,
        endpoint_url: str,
        *,
        remaining: Callable[[], float],
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int = 2,
        max_pool_connections: int = 10,
    ):
        self._service, self._region, self._endpoint = service, region, endpoint_url
        self._remaining = remaining
        self._connect, self._read, self._attempts = connect_timeout, read_timeout, max_attempts
        self._pool = max_pool_connections

    def client(self) -> Any:
        left = self._remaining()
        if left < MIN_CALL_SECONDS:
            raise DeadlineExceeded(f"no time left in this request for a {self._service} call")
        connect, read, attempts = self._connect, self._read, self._attempts
        if math.isfinite(left):
            read = min(read, _step_down(left))
            connect = min(connect, read)
            attempts = attempts if left >= connect + attempts * read else 1
        return botocore_client(
            self._service,
            self._region,
            self._endpoint,
            connect_timeout=connect,
            read_timeout=read,
            max_attempts=attempts,
            max_pool_connections=self._pool,
        )

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            client = self.client()
            try:
                return getattr(client, name)(**kwargs)
            except (ConnectTimeoutError, ReadTimeoutError) as exc:
                if client.meta.config.read_timeout < self._read:  # cut short by the deadline
                    raise DeadlineExceeded(f"{self._service} call cut short by the request deadline") from exc
                raise

        return call


def _step_down(seconds: float) -> float:
    return next((step for step in TIMEOUT_STEPS if step <= seconds), TIMEOUT_STEPS[-1])
