"""Fault injection: rules set through ``/_emulator/faults`` and the answers they force."""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from tools.emulator.errors import DEFAULT_MESSAGES, spotify_error
from tools.emulator.musicbrainz import MB_RATE_MESSAGE


@dataclass
class FaultRule:
    path: re.Pattern[str]
    method: str | None
    status: int
    retry_after: int | None
    has_retry_after: bool
    body: Any
    latency_ms: int
    times: int | None
    expires_at: float | None
    raw: dict[str, Any]

    def active(self, now: float) -> bool:
        return (self.times is None or self.times > 0) and (self.expires_at is None or now < self.expires_at)

    @classmethod
    def parse(cls, raw: dict[str, Any], now: float) -> FaultRule:
        if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
            raise ValueError("each rule needs a 'path' regex")
        pattern = re.compile(raw["path"])
        status = int(raw.get("status") or 0)
        if status and not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code (or 0 for latency only)")
        times = raw.get("times")
        duration = raw.get("duration_s")
        if times is not None and int(times) < 1:
            raise ValueError("times must be >= 1")
        if duration is not None and float(duration) <= 0:
            raise ValueError("duration_s must be > 0")
        latency = int(raw.get("latency_ms") or 0)
        if latency < 0:
            raise ValueError("latency_ms must be >= 0")
        retry_after = raw.get("retry_after")
        return cls(
            path=pattern,
            method=(raw.get("method") or None) and str(raw["method"]).upper(),
            status=status,
            retry_after=None if retry_after is None else int(retry_after),
            has_retry_after="retry_after" in raw,
            body=raw.get("body"),
            latency_ms=latency,
            times=None if times is None else int(times),
            expires_at=None if duration is None else now + float(duration),
            raw=raw,
        )

    def describe(self, now: float) -> dict[str, Any]:
        out = dict(self.raw)
        out["remaining_times"] = self.times
        out["remaining_s"] = None if self.expires_at is None else max(0.0, round(self.expires_at - now, 3))
        return out


def fault_response(rule: FaultRule, kind: str) -> tuple[int, Any, dict[str, str]]:
    """The status, body and headers a matching rule answers instead of the service."""
    status = rule.status
    headers: dict[str, str] = {}
    if rule.retry_after is not None:
        headers["Retry-After"] = str(rule.retry_after)
    elif status == 429 and not rule.has_retry_after:
        headers["Retry-After"] = "1"
    if rule.body is not None:
        return status, rule.body, headers
    message = DEFAULT_MESSAGES.get(status) or HTTPStatus(status).phrase
    if kind == "token":
        return (
            status,
            {
                "error": "server_error" if status >= 500 else "invalid_request",
                "error_description": message,
            },
            headers,
        )
    if kind in ("musicbrainz", "coverart"):
        return status, {"error": MB_RATE_MESSAGE if status == 503 else message}, headers
    return status, spotify_error(status, message), headers
