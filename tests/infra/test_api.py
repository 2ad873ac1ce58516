import json

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from infra import stages
from infra.stack import MusicboxdStack
from musicboxd import routes
from musicboxd.routes import Route

from .conftest import cdk_json_context


def methods(synth) -> dict[tuple[str, str], dict]:
    """(HTTP method, path) -> method properties, paths rebuilt from the Resource tree."""
    resources = synth.of_type("AWS::ApiGateway::Resource")

    def path_of(ref) -> str:
        if isinstance(ref, dict) and "Fn::GetAtt" in ref:  # the root resource
            return ""
        res = resources[ref["Ref"]]["Properties"]
        return f"{path_of(res['ParentId'])}/{res['PathPart']}"

    out = {}
    for m in synth.of_type("AWS::ApiGateway::Method").values():
        p = m["Properties"]
        out[(p["HttpMethod"], path_of(p["ResourceId"]) or "/")] = p
    return out


def function_names(synth) -> dict[str, str]:
    return {k: v["Properties"]["FunctionName"] for k, v in synth.of_type("AWS::Lambda::Function").items()}


def test_routes_exactly_those_of_the_contract(dev):
    served = {k: v for k, v in methods(dev).items() if k[0] != "OPTIONS"}
    assert set(served) == {(r.method, r.path) for r in routes.ROUTES}
    names = function_names(dev)
    for r in routes.ROUTES:
        integration = served[(r.method, r.path)]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        fn_id = next(k for k in names if k in json.dumps(integration["Uri"]))
        assert names[fn_id] == f"musicboxd-dev-{r.function}"
        assert served[(r.method, r.path)]["AuthorizationType"] == ("AWS_IAM" if r.iam_auth else "NONE")


def test_cors_preflight_for_the_web_origin(dev):
    options = [k for k in methods(dev) if k[0] == "OPTIONS"]
    assert {p for _, p in options} >= {r.path for r in routes.ROUTES}
    text = json.dumps(dev.of_type("AWS::ApiGateway::Method"))
    assert stages.DEFAULTS["dev"].web_origin in text


def test_query_string_validation(dev):
    (validator_id,) = dev.of_type("AWS::ApiGateway::RequestValidator")
    search = methods(dev)[("GET", "/search")]
    assert search["RequestParameters"]["method.request.querystring.q"] is True
    assert search["RequestParameters"]["method.request.querystring.limit"] is False
    assert search["RequestValidatorId"] == {"Ref": validator_id}
    album = methods(dev)[("GET", "/albums/{id}")]
    assert album["RequestParameters"] == {"method.request.path.id": True}
    dev.template.has_resource_properties("AWS::ApiGateway::RequestValidator", {"ValidateRequestParameters": True})


def test_stage_throttling_logs_tracing(dev):
    (stage,) = dev.of_type("AWS::ApiGateway::Stage").values()
    p = stage["Properties"]
    cfg = stages.DEFAULTS["dev"]
    (settings,) = p["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == cfg.throttle_rate
    assert settings["ThrottlingBurstLimit"] == cfg.throttle_burst
    assert settings["LoggingLevel"] == "ERROR" and settings["DataTraceEnabled"] is False
    assert p["TracingEnabled"] is True
    assert "DestinationArn" in p["AccessLogSetting"]
    assert '"status"' in p["AccessLogSetting"]["Format"]


def test_api_gateway_logging_role_created_and_retained(dev):
    """A new account has no API Gateway CloudWatch role: the stack sets one before the stage logs."""
    ((account_id, account),) = dev.of_type("AWS::ApiGateway::Account").items()
    assert account["DeletionPolicy"] == "Retain"
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    assert dev.resources[role_id]["DeletionPolicy"] == "Retain"
    (stage,) = dev.of_type("AWS::ApiGateway::Stage").values()
    assert account_id in json.dumps(stage.get("DependsOn", [])), "the stage must wait for the account setting"


def test_logging_off_without_the_role(tmp_path):
    from .conftest import synthesize

    synth = synthesize(tmp_path, stage="dev", api_cloudwatch_role="false")
    assert synth.error is None, synth.error
    synth.template.resource_count_is("AWS::ApiGateway::Account", 0)
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    assert "AccessLogSetting" not in stage["Properties"]
    assert all(m.get("LoggingLevel", "OFF") == "OFF" for m in stage["Properties"].get("MethodSettings", []))


def test_gateway_errors_use_the_error_envelope(dev):
    from aws_cdk import aws_apigateway as apigw

    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in dev.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    every_type = {getattr(apigw.ResponseType, n).response_type for n in dir(apigw.ResponseType) if n.isupper()}
    assert set(responses) == every_type
    bad = responses["BAD_REQUEST_PARAMETERS"]
    assert bad["StatusCode"] == "400"
    assert '"error":{"status":400' in bad["ResponseTemplates"]["application/json"]
    assert responses["THROTTLED"]["StatusCode"] == "429"
    unsigned = responses["MISSING_AUTHENTICATION_TOKEN"]  # unsigned /stats (or an unknown route)
    assert unsigned["StatusCode"] == "403"
    body = json.loads(unsigned["ResponseTemplates"]["application/json"])
    assert body["error"]["status"] == 403 and body["error"]["code"] == "forbidden"
    for r in responses.values():
        assert r["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
        template = r["ResponseTemplates"]["application/json"]
        assert template.startswith('{"error":{"status":' + r["StatusCode"] + ',"code":"'), template


@pytest.fixture(scope="module")
def with_new_route():
    """A route added to the contract (here an IAM-authorized one) needs no infra change."""
    extra = (*routes.ROUTES, Route("POST", "/admin/reindex", "populate", iam_auth=True))
    app = App(context=cdk_json_context() | {"aws:cdk:bundling-stacks": []})
    stack = MusicboxdStack(app, "NewRoute", stage=stages.from_context(app.node), routes=extra)
    return Template.from_stack(stack)


def test_new_route_from_contract_only(with_new_route):
    with_new_route.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "reindex"})
    with_new_route.has_resource_properties(
        "AWS::ApiGateway::Method", {"HttpMethod": "POST", "AuthorizationType": "AWS_IAM"}
    )


def test_iam_routes_of_the_contract(dev):
    iam = [r for r in routes.ROUTES if r.iam_auth]
    for r in iam:
        assert methods(dev)[(r.method, r.path)]["AuthorizationType"] == "AWS_IAM"
    if any(r.path == "/stats" for r in iam):
        stats = methods(dev)[("GET", "/stats")]
        assert stats["RequestParameters"] == {"method.request.querystring.hours": False}
