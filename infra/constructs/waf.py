"""AWS WAF in front of the API stage: AWS's IP-reputation list and a per-IP rate limit on the
routes that can reach Spotify (/search, /albums). The app's own per-client budget shares
(musicboxd.services.budget.ShareLimiter) stay behind it for what gets through.

With ``cdn`` on, every request through CloudFront reaches the stage from an edge server's
address, so the per-IP rule counts only requests without the distribution's origin proof
(direct callers of the execute-api URL). Design: docs/design/http-caching.md.
"""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.stages import StageConfig
from musicboxd.api.client_address import EDGE_HEADER

RATE_LIMITED_PATHS = ("/search", "/albums/")
RATE_WINDOW_SECONDS = 300


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _path_contains(path: str) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="CONTAINS",  # the execute-api path starts with the stage name
            search_string=path,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="LOWERCASE")],
        )
    )


def _carries_edge_proof(secret: str) -> wafv2.CfnWebACL.StatementProperty:
    """The request has the origin header CloudFront adds, with exactly the stage's secret."""
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(single_header={"Name": EDGE_HEADER.lower()}),
            positional_constraint="EXACTLY",
            search_string=secret,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def rate_limited_requests(edge_secret: str | None) -> wafv2.CfnWebACL.StatementProperty:
    """What the per-IP rule counts: /search and /albums, minus CloudFront's requests if there is an edge."""
    routes = wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(
            statements=[_path_contains(path) for path in RATE_LIMITED_PATHS]
        )
    )
    if edge_secret is None:
        return routes
    not_from_edge = wafv2.CfnWebACL.StatementProperty(
        not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=_carries_edge_proof(edge_secret))
    )
    return wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=[routes, not_from_edge])
    )


def firewall_rules(
    stage: StageConfig, metric_prefix: str, *, edge_secret: str | None = None
) -> list[wafv2.CfnWebACL.RuleProperty]:
    """AWS's IP-reputation group, then a per-IP rate rule on the routes that can reach Spotify."""
    reputation = wafv2.CfnWebACL.RuleProperty(
        name="aws-ip-reputation",
        priority=0,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name="AWSManagedRulesAmazonIpReputationList"
            )
        ),
        visibility_config=_visibility(f"{metric_prefix}IpReputation"),
    )
    per_ip = wafv2.CfnWebACL.RuleProperty(
        name="per-ip-rate-search-albums",
        priority=1,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="IP",
                limit=stage.waf_rate_limit,
                evaluation_window_sec=RATE_WINDOW_SECONDS,
                scope_down_statement=rate_limited_requests(edge_secret),
            )
        ),
        visibility_config=_visibility(f"{metric_prefix}PerIpRate"),
    )
    return [reputation, per_ip]


class ApiFirewall(Construct):
    """A regional web ACL associated with the REST API stage.

    ``edge_secret``: the value CloudFront sends in ``X-Musicboxd-Edge`` (stage setting ``cdn``);
    requests carrying it are not counted per IP here (their IP is an edge server's).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageConfig,
        api_stage: apigw.Stage,
        edge_secret: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        prefix = stage.prefix.replace("-", "")
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{stage.prefix}-api",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=firewall_rules(stage, prefix, edge_secret=edge_secret),
            visibility_config=_visibility(f"{prefix}Api"),
        )
        wafv2.CfnWebACLAssociation(
            self, "StageAssociation", resource_arn=api_stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )


class EdgeFirewall(Construct):
    """A ``CLOUDFRONT``-scope web ACL for the distribution (stage setting ``cdn``).

    CloudFront's WAF sees the viewer's own address, so the per-IP rule counts viewers, not edge
    servers. AWS accepts this scope only in us-east-1 (infra/stack.py: ``EdgeFirewallStack``).
    """

    def __init__(self, scope: Construct, id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, id)
        prefix = f"{stage.prefix.replace('-', '')}Edge"
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{stage.prefix}-edge",
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=firewall_rules(stage, prefix),
            visibility_config=_visibility(prefix),
        )
