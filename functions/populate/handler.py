"""Populate function (EventBridge weekly, or invoked by hand with overrides).

Event: an EventBridge scheduled event (overrides in ``detail``) or a manual payload such as
``{"budget": 50, "sources": ["new_releases"], "playlists": ["..."], "force": true}``.
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

from musicboxd.log_config import share_logger_config

logger = Logger(service="populate")
share_logger_config(logger)
metrics = Metrics(service="populate")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)  # the event id
@metrics.log_metrics
def handler(event, context):
    from musicboxd.job_runner import run_populate

    report = run_populate(event, context, log=lambda message, extra: logger.info(message, extra=extra))
    return report.as_dict()
