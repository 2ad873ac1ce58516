"""AWS WAF in front of the API (issue 15): IP reputation + per-IP rate on /search and /albums,
associated with the stage, and no APIG3 acknowledgement left. Behind CloudFront (``cdn``) the
stage's per-IP rule counts only requests without the distribution's origin proof, and the
distribution has its own web ACL (us-east-1 stack) counting viewers."""

import json

from aws_cdk.assertions import Match

from infra.constructs.waf import RATE_LIMITED_PATHS
from musicboxd.api.client_address import EDGE_HEADER


def per_ip_scope_down(synth) -> dict:
    (acl,) = [
        a["Properties"] for a in synth.of_type("AWS::WAFv2::WebACL").values() if a["Properties"]["Scope"] == "REGIONAL"
    ]
    (rule,) = [rule for rule in acl["Rules"] if rule["Name"] == "per-ip-rate-search-albums"]
    return rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"]


def path_statements(statement: dict) -> list[str]:
    return sorted(s["ByteMatchStatement"]["SearchString"] for s in statement["OrStatement"]["Statements"])


def rate_statement(acl: dict, scope: str, stage) -> dict:
    """Checks the ACL's two rules (IP reputation, then a blocking per-IP rate rule at the stage's
    limit) and returns the rate rule's statement."""
    assert acl["Scope"] == scope and "Allow" in acl["DefaultAction"]
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    managed = rules["aws-ip-reputation"]["Statement"]["ManagedRuleGroupStatement"]
    assert (managed["VendorName"], managed["Name"]) == ("AWS", "AWSManagedRulesAmazonIpReputationList")
    rate = rules["per-ip-rate-search-albums"]
    assert "Block" in rate["Action"]
    statement = rate["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP" and statement["Limit"] == stage.waf_rate_limit
    return statement


def test_web_acl_has_ip_reputation_and_a_per_ip_rate_rule_on_the_spotify_routes(dev):
    acls = dev.of_type("AWS::WAFv2::WebACL")
    assert len(acls) == 1
    statement = rate_statement(next(iter(acls.values()))["Properties"], "REGIONAL", dev.stack.stage_config)
    assert path_statements(statement["ScopeDownStatement"]) == sorted(RATE_LIMITED_PATHS)


def test_without_the_edge_the_stage_counts_every_caller_of_the_routes_per_ip(dev):
    assert not dev.stack.stage_config.cdn
    assert path_statements(per_ip_scope_down(dev)) == sorted(RATE_LIMITED_PATHS)  # no exemption


def test_behind_cloudfront_the_stage_counts_only_requests_without_the_origin_proof(prod):
    """Edge servers are not clients: CloudFront's requests (origin header = the stack's secret) are
    not counted per IP at the stage; direct callers of the execute-api URL still are."""
    scope_down = per_ip_scope_down(prod)
    routes, not_from_edge = scope_down["AndStatement"]["Statements"]
    assert path_statements(routes) == sorted(RATE_LIMITED_PATHS)
    proof = not_from_edge["NotStatement"]["Statement"]["ByteMatchStatement"]
    assert proof["FieldToMatch"] == {"SingleHeader": {"Name": EDGE_HEADER.lower()}}
    assert proof["PositionalConstraint"] == "EXACTLY"
    assert [t["Type"] for t in proof["TextTransformations"]] == ["NONE"]
    (distribution,) = prod.of_type("AWS::CloudFront::Distribution").values()
    (origin,) = distribution["Properties"]["DistributionConfig"]["Origins"]
    (sent,) = origin["OriginCustomHeaders"]
    assert sent["HeaderName"] == EDGE_HEADER
    assert proof["SearchString"] == sent["HeaderValue"]  # the very value the distribution sends


def test_web_acl_is_associated_with_the_api_stage(dev):
    dev.template.has_resource_properties(
        "AWS::WAFv2::WebACLAssociation",
        {
            "ResourceArn": Match.any_value(),
            "WebACLArn": {"Fn::GetAtt": [Match.string_like_regexp("FirewallWebAcl"), "Arn"]},
        },
    )
    association = next(iter(dev.of_type("AWS::WAFv2::WebACLAssociation").values()))
    parts = association["Properties"]["ResourceArn"]["Fn::Join"][1]
    stages = [p["Ref"] for p in parts if isinstance(p, dict) and "Ref" in p]
    assert any(ref in dev.of_type("AWS::ApiGateway::Stage") for ref in stages), stages


def test_no_apig3_acknowledgement(dev):
    assert all(rule != "AwsSolutions-APIG3" for _, rule, _ in dev.acknowledged)


def test_without_the_edge_there_is_one_stack(dev):
    assert dev.edge is None and list(dev.template_paths) == [dev.stack.stage_config.stack_name]


def test_behind_cloudfront_the_distribution_has_its_own_web_acl_in_us_east_1(prod):
    """CloudFront's WAF sees each viewer's address: the same reputation group and per-IP rule on
    the same routes, counted per viewer, in a CLOUDFRONT-scope web ACL (us-east-1 only)."""
    edge = prod.edge
    assert edge is not None
    (acl_id, acl), *others = [(k, r) for k, r in edge["Resources"].items() if r["Type"] == "AWS::WAFv2::WebACL"]
    assert not others
    statement = rate_statement(acl["Properties"], "CLOUDFRONT", prod.stack.stage_config)
    assert path_statements(statement["ScopeDownStatement"]) == sorted(RATE_LIMITED_PATHS)  # every viewer counted
    manifest = json.loads((prod.template_path.parent / "manifest.json").read_text())
    edge_name = f"{prod.stack.stage_config.stack_name}-edge"
    assert manifest["artifacts"][edge_name]["environment"].endswith("/us-east-1")
    assert edge_name in manifest["artifacts"][prod.stack.stage_config.stack_name]["dependencies"]  # deployed first

    (distribution,) = prod.of_type("AWS::CloudFront::Distribution").values()
    web_acl = distribution["Properties"]["DistributionConfig"]["WebACLId"]["Fn::GetStackOutput"]
    assert (web_acl["StackName"], web_acl["Region"]) == (edge_name, "us-east-1")
    assert edge["Outputs"][web_acl["OutputName"]]["Value"] == {"Fn::GetAtt": [acl_id, "Arn"]}
