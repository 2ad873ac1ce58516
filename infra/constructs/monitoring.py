"""Dashboard and alarms over API Gateway, Lambda, the DLQ and the service's EMF metrics."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.stages import StageConfig
from musicboxd import metric_names as telemetry

API_FUNCTIONS = ("search", "album")
FIVE_MIN = Duration.minutes(5)

CACHE_TIERS = {
    "popular": telemetry.CACHE_HIT_POPULAR,
    "searched": telemetry.CACHE_HIT_SEARCHED,
    "stale": telemetry.CACHE_HIT_STALE,
}

# Alarm thresholds.
API_5XX_RATE = 0.05  # share of requests in 5 min
SPOTIFY_429_STORM = 10  # 429 answers from Spotify in 5 min, all functions together
TIER1_AGREEMENT_ALARM_PCT = 90.0  # verified tier-1 answers agreeing with Spotify (TIER1_AGREEMENT_FLOOR)
TIER1_SHAPES = ("title", "artist", "partial", "unicode", "typo", "searched")  # musicboxd.services.verification.SHAPES


def service_metric(name: str, service: str, statistic: str = "Sum", period: Duration = FIVE_MIN) -> cw.Metric:
    return cw.Metric(
        namespace=telemetry.NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        statistic=statistic,
        period=period,
    )


def summed(name: str, services: tuple[str, ...], label: str, period: Duration = FIVE_MIN) -> cw.MathExpression:
    """One metric summed over several ``service`` dimensions (missing points count as 0)."""
    using = {f"{name.lower()}{i}": service_metric(name, s, period=period) for i, s in enumerate(services)}
    return cw.MathExpression(
        expression="+".join(f"FILL({k},0)" for k in using),
        using_metrics=using,
        label=label,
        period=period,
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageConfig,
        api: apigw.RestApi,
        functions: Mapping[str, lambda_.Function],
        dlq: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id)
        all_services = tuple(functions)
        self.topic: sns.Topic | None = None
        if stage.alert_email:
            # CloudWatch can publish to an encrypted topic only with a customer managed key
            # whose policy lets cloudwatch.amazonaws.com use it.
            key = kms.Key(
                self,
                "AlarmTopicKey",
                description=f"{stage.prefix} alarm topic encryption",
                enable_key_rotation=True,
                removal_policy=stage.removal_policy,
            )
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],  # in a key policy, "*" means this key
                )
            )
            self.topic = sns.Topic(
                self,
                "AlarmTopic",
                display_name=f"Musicboxd {stage.name} alarms",
                master_key=key,
                enforce_ssl=True,
            )
            self.topic.add_subscription(subs.EmailSubscription(stage.alert_email))

        # --- alarms -------------------------------------------------------------------
        self.alarms: dict[str, cw.Alarm] = {}
        self.alarms["api_5xx"] = api.metric_server_error(statistic="Average", period=FIVE_MIN).create_alarm(
            self,
            "Api5xxRate",
            alarm_name=f"{stage.prefix}-api-5xx-rate",
            alarm_description=f"More than {API_5XX_RATE:.0%} of API requests answered 5xx "
            "(2 of 3 five-minute periods).",
            threshold=API_5XX_RATE,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.alarms["spotify_429"] = summed(telemetry.SPOTIFY_THROTTLED, all_services, "Spotify 429s").create_alarm(
            self,
            "Spotify429Storm",
            alarm_name=f"{stage.prefix}-spotify-429-storm",
            alarm_description=f"Spotify answered 429 at least {SPOTIFY_429_STORM} times in 5 minutes: "
            "the app-wide quota is exhausted (the circuit should be open; check rate budget).",
            threshold=SPOTIFY_429_STORM,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        hour = Duration.hours(1)
        self.alarms["populate_failed"] = cw.MathExpression(
            expression="FILL(errors,0)+FILL(failed,0)",
            using_metrics={
                "errors": functions["populate"].metric_errors(period=hour, statistic="Sum"),
                "failed": service_metric(telemetry.POPULATE_FAILED, "populate", period=hour),
            },
            label="populate failures",
            period=hour,
        ).create_alarm(
            self,
            "PopulateFailed",
            alarm_name=f"{stage.prefix}-populate-failed",
            alarm_description="The populate run failed (Lambda error/timeout or PopulateFailed metric).",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        self.alarms["dlq_depth"] = dlq.metric_approximate_number_of_messages_visible(
            period=FIVE_MIN, statistic="Maximum"
        ).create_alarm(
            self,
            "FailedRunsDlqDepth",
            alarm_name=f"{stage.prefix}-scheduled-jobs-dlq",
            alarm_description="A scheduled populate/cleanup run failed or could not be delivered; "
            "see the failed-runs queue.",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        # The verify run (cleanup function, every 5 minutes) publishes the rolling agreement.
        agreement = service_metric(telemetry.TIER1_AGREEMENT_PCT, "cleanup", statistic="Minimum",
                                   period=Duration.minutes(15))  # fmt: skip
        self.alarms["tier1_agreement"] = agreement.create_alarm(
            self,
            "Tier1Agreement",
            alarm_name=f"{stage.prefix}-tier1-agreement",
            alarm_description=f"Tier-1 answers agree with Spotify's top 5 less than {TIER1_AGREEMENT_ALARM_PCT:.0f} % "
            "of the time (rolling, sampled): Spotify's ranking drifted or the index is stale; see the runbook.",
            threshold=TIER1_AGREEMENT_ALARM_PCT,
            evaluation_periods=2,
            comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        if self.topic is not None:
            action = cw_actions.SnsAction(self.topic)
            for alarm in self.alarms.values():
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)

        # --- dashboard ----------------------------------------------------------------
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{stage.prefix}-catalog",
            default_interval=Duration.hours(24),
        )
        hits = {tier: summed(metric, API_FUNCTIONS, tier) for tier, metric in CACHE_TIERS.items()}
        misses = summed(telemetry.CACHE_MISS, API_FUNCTIONS, "miss")
        rate_using = {f"h{tier}": expr for tier, expr in hits.items()} | {"miss": misses}
        # Lookups = fresh hits + misses; a stale answer is a miss that was then served stale
        # (the code counts both), so "stale" is a share of lookups but not part of the sum.
        total = "+".join(k for k in rate_using if k != "hstale")
        hit_rates = [
            cw.MathExpression(
                expression=f"100*h{tier}/({total})",
                using_metrics=rate_using,
                label=f"hit rate {tier} %",
                period=FIVE_MIN,
            )
            for tier in CACHE_TIERS
        ]
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="API requests and errors",
                left=[api.metric_count(period=FIVE_MIN, statistic="Sum")],
                right=[
                    api.metric_client_error(period=FIVE_MIN, statistic="Sum"),
                    api.metric_server_error(period=FIVE_MIN, statistic="Sum"),
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="API latency (ms)",
                left=[
                    api.metric_latency(period=FIVE_MIN, statistic=s, label=f"latency {s}")
                    for s in ("p50", "p90", "p99")
                ]
                + [api.metric_integration_latency(period=FIVE_MIN, statistic="p99", label="integration p99")],
                width=8,
            ),
            cw.GraphWidget(
                title="Cache hit rate by tier (%)",
                left=hit_rates,
                left_y_axis=cw.YAxisProps(min=0, max=100),
                stacked=True,
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Spotify calls, 429s and errors",
                left=[summed(telemetry.SPOTIFY_CALLS, all_services, "calls")],
                right=[
                    summed(telemetry.SPOTIFY_THROTTLED, all_services, "429s"),
                    summed(telemetry.SPOTIFY_ERRORS, all_services, "5xx/timeouts"),
                ],
                width=8,
            ),
            cw.GraphWidget(
                title="Lambda errors and throttles",
                left=[fn.metric_errors(period=FIVE_MIN, label=f"{n} errors") for n, fn in functions.items()],
                right=[fn.metric_throttles(period=FIVE_MIN, label=f"{n} throttles") for n, fn in functions.items()],
                width=8,
            ),
            cw.GraphWidget(
                title="Fallbacks and populate",
                left=[
                    summed(telemetry.FALLBACK_MUSICBRAINZ, API_FUNCTIONS, "MusicBrainz fallback"),
                    summed(telemetry.FALLBACK_CACHE_ONLY, API_FUNCTIONS, "cache-only fallback"),
                    summed(telemetry.CACHE_HIT_STALE, API_FUNCTIONS, "stale served"),
                ],
                right=[
                    service_metric(telemetry.POPULATE_ALBUMS_CACHED, "populate", period=Duration.hours(1)),
                    service_metric(telemetry.CLEANUP_DELETED, "cleanup", period=Duration.hours(1)),
                ],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Tier-1 agreement with Spotify by query shape (%)",
                left=[service_metric(telemetry.TIER1_AGREEMENT_PCT, "cleanup", statistic="Average")]
                + [
                    service_metric(telemetry.tier1_agreement_metric(s), "cleanup", statistic="Average")
                    for s in TIER1_SHAPES
                ],  # fmt: skip
                left_y_axis=cw.YAxisProps(min=0, max=100),
                right=[
                    service_metric(telemetry.TIER1_VERIFY_CALLS, "cleanup"),
                    service_metric(telemetry.TIER1_SHAPES_SUPPRESSED, "cleanup", statistic="Maximum"),
                ],
                width=24,
            ),
        )
        self.dashboard.add_widgets(
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24, height=4),
        )
