"""CloudFront in front of the API (prod, or -c cdn=true): cache key, origin requests, viewer address."""

from musicboxd.api.client_address import EDGE_HEADER, VIEWER_ADDRESS_HEADER


def only(synth, cfn_type: str) -> dict:
    found = list(synth.of_type(cfn_type).values())
    assert len(found) == 1, (cfn_type, len(found))
    return found[0]["Properties"]


def test_the_edge_is_on_in_prod_and_off_in_dev(dev, prod):
    assert not dev.of_type("AWS::CloudFront::Distribution")
    assert "CdnUrl" not in dev.template.to_json()["Outputs"]
    assert only(prod, "AWS::CloudFront::Distribution")
    assert "CdnUrl" in prod.template.to_json()["Outputs"]


def test_cache_key_is_the_routes_query_parameters_and_origin_and_lifetimes_come_from_the_api(prod):
    config = only(prod, "AWS::CloudFront::CachePolicy")["CachePolicyConfig"]
    assert (config["MinTTL"], config["DefaultTTL"]) == (0, 0)  # no Cache-Control: never kept
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"]["QueryStringBehavior"] == "whitelist"
    assert set(key["QueryStringsConfig"]["QueryStrings"]) == {"q", "limit", "offset", "hours"}
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Origin"]}
    assert key["CookiesConfig"]["CookieBehavior"] == "none"


def test_every_documented_query_parameter_is_in_the_cache_key(prod):
    from musicboxd.api.openapi import openapi_document

    documented = {
        parameter["name"]
        for operations in openapi_document()["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }
    config = only(prod, "AWS::CloudFront::CachePolicy")["CachePolicyConfig"]
    keyed = config["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"]["QueryStrings"]
    assert documented <= set(keyed), documented - set(keyed)


def test_origin_gets_the_viewer_address_and_the_edge_proof_but_never_host(prod):
    config = only(prod, "AWS::CloudFront::OriginRequestPolicy")["OriginRequestPolicyConfig"]
    headers = config["HeadersConfig"]["Headers"]
    assert VIEWER_ADDRESS_HEADER in headers and "Host" not in headers
    assert config["QueryStringsConfig"]["QueryStringBehavior"] == "none"  # only the key's
    distribution = only(prod, "AWS::CloudFront::Distribution")["DistributionConfig"]
    (origin,) = distribution["Origins"]
    assert [h["HeaderName"] for h in origin["OriginCustomHeaders"]] == [EDGE_HEADER]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    proof = origin["OriginCustomHeaders"][0]["HeaderValue"]
    for function in prod.of_type("AWS::Lambda::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["EDGE_ORIGIN_SECRET"] == proof
    assert "Fn::Select" in proof  # derived from the stack id at deploy time, never a literal in the template


def test_behaviour_caches_reads_only_and_never_keeps_a_server_error(prod):
    distribution = only(prod, "AWS::CloudFront::Distribution")["DistributionConfig"]
    behaviour = distribution["DefaultCacheBehavior"]
    assert behaviour["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    assert behaviour["CachedMethods"] == ["GET", "HEAD"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    errors = {e["ErrorCode"]: e["ErrorCachingMinTTL"] for e in distribution["CustomErrorResponses"]}
    assert errors == {500: 0, 502: 0, 503: 0, 504: 0}
    assert distribution["Logging"]["Bucket"]
