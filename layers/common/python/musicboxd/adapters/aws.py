"""Plain botocore clients (boto3 is not needed; botocore ships with the Lambda runtime)."""

from __future__ import annotations

from functools import lru_cache

import botocore.session
from botocore.config import Config

from musicboxd.errors import CacheRejected, CacheUnavailable

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


@lru_cache(maxsize=8)
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
    return botocore.session.get_session().create_client(
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
