"""Who is asking: the caller's source IP as API Gateway reports it (per-client budget shares)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import Router


def source_ip(router: Router) -> str | None:
    """``requestContext.identity.sourceIp`` of the request being handled (None when absent)."""
    try:
        return router.current_event.request_context.identity.source_ip or None
    except (AttributeError, KeyError, TypeError):
        return None
