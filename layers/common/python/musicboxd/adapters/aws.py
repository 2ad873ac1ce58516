"""Plain botocore clients (boto3 is not needed; botocore ships with the Lambda runtime)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

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
    client = botocore.session.get_session().create_client(
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
