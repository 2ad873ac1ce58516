"""The ``/_emulator/*`` control plane: stats, reset, faults, clock, config, catalog samples."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tools.emulator.faults import FaultRule

if TYPE_CHECKING:
    from tools.emulator.server import EmulatorServer


class ControlApi:
    """``/_emulator/*`` for the request handler (no auth, no latency, not counted)."""

    server: EmulatorServer

    def _control(self, method: str, path: str, params: dict[str, str], body: bytes) -> tuple[int, Any]:
        state = self.server.state
        data = json.loads(body.decode() or "{}") if body else {}
        if path == "/_emulator/stats" and method == "GET":
            return 200, state.stats()
        if path == "/_emulator/health" and method == "GET":
            return 200, {
                "status": "ok",
                "seed": state.catalog.seed,
                "counts": state.catalog.counts(),
                "config": state.config.public(),
            }
        if path == "/_emulator/reset" and method == "POST":
            state.reset()
            return 200, {"status": "reset", "config": state.config.public()}
        if path == "/_emulator/faults":
            now = time.monotonic()
            if method == "POST":
                rules = data.get("rules")
                if not isinstance(rules, list):
                    raise ValueError('body must be {"rules": [...]}')
                parsed = [FaultRule.parse(r, now) for r in rules]
                with state.lock:
                    state.faults.extend(parsed)
            elif method == "DELETE":
                with state.lock:
                    state.faults.clear()
            elif method != "GET":
                return 405, {"error": "method not allowed"}
            with state.lock:
                return 200, {"rules": [r.describe(now) for r in state.faults if r.active(now)]}
        if path == "/_emulator/clock":
            if method == "POST":
                today = dt.date.fromisoformat(str(data["today"]))
                with state.lock:
                    state.config = replace(state.config, today=today)
            return 200, {"today": state.config.today.isoformat()}
        if path == "/_emulator/config":
            if method == "POST":
                changes: dict[str, Any] = {}
                for key, value in data.items():
                    if key == "mode":
                        if value not in ("development", "extended"):
                            raise ValueError("mode must be development or extended")
                        changes[key] = value
                    elif key == "rate_limit":
                        changes[key] = None if value in (None, 0) else int(value)
                    elif key in ("latency_ms", "token_ttl"):
                        if int(value) < 0:
                            raise ValueError(f"{key} must be >= 0")
                        changes[key] = int(value)
                    elif key == "musicbrainz_rps":
                        changes[key] = float(value or 0)
                    elif key in ("client_id", "client_secret"):
                        changes[key] = value or None
                    elif key == "today":
                        changes[key] = dt.date.fromisoformat(str(value))
                    else:
                        raise ValueError(f"unknown config key {key!r}")
                with state.lock:
                    state.config = replace(state.config, **changes)
                    if "rate_limit" in changes:
                        state.window.clear()
            return 200, state.config.public()
        if path == "/_emulator/catalog/sample" and method == "GET":
            n = max(1, min(500, int(params.get("n") or 10)))
            return 200, state.catalog.sample(n, int(params.get("seed") or 0))
        return 404, {"error": f"unknown control endpoint {method} {path}"}
