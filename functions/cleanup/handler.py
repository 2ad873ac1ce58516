"""Cleanup function (EventBridge daily, or invoked by hand, e.g. ``{"budget": 0, "refresh": false}``)."""

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="cleanup")
metrics = Metrics(service="cleanup")


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    from musicboxd.job_runner import run_cleanup

    report = run_cleanup(event, context, log=lambda message, extra: logger.info(message, extra=extra))
    return report.as_dict()
