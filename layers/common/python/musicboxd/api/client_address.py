"""The client's own address, for per-client rules, also when CloudFront is in front of the API.

Behind CloudFront, API Gateway's ``sourceIp`` is an edge server's address; the distribution
forwards the viewer's as ``CloudFront-Viewer-Address`` (``ip:port``). That header is believed
only when the request also carries the distribution's origin header (``X-Musicboxd-Edge``)
with the value infra gave this function (``EDGE_ORIGIN_SECRET``): a client calling API Gateway
directly cannot choose whose address it is counted as. Design: docs/design/http-caching.md.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

EDGE_HEADER = "X-Musicboxd-Edge"
VIEWER_ADDRESS_HEADER = "CloudFront-Viewer-Address"
UNKNOWN = "unknown"


def client_address(event: Mapping[str, Any], edge_secret: str) -> str:
    """The viewer's address from a Lambda proxy event (REST API)."""
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    viewer = headers.get(VIEWER_ADDRESS_HEADER.lower(), "")
    proof = headers.get(EDGE_HEADER.lower(), "")
    if edge_secret and viewer and hmac.compare_digest(proof.encode(), edge_secret.encode()):
        address = viewer.rsplit(":", 1)[0]  # "ip:port"; IPv6 too ("2001:db8::1:46532")
        if address:
            return address.strip("[]")
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return str(identity.get("sourceIp") or UNKNOWN)
