"""Cleanup function (EventBridge daily, or invoked by hand, e.g. ``{"budget": 0, "refresh": false}``)."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

from musicboxd.log_config import share_logger_config

logger = Logger(service="cleanup")
share_logger_config(logger)
metrics = Metrics(service="cleanup")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)  # the event id
@metrics.log_metrics
def handler(event, context):
    from musicboxd.job_runner import run_cleanup

    report = run_cleanup(event, context, log=lambda message, extra: logger.info(message, extra=extra))
    return report.as_dict()
