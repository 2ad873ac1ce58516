"""Plain botocore clients (boto3 is not needed; botocore ships with the Lambda runtime)."""

from __future__ import annotations

from functools import lru_cache

import botocore.session
from botocore.config import Config


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
