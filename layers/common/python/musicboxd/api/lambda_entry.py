"""The Lambda entry point around an HTTP function's resolver (logging, metrics, deadline).

Each ``functions/<name>/handler.py`` builds its resolver with ``create_app()``, includes the
routers it serves, and wraps it with ``http_handler``.

Tracing is Lambda's active X-Ray tracing (set in infra), not the X-Ray SDK: importing
``aws_xray_sdk`` for Powertools' Tracer cost ~190 ms of every cold start here, more than
all of our own code, and the layer is smaller without it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths

from musicboxd import deadline, snapstart
from musicboxd.log_config import share_logger_config


def flush_usage() -> None:
    """Write the buffered usage/demand counters when their interval is due; never raises."""
    from musicboxd.wiring import container

    container().usage.maybe_flush()


def http_handler(app: APIGatewayRestResolver, function: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    logger = Logger(service=function)
    share_logger_config(logger)
    metrics = Metrics(service=function)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        from musicboxd.wiring import container

        # the composition root's settings (settings() in a Lambda; a test's or the local stack's otherwise)
        deadline.begin(container().settings.upstream_budget_seconds, context)
        try:
            return app.resolve(event, context)
        finally:
            flush_usage()

    snapstart.install(function, app)
    return handler
