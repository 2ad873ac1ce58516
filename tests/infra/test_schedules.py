import json

from aws_cdk.assertions import Match


def rules(synth):
    return {r["Properties"]["Name"]: r["Properties"] for r in synth.of_type("AWS::Events::Rule").values()}


def test_cron_expressions(dev):
    r = rules(dev)
    assert r["musicboxd-dev-populate"]["ScheduleExpression"] == "cron(0 3 ? * SUN *)"  # Sunday 03:00 UTC
    assert r["musicboxd-dev-cleanup"]["ScheduleExpression"] == "cron(0 2 * * ? *)"  # daily 02:00 UTC
    resume = r["musicboxd-dev-populate-resume"]
    assert resume["ScheduleExpression"] == "cron(30 * * * ? *)"  # hourly: continues a stopped run only
    (target,) = resume["Targets"]
    assert json.loads(target["Input"]) == {"resume_only": True}
    verify = r["musicboxd-dev-cleanup-verify"]
    assert verify["ScheduleExpression"] == "rate(5 minutes)"  # tier-1 verify run: drains sampled checks
    (target,) = verify["Targets"]
    assert json.loads(target["Input"]) == {"verify_only": True}


def test_schedules_off_in_dev_on_in_prod(dev, prod):
    assert {r["State"] for r in rules(dev).values()} == {"DISABLED"}
    assert {r["State"] for r in rules(prod).values()} == {"ENABLED"}


def test_targets_retry_and_dlq(dev):
    (queue_id,) = dev.of_type("AWS::SQS::Queue")
    for rule in rules(dev).values():
        (target,) = rule["Targets"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] > 0
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}


def test_failed_runs_land_in_dlq_without_immediate_retry(dev):
    configs = dev.of_type("AWS::Lambda::EventInvokeConfig").values()
    assert len(configs) == 2
    for c in configs:
        assert c["Properties"]["MaximumRetryAttempts"] == 0
        assert "OnFailure" in c["Properties"]["DestinationConfig"]


def test_dlq_encrypted_and_ssl_only(dev):
    dev.template.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})
    dev.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )
