"""AWS WAF in front of the API (issue 15): IP reputation + per-IP rate on /search and /albums,
associated with the stage, and no APIG3 acknowledgement left."""

from aws_cdk.assertions import Match

from infra.constructs.waf import RATE_LIMITED_PATHS


def test_web_acl_has_ip_reputation_and_a_per_ip_rate_rule_on_the_spotify_routes(dev):
    acls = dev.of_type("AWS::WAFv2::WebACL")
    assert len(acls) == 1
    acl = next(iter(acls.values()))["Properties"]
    assert acl["Scope"] == "REGIONAL" and "Allow" in acl["DefaultAction"]
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    managed = rules["aws-ip-reputation"]["Statement"]["ManagedRuleGroupStatement"]
    assert (managed["VendorName"], managed["Name"]) == ("AWS", "AWSManagedRulesAmazonIpReputationList")
    rate = rules["per-ip-rate-search-albums"]
    assert "Block" in rate["Action"]
    statement = rate["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP" and statement["Limit"] == dev.stack.stage_config.waf_rate_limit
    paths = [
        s["ByteMatchStatement"]["SearchString"] for s in statement["ScopeDownStatement"]["OrStatement"]["Statements"]
    ]
    assert sorted(paths) == sorted(RATE_LIMITED_PATHS)


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
