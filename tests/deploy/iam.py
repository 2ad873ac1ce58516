"""IAM as enforced, offline: a function's policy statements from the template, and a call's verdict.

An evaluator of identity-policy statements (Effect, Action, Resource with `*`/`?` wildcards; an
explicit Deny wins). A statement with a Condition is never taken as allowing anything: the
rehearsal cannot know the request context, so it errs towards "denied". CloudFormation
intrinsics in the template are resolved against the local stack (`Resolver`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


@dataclass(frozen=True)
class Call:
    """One AWS request as IAM sees it."""

    action: str  # "dynamodb:GetItem"
    resource: str  # ARN


@dataclass
class Resolver:
    """CloudFormation intrinsics -> strings of the local stack (unknown ids stay recognisable)."""

    refs: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> Fn::GetAtt <id>.Arn

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            name = value["Ref"]
            pseudo = {
                "AWS::Partition": "aws",
                "AWS::Region": REGION,
                "AWS::AccountId": ACCOUNT,
                "AWS::URLSuffix": "amazonaws.com",
            }
            return pseudo.get(name) or self.refs.get(name, f"unresolved-ref-{name}")
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            if attribute == "Arn" and logical_id in self.arns:
                return self.arns[logical_id]
            return f"arn:unresolved:{logical_id}.{attribute}"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self(part)) for part in parts)
        return {key: self(v) for key, v in value.items()}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def role_of_function(template: dict, function_name: str) -> str:
    """Logical id of the execution role of the function named ``function_name``."""
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function" and props.get("FunctionName") == function_name:
            return props["Role"]["Fn::GetAtt"][0]
    raise KeyError(f"no function {function_name} in the template")


def function_statements(template: dict, function_name: str, resolve: Resolver) -> list[dict]:
    """Every statement of the function's role: inline policies and attached AWS::IAM::Policy."""
    role_id = role_of_function(template, function_name)
    role = template["Resources"][role_id]
    if role["Properties"].get("ManagedPolicyArns"):
        raise ValueError(f"{role_id}: managed policies cannot be evaluated offline")
    documents = [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"].get("Roles", []):
            documents.append(resource["Properties"]["PolicyDocument"])
    return [resolve(statement) for document in documents for statement in document["Statement"]]


def _matches(statement: dict, call: Call) -> bool:
    actions = as_list(statement.get("Action", []))
    resources = as_list(statement.get("Resource", []))
    return any(fnmatchcase(call.action.lower(), a.lower()) for a in actions) and any(
        fnmatchcase(call.resource, r) for r in resources
    )


def allows(statements: Iterable[dict], call: Call) -> bool:
    statements = list(statements)
    if any(s["Effect"] == "Deny" and _matches(s, call) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and "Condition" not in s and _matches(s, call) for s in statements)


def granted(statements: Iterable[dict]) -> Iterator[tuple[str, dict]]:
    """(action, statement) for every action an Allow statement grants."""
    for statement in statements:
        if statement["Effect"] == "Allow":
            for action in as_list(statement["Action"]):
                yield action, statement


def unused_grants(statements: Iterable[dict], calls: Iterable[Call], platform_actions: Iterable[str]) -> list[str]:
    """Granted actions (per statement) that no recorded call used, except the platform's own."""
    calls = list(calls)
    platform = {a.lower() for a in platform_actions}
    unused = []
    for action, statement in granted(statements):
        if action.lower() in platform:
            continue
        if not any(_matches({**statement, "Action": action}, call) for call in calls):
            unused.append(f"{action} on {as_list(statement['Resource'])}")
    return unused


def calls_from_record(record: dict, table_arns: dict[str, str]) -> list[Call]:
    """The IAM view of one botocore call recorded by runner.py (table name -> ARN map given)."""
    service, operation, params = record["service"], record["operation"], record["params"]
    action = f"{service}:{operation}"
    if service == "dynamodb":
        tables = params.get("RequestItems") or [params["TableName"]]
        resources = []
        for table in tables:
            arn = table_arns.get(table, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}")
            resources.append(f"{arn}/index/{params['IndexName']}" if "IndexName" in params else arn)
        return [Call(action, resource) for resource in resources]
    if service == "ssm":
        names = params.get("Names") or [params["Name"]]
        return [Call(action, f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}") for name in names]
    raise ValueError(f"no ARN rule for {action}: teach calls_from_record about it")
