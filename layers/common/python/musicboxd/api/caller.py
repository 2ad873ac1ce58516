"""Who is asking: the caller's source IP as API Gateway reports it (per-client budget shares)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import Router


def source_ip(router: Router) -> str | None:
    """``requestContext.identity.sourceIp`` of the request being handled (None when absent)."""
    context = router.current_event.raw_event.get("requestContext") or {}
    source = (context.get("identity") or {}).get("sourceIp")
    return str(source) if source else None
