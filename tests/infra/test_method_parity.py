"""The same status (and Allow) for the same request locally and deployed.

"Deployed" is API Gateway's routing over the synthesized template: a resource is found by its
path segments; a declared method reaches its integration (a function, or the CORS mock for
OPTIONS); otherwise the resource's ANY mock answers; no resource or method at all is API
Gateway's MISSING_AUTHENTICATION_TOKEN, answered by its gateway response; a path with no
resource falls to the greedy ``/{proxy+}``. "Locally" is the
emulation `make run` serves (functions stubbed: only the gateway's own answers are compared).
"""

from __future__ import annotations

import pytest

from tools.localstack.apigw import Gateway

FUNCTION = "function"  # reached a Lambda integration: the function decides, in both places
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
PATHS = ("/", "/search", "/suggest", "/albums", "/albums/" + "A" * 22, "/health", "/stats", "/nope", "/search/x")


def deployed(synth, method: str, path: str) -> tuple[int | str, str | None]:
    resources = synth.of_type("AWS::ApiGateway::Resource")
    root = next(iter(synth.of_type("AWS::ApiGateway::RestApi")))

    def resource_id(segments: list[str]) -> str | None:
        current: str | None = root
        for segment in segments:
            children = {
                name: props["Properties"]["PathPart"] for name, props in resources.items() if _parent(props) == current
            }
            exact = [name for name, part in children.items() if part == segment]
            wildcard = [name for name, part in children.items() if part.startswith("{") and "+" not in part]
            current = (exact or wildcard or [None])[0]
            if current is None:
                return None
        return current

    found = resource_id([s for s in path.split("/") if s])
    if found is None:  # no explicit resource: the greedy one, if any
        found = next((n for n, r in resources.items() if r["Properties"]["PathPart"] == "{proxy+}"), None)
    methods = {
        props["Properties"]["HttpMethod"]: props["Properties"]
        for props in synth.of_type("AWS::ApiGateway::Method").values()
        if found is not None and _resource_of(props) == found
    }
    chosen = methods.get(method) or methods.get("ANY")
    if chosen is None or chosen.get("AuthorizationType") == "AWS_IAM":  # the requests here are unsigned
        missing = next(
            g["Properties"]
            for g in synth.of_type("AWS::ApiGateway::GatewayResponse").values()
            if g["Properties"]["ResponseType"] == "MISSING_AUTHENTICATION_TOKEN"
        )
        return int(missing["StatusCode"]), None
    integration = chosen["Integration"]
    if integration["Type"] != "MOCK":
        return FUNCTION, None
    (response,) = integration["IntegrationResponses"]
    allow = response.get("ResponseParameters", {}).get("method.response.header.Allow")
    return int(response["StatusCode"]), allow.strip("'") if allow else None


def _parent(resource: dict) -> str:
    parent = resource["Properties"]["ParentId"]
    return parent["Ref"] if "Ref" in parent else parent["Fn::GetAtt"][0]


def _resource_of(method: dict) -> str:
    ref = method["Properties"]["ResourceId"]
    return ref["Ref"] if "Ref" in ref else ref["Fn::GetAtt"][0]


@pytest.fixture(scope="module")
def gateway():
    def stub(function: str):
        return lambda event, context: {"statusCode": 299, "body": ""}  # marks "a function answered"

    return Gateway(loader=stub)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", METHODS)
def test_local_and_deployed_answer_alike(dev, gateway, method, path):
    status, headers, _ = gateway.invoke(method, path, {}, b"")
    local = (FUNCTION if status == 299 else status, headers.get("Allow"))
    assert local == deployed(dev, method, path)


def test_undeclared_methods_are_405_with_allow_and_unknown_paths_404(dev):
    assert deployed(dev, "POST", "/search") == (405, "GET, OPTIONS")
    assert deployed(dev, "DELETE", "/albums/" + "A" * 22) == (405, "GET, OPTIONS")
    assert deployed(dev, "GET", "/nope")[0] == 404 and deployed(dev, "GET", "/albums")[0] == 404


def test_an_unsigned_call_of_an_iam_route_is_401_in_both_places(dev, gateway):
    stats = next(m["Properties"] for m in dev.of_type("AWS::ApiGateway::Method").values()
                 if m["Properties"].get("AuthorizationType") == "AWS_IAM")  # fmt: skip
    assert stats["HttpMethod"] == "GET"
    missing = next(g["Properties"] for g in dev.of_type("AWS::ApiGateway::GatewayResponse").values()
                   if g["Properties"]["ResponseType"] == "MISSING_AUTHENTICATION_TOKEN")  # fmt: skip
    assert missing["StatusCode"] == "401"
    assert gateway.invoke("GET", "/stats", {}, b"")[0] == 401
    assert gateway.invoke("GET", "/stats", {"Authorization": "AWS4-HMAC-SHA256 Credential=x"}, b"")[0] == 299
