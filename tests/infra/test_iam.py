import json
import re

from infra.paths import LAYER_PYTHON
from musicboxd import config


def statements(synth):
    for logical_id, policy in synth.of_type("AWS::IAM::Policy").items():
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield logical_id, st
    for logical_id, role in synth.of_type("AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for st in policy["PolicyDocument"]["Statement"]:
                yield logical_id, st


def as_list(x):
    return x if isinstance(x, list) else [x]


def test_lambda_roles_have_no_managed_policies(dev):
    lambda_roles = [
        role
        for role in dev.of_type("AWS::IAM::Role").values()
        if "lambda.amazonaws.com" in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert len(lambda_roles) == 4
    for role in lambda_roles:
        assert "ManagedPolicyArns" not in role["Properties"]


def test_no_wildcard_actions(dev):
    for _, st in statements(dev):
        for action in as_list(st["Action"]):
            assert "*" not in action, action


def test_star_resource_only_for_xray(dev):
    for _, st in statements(dev):
        if "*" in as_list(st["Resource"]):
            assert all(a.startswith("xray:") for a in as_list(st["Action"])), st


def test_dynamodb_scoped_to_table_and_index(dev):
    (table_id,) = dev.of_type("AWS::DynamoDB::Table")
    seen = 0
    for _, st in statements(dev):
        if not any(a.startswith("dynamodb:") for a in as_list(st["Action"])):
            continue
        seen += 1
        for resource in as_list(st["Resource"]):
            text = json.dumps(resource)
            assert table_id in text and "*" not in text, resource
            if "index" in text:
                assert f"/index/{config.KIND_INDEX}" in text
        assert not {"dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:CreateTable"} & set(as_list(st["Action"]))
    assert seen == 6  # a table statement for each of the four roles, an index one for the two jobs


def test_ssm_scoped_to_the_three_parameters(dev):
    p = dev.stack.parameters
    allowed = {p.client_id_name, p.client_secret_name, p.token_name}
    for _, st in statements(dev):
        actions = set(as_list(st["Action"]))
        if not any(a.startswith("ssm:") for a in actions):
            continue
        assert actions <= {"ssm:GetParameter", "ssm:GetParameters", "ssm:PutParameter"}
        if "ssm:GetParameters" in actions:
            assert actions == {"ssm:GetParameters"}, "the code reads the credentials with GetParameters only"
        for resource in as_list(st["Resource"]):
            text = json.dumps(resource)
            assert "*" not in text
            name = "/" + text.split(":parameter/")[1].split('"')[0]
            assert name in allowed
            if "ssm:PutParameter" in actions:
                assert name == p.token_name, "only the token parameter is written by the code"


def test_no_kms_grant(dev):
    """SecureStrings use aws/ssm, whose key policy already allows every principal of the account
    through SSM; the functions never call KMS themselves."""
    assert not [st for _, st in statements(dev) if any(a.startswith("kms:") for a in as_list(st["Action"]))]


def test_logs_only_to_own_log_group(dev):
    groups = set(dev.of_type("AWS::Logs::LogGroup"))
    for _, st in statements(dev):
        if any(a.startswith("logs:") for a in as_list(st["Action"])):
            (resource,) = as_list(st["Resource"])
            assert resource["Fn::GetAtt"][0] in groups


def test_every_ssm_call_of_the_code_is_granted(dev):
    """boto3 SSM calls in the adapters (get_parameters -> ssm:GetParameters) are all allowed."""
    source = (LAYER_PYTHON / "musicboxd" / "adapters" / "ssm.py").read_text()
    calls = set(re.findall(r"\b(get_parameters?|put_parameter|get_parameters_by_path|delete_parameter)\(", source))
    assert calls, "no SSM calls found: has the adapter moved?"
    needed = {"ssm:" + "".join(part.title() for part in call.split("_")) for call in calls}
    granted = {a for _, st in statements(dev) for a in as_list(st["Action"])}
    assert needed <= granted, needed - granted
