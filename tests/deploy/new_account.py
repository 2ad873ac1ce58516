"""What stops a first `cdk deploy` on a brand-new AWS account, read from a synthesized template.

- Lambda refuses any reserved concurrency that leaves fewer than 10 unreserved executions, and
  a new account's quota is 10: every reservation fails.
- API Gateway access/execution logging needs the account-wide CloudWatch role, which a new
  account lacks: the template must set it (AWS::ApiGateway::Account) before the stage, or log nothing.
- A failed first create rolls back; what the rollback keeps (DeletionPolicy Retain/Snapshot)
  under an explicit name makes the retry fail with "already exists", and a table with
  deletion protection cannot be deleted by the rollback at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

NEW_ACCOUNT_CONCURRENCY = 10
# Resource type -> the property that gives it an explicit physical name.
PHYSICAL_NAMES = {
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SSM::Parameter": "Name",
    "AWS::KMS::Alias": "AliasName",
}
KEPT_ON_ROLLBACK = ("Retain", "Snapshot")  # RetainExceptOnCreate is deleted by a create rollback


def _depends_on(resources: dict, start: str) -> set[str]:
    """Every resource ``start`` waits for (DependsOn, Ref, Fn::GetAtt), transitively."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        resource = resources[todo.pop()]
        direct = set(
            resource.get("DependsOn", [])
            if isinstance(resource.get("DependsOn"), list)
            else [resource.get("DependsOn")]
        )
        text = json.dumps(resource.get("Properties", {}))
        direct |= {
            logical_id for logical_id in resources if f'"Ref": "{logical_id}"' in text or f'["{logical_id}",' in text
        }
        for logical_id in direct - seen - {None}:
            seen.add(logical_id)
            todo.append(logical_id)
    return seen


def _logs(stage: dict) -> bool:
    props = stage.get("Properties", {})
    execution = any(
        m.get("LoggingLevel", "OFF") != "OFF" or m.get("DataTraceEnabled") for m in props.get("MethodSettings", [])
    )
    return "AccessLogSetting" in props or execution


def problems(template: dict) -> Iterator[str]:
    resources = template["Resources"]
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::Lambda::Function" and props.get("ReservedConcurrentExecutions"):
            yield (
                f"{logical_id}: ReservedConcurrentExecutions {props['ReservedConcurrentExecutions']} is refused "
                f"on a new account (quota {NEW_ACCOUNT_CONCURRENCY}, at least {NEW_ACCOUNT_CONCURRENCY} must stay unreserved)"
            )
        if kind == "AWS::ApiGateway::Stage" and _logs(resource):
            accounts = [k for k, r in resources.items() if r["Type"] == "AWS::ApiGateway::Account"]
            if not accounts:
                yield f"{logical_id}: logs to CloudWatch but nothing sets the account's API Gateway CloudWatch role"
            elif not set(accounts) & _depends_on(resources, logical_id):
                yield f"{logical_id}: does not wait for {accounts[0]} (the role may be set after the stage)"
        if resource.get("DeletionPolicy") in KEPT_ON_ROLLBACK and PHYSICAL_NAMES.get(kind) in props:
            yield (
                f"{logical_id}: DeletionPolicy {resource['DeletionPolicy']} with an explicit "
                f"{PHYSICAL_NAMES[kind]}: a rolled-back first create leaves it, the retry fails on 'already exists'"
            )
        if (
            kind == "AWS::DynamoDB::Table"
            and props.get("DeletionProtectionEnabled")
            and resource.get("DeletionPolicy") not in KEPT_ON_ROLLBACK
        ):
            yield f"{logical_id}: deletion protection stops a first-create rollback from deleting it (ROLLBACK_FAILED)"
