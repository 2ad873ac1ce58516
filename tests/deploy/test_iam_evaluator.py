"""The offline IAM evaluator must deny what IAM denies, or the rehearsal proves nothing."""

from __future__ import annotations

from .iam import Call, allows, unused_grants

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/cache"
READ = {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": TABLE}


def test_an_action_not_granted_is_denied():
    assert allows([READ], Call("dynamodb:GetItem", TABLE))
    assert not allows([READ], Call("dynamodb:PutItem", TABLE))


def test_another_resource_is_denied_and_a_table_grant_does_not_cover_its_index():
    assert not allows([READ], Call("dynamodb:GetItem", TABLE.replace("cache", "other")))
    assert not allows([READ], Call("dynamodb:GetItem", f"{TABLE}/index/by_kind_expiry"))
    wildcard = {**READ, "Resource": f"{TABLE}/index/*"}
    assert allows([wildcard], Call("dynamodb:GetItem", f"{TABLE}/index/by_kind_expiry"))


def test_an_explicit_deny_wins_and_a_condition_is_never_assumed_true():
    deny = {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}
    assert not allows([READ, deny], Call("dynamodb:GetItem", TABLE))
    conditioned = {**READ, "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}
    assert not allows([conditioned], Call("dynamodb:GetItem", TABLE))


def test_unused_grants_are_reported_per_action():
    policy = [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Scan", "xray:PutTraceSegments"],
            "Resource": [TABLE, "*"],
        }
    ]
    unused = unused_grants(policy, [Call("dynamodb:GetItem", TABLE)], platform_actions=["xray:PutTraceSegments"])
    assert unused == [f"dynamodb:Scan on {[TABLE, '*']}"]


def test_the_shipped_policy_minus_one_action_refuses_a_recorded_call(rehearsal):
    """The real search role with dynamodb:PutItem taken out: the rehearsal's own calls are denied."""
    from .test_rehearsal import recorded, statements

    policy = statements(rehearsal, "search")
    calls = recorded(rehearsal, "search")
    assert all(allows(policy, call) for call in calls)
    without_put = [
        {**st, "Action": [a for a in st["Action"] if a != "dynamodb:PutItem"]} if isinstance(st["Action"], list) else st
        for st in policy
    ]
    assert any(not allows(without_put, call) for call in calls if call.action == "dynamodb:PutItem")
