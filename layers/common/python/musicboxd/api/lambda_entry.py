"""The Lambda entry point shared by the HTTP functions (logging, metrics, deadline).

Tracing is Lambda's active X-Ray tracing (set in infra), not the X-Ray SDK: importing
``aws_xray_sdk`` for Powertools' Tracer cost ~190 ms of every cold start here, more than
all of our own code, and the layer is smaller without it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

from musicboxd import deadline, snapstart
from musicboxd.api.app import create_app
from musicboxd.api.routers import routers_for
from musicboxd.config import settings
from musicboxd.log_config import share_logger_config


def flush_usage() -> None:
    """Write the buffered usage/demand counters when their interval is due; never raises."""
    from musicboxd.wiring import container

    container().usage.maybe_flush()


def make_handler(function: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    logger = Logger(service=function)
    share_logger_config(logger)
    metrics = Metrics(service=function)
    app = create_app(*routers_for(function))

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        deadline.begin(settings().upstream_budget_seconds, context)
        try:
            return app.resolve(event, context)
        finally:
            flush_usage()

    handler.app = app  # type: ignore[attr-defined]
    snapstart.install(function, app)
    return handler
