from aws_cdk.assertions import Match

from musicboxd import config


def test_keys_ttl_billing_pitr(dev):
    dev.template.resource_count_is("AWS::DynamoDB::Table", 1)
    dev.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": config.PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": config.SORT_KEY, "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": config.TTL_ATTRIBUTE, "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        },
    )


def test_kind_expiry_index(dev):
    table = next(iter(dev.of_type("AWS::DynamoDB::Table").values()))["Properties"]
    attrs = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert attrs == {
        config.PARTITION_KEY: "S",
        config.SORT_KEY: "S",
        config.KIND_ATTRIBUTE: "S",
        config.TTL_ATTRIBUTE: "N",
    }
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == config.KIND_INDEX
    assert gsi["KeySchema"] == [
        {"AttributeName": config.KIND_ATTRIBUTE, "KeyType": "HASH"},
        {"AttributeName": config.TTL_ATTRIBUTE, "KeyType": "RANGE"},
    ]
    assert gsi["Projection"] == {"ProjectionType": "ALL"}


def test_dev_is_disposable(dev):
    dev.template.has_resource(
        "AWS::DynamoDB::Table",
        {"DeletionPolicy": "Delete", "Properties": Match.object_like({"DeletionProtectionEnabled": False})},
    )


def test_prod_is_protected_and_retained(prod):
    prod.template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like({"DeletionProtectionEnabled": True}),
        },
    )
    assert prod.stack.termination_protection
    for log_group in prod.of_type("AWS::Logs::LogGroup").values():
        assert log_group["DeletionPolicy"] == "Retain"
