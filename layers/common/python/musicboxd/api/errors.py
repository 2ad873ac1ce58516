"""The one error envelope: ``{"error": {"status", "code", "message"}}``."""

from __future__ import annotations

import json
import math

from aws_lambda_powertools.event_handler import Response, content_types


class BadRequest(Exception):
    def __init__(self, message: str, code: str = "bad_request"):
        super().__init__(message)
        self.code = code


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": {"status": status, "code": code, "message": message}}),
        headers=headers or {},
    )


def retry_after_header(seconds: float) -> dict[str, str]:
    finite = seconds if math.isfinite(seconds) else 30.0
    return {"Retry-After": str(max(1, math.ceil(min(finite, 86_400.0))))}
