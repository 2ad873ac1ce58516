"""The service's stacks: the whole service in one stack (table, parameters, layer + functions, API,
schedules, monitoring) and, with ``cdn``, the distribution's web ACL in us-east-1."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import CfnOutput, Environment, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.api import QUERY_PARAMETERS, RestApi
from infra.constructs.cdn import Cdn, edge_secret
from infra.constructs.layer import Functions
from infra.constructs.monitoring import Monitoring
from infra.constructs.parameters import SpotifyParameters
from infra.constructs.schedules import Schedules
from infra.constructs.table import CacheTable
from infra.constructs.waf import ApiFirewall, EdgeFirewall
from infra.stages import StageConfig
from musicboxd import routes as routes_mod
from musicboxd.routes import Route

# Exactly what each function's code calls on the cache table and on its GSI (the adapters:
# PynamoDB models + botocore clients). tests/deploy records every AWS call of each function
# against a local stack and fails on a call this denies or an action here that nothing calls.
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "search": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ),
    "album": ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
    "populate": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    ),
    "cleanup": (
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ),
}
INDEX_ACTIONS: dict[str, tuple[str, ...]] = {
    "search": (),  # the tier-1 index and cache-only answers come from GetItem/BatchGetItem
    "album": (),
    "populate": ("dynamodb:Query",),
    "cleanup": ("dynamodb:Query",),
}


# AWS WAF accepts a web ACL of scope CLOUDFRONT only in this region.
CLOUDFRONT_WAF_REGION = "us-east-1"


class EdgeFirewallStack(Stack):
    """The distribution's web ACL (``CLOUDFRONT`` scope), alone in us-east-1; the service's stack
    reads its ARN through a weak cross-region reference. Design: docs/design/http-caching.md."""

    def __init__(self, scope: Construct, id: str, *, stage: StageConfig, **kwargs: Any) -> None:
        super().__init__(
            scope,
            id,
            stack_name=f"{stage.stack_name}-edge",
            description=f"Musicboxd album catalog ({stage.name}): CloudFront web ACL",
            termination_protection=stage.termination_protection,
            env=Environment(region=CLOUDFRONT_WAF_REGION),
            **kwargs,
        )
        Tags.of(self).add("project", "musicboxd")
        Tags.of(self).add("stage", stage.name)
        self.firewall = EdgeFirewall(self, "Firewall", stage=stage)


class MusicboxdStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageConfig,
        routes: Iterable[Route] = routes_mod.ROUTES,
        edge_web_acl_arn: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            id,
            stack_name=stage.stack_name,
            description=f"Musicboxd album catalog ({stage.name})",
            termination_protection=stage.termination_protection,
            **kwargs,
        )
        Tags.of(self).add("project", "musicboxd")
        Tags.of(self).add("stage", stage.name)
        self.stage_config = stage

        self.table = CacheTable(self, "Cache", stage=stage)
        self.parameters = SpotifyParameters(self, "Parameters", stage=stage)
        environment = {
            **stage.function_env,
            "TABLE_NAME": self.table.table.table_name,
            "SPOTIFY_MODE": stage.spotify_mode,
            "SPOTIFY_MARKET": stage.spotify_market,
            "CORS_ALLOW_ORIGIN": stage.web_origin,
            "POPULATE_SWEEP": "true" if stage.popularity_sweep else "false",  # the stage's choice (stages.py)
            **self.parameters.environment(),
        }
        secret = edge_secret() if stage.cdn else None  # CloudFront's origin proof (cdn.py)
        if secret is not None:
            environment["EDGE_ORIGIN_SECRET"] = secret
        self.functions = Functions(self, "Functions", stage=stage, environment=environment)
        for name, fn in self.functions.functions.items():
            self.grant_table(fn, TABLE_ACTIONS[name], INDEX_ACTIONS[name])
            self.parameters.grant(fn)

        self.api = RestApi(self, "Http", stage=stage, routes=routes, functions=self.functions.targets)
        self.firewall = ApiFirewall(
            self, "Firewall", stage=stage, api_stage=self.api.api.deployment_stage, edge_secret=secret
        )
        self.cdn = None
        if secret is not None:
            if edge_web_acl_arn is None:
                raise ValueError("a stage with cdn needs the distribution's web ACL (infra.app_factory.build)")
            self.cdn = Cdn(
                self,
                "Edge",
                stage=stage,
                api=self.api.api,
                query_parameters=[name for names in QUERY_PARAMETERS.values() for name in names],
                secret=secret,
                web_acl_arn=edge_web_acl_arn,
            )
        self.schedules = Schedules(
            self,
            "Jobs",
            stage=stage,
            populate=self.functions.functions["populate"],
            cleanup=self.functions.functions["cleanup"],
        )
        self.monitoring = Monitoring(
            self,
            "Ops",
            stage=stage,
            api=self.api.api,
            functions=self.functions.functions,
            dlq=self.schedules.dlq,
        )

        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the REST API stage")
        if self.cdn is not None:
            CfnOutput(self, "CdnUrl", value=self.cdn.url, description="Base URL of the API through CloudFront")
        CfnOutput(self, "TableName", value=self.table.table.table_name)
        if self.api.usage_plan is not None:
            CfnOutput(self, "WebAppApiKeyId", value=self.api.api_key.key_id,
                      description="aws apigateway get-api-key --include-value --api-key <id>")  # fmt: skip
        for name, fn in self.functions.functions.items():
            CfnOutput(self, f"{name.title()}FunctionName", value=fn.function_name)
        CfnOutput(self, "SpotifyClientIdParameter", value=self.parameters.client_id_name)
        CfnOutput(self, "SpotifyClientSecretParameter", value=self.parameters.client_secret_name)
        CfnOutput(self, "FailedRunsQueueUrl", value=self.schedules.dlq.queue_url)
        CfnOutput(self, "DashboardName", value=self.monitoring.dashboard.dashboard_name)

    def grant_table(self, grantee: iam.IGrantable, table_actions: Iterable[str], index_actions: Iterable[str]) -> None:
        """The item actions a function calls on the cache table and its index (no table admin)."""
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(sid="CacheTable", actions=list(table_actions), resources=[self.table.table.table_arn])
        )
        if index_actions := list(index_actions):
            principal.add_to_principal_policy(
                iam.PolicyStatement(sid="CacheTableIndex", actions=index_actions, resources=self.table.index_arns)
            )
