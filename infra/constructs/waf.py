"""AWS WAF in front of the API stage: AWS's IP-reputation list and a per-IP rate limit on the
routes that can reach Spotify (/search, /albums). The app's own per-client budget shares
(musicboxd.services.budget.ShareLimiter) stay behind it for what gets through."""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.stages import StageConfig

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


class ApiFirewall(Construct):
    """A regional web ACL associated with the REST API stage."""

    def __init__(self, scope: Construct, id: str, *, stage: StageConfig, api_stage: apigw.Stage) -> None:
        super().__init__(scope, id)
        prefix = stage.prefix.replace("-", "")
        reputation = wafv2.CfnWebACL.RuleProperty(
            name="aws-ip-reputation",
            priority=0,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name="AWSManagedRulesAmazonIpReputationList"
                )
            ),
            visibility_config=_visibility(f"{prefix}IpReputation"),
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
                    scope_down_statement=wafv2.CfnWebACL.StatementProperty(
                        or_statement=wafv2.CfnWebACL.OrStatementProperty(
                            statements=[_path_contains(path) for path in RATE_LIMITED_PATHS]
                        )
                    ),
                )
            ),
            visibility_config=_visibility(f"{prefix}PerIpRate"),
        )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{stage.prefix}-api",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=[reputation, per_ip],
            visibility_config=_visibility(f"{prefix}Api"),
        )
        wafv2.CfnWebACLAssociation(
            self, "StageAssociation", resource_arn=api_stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
