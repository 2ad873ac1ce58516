"""EventBridge rules for the scheduled jobs, with retries and one DLQ for failed runs."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge
from infra.stages import StageConfig

# UTC. Populate: weekly, Sunday 03:00; a run that stopped (15-minute Lambda limit, budget, 429)
# is continued at 30 past every hour ({"resume_only": true}: a no-op once the run is done).
# Cleanup: daily 02:00 (before populate on Sundays); its verify run every 5 minutes.
POPULATE_SCHEDULE = events.Schedule.cron(minute="0", hour="3", week_day="SUN")
POPULATE_RESUME_SCHEDULE = events.Schedule.cron(minute="30")
CLEANUP_SCHEDULE = events.Schedule.cron(minute="0", hour="2")
# Tier-1 verify run (the cleanup function, {"verify_only": true}): drains sampled checks.
VERIFY_SCHEDULE = events.Schedule.rate(Duration.minutes(5))


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageConfig,
        populate: lambda_.Function,
        cleanup: lambda_.Function,
    ) -> None:
        super().__init__(scope, id)
        # Holds (a) events EventBridge could not deliver after its retries and (b) runs that
        # failed inside Lambda (async on-failure destination). Depth > 0 raises an alarm.
        self.dlq = sqs.Queue(
            self,
            "FailedRunsQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dlq,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the scheduled jobs; messages are "
            "inspected by ops after the DLQ-depth alarm, never consumed automatically.",
        )
        self.rules: dict[str, events.Rule] = {}
        for name, fn, schedule, max_age, payload in (
            ("populate", populate, POPULATE_SCHEDULE, Duration.hours(6), None),
            ("populate-resume", populate, POPULATE_RESUME_SCHEDULE, Duration.minutes(30), {"resume_only": True}),
            ("cleanup", cleanup, CLEANUP_SCHEDULE, Duration.hours(2), None),
            ("cleanup-verify", cleanup, VERIFY_SCHEDULE, Duration.minutes(5), {"verify_only": True}),
        ):
            # A job that fails is not retried by Lambda right away: populate/cleanup
            # checkpoint and resume on the next scheduled run, and an immediate retry would
            # spend Spotify quota that a 429 just told us to save.
            if payload is None:  # once per function
                fn.configure_async_invoke(
                    retry_attempts=0,
                    max_event_age=max_age,
                    on_failure=destinations.SqsDestination(self.dlq),
                )
            function, _, only = name.partition("-")
            self.rules[name] = events.Rule(
                self,
                f"{name.title().replace('-', '')}Schedule",
                rule_name=f"{stage.prefix}-{name}",
                description=f"Invoke {fn_name(stage, function)}{f' ({only} only)' if only else ''} "
                f"({'on' if stage.schedules_enabled else 'off'} in {stage.name})",
                schedule=schedule,
                enabled=stage.schedules_enabled,
                targets=[
                    targets.LambdaFunction(
                        fn,
                        event=events.RuleTargetInput.from_object(payload) if payload else None,
                        retry_attempts=4,  # delivery retries (throttled/unavailable invoke API)
                        max_event_age=max_age,
                        dead_letter_queue=self.dlq,
                    )
                ],
            )


def fn_name(stage: StageConfig, name: str) -> str:
    return f"{stage.prefix}-{name}"
