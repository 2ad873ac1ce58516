"""Error bodies shared by the emulated services."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Invalid access token",
    403: "Forbidden",
    404: "Resource not found",
    405: "Method not allowed",
    429: "API rate limit exceeded",
    500: "Server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def spotify_error(status: int, message: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "message": message or DEFAULT_MESSAGES.get(status) or HTTPStatus(status).phrase,
        }
    }
