"""Who is asking: the caller's address (per-client budget shares), the viewer's behind our CloudFront."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import Router

from musicboxd.api.client_address import UNKNOWN, client_address


def source_ip(router: Router) -> str | None:
    """The client's address of the request being handled (None when absent).

    ``requestContext.identity.sourceIp``, or ``CloudFront-Viewer-Address`` when the request
    proves it came through this stage's distribution (``musicboxd.api.client_address``).
    """
    from musicboxd.config import settings

    address = client_address(router.current_event.raw_event, settings().edge_origin_secret)
    return None if address == UNKNOWN else address
