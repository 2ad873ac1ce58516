import pytest

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
    dev.template.has_resource("AWS::DynamoDB::Table", {"DeletionPolicy": "Delete"})


def test_prod_keeps_data_but_never_blocks_a_retried_first_create(prod):
    """RetainExceptOnCreate: kept on stack update/delete, removed when the first create rolls back
    (RETAIN would leave the named log groups behind and the retry fails on "already exists").
    No deletion protection: it would stop that rollback from deleting the table."""
    prod.template.has_resource(
        "AWS::DynamoDB::Table",
        {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"},
    )
    (table,) = prod.of_type("AWS::DynamoDB::Table").values()
    assert not table["Properties"].get("DeletionProtectionEnabled")
    assert prod.stack.termination_protection
    for log_group in prod.of_type("AWS::Logs::LogGroup").values():
        assert log_group["DeletionPolicy"] == "RetainExceptOnCreate"


def test_table_matches_the_codes_pynamodb_model(dev):
    """The deployed table is the one the adapter's model describes (keys, types, index, projection)."""
    pytest.importorskip("pynamodb")
    from musicboxd.adapters.dynamo import make_model
    from musicboxd.config import Settings

    schema = make_model(Settings.from_env({}))._get_schema()
    table = next(iter(dev.of_type("AWS::DynamoDB::Table").values()))["Properties"]

    def keys(schema_keys):
        return sorted((k["AttributeName"], k["KeyType"]) for k in schema_keys)

    def attrs(defs):
        return sorted((a["AttributeName"], a["AttributeType"]) for a in defs)

    assert keys(table["KeySchema"]) == keys(schema["key_schema"])
    assert attrs(table["AttributeDefinitions"]) == attrs(schema["attribute_definitions"])
    cdk_indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
    model_indexes = {i["index_name"]: i for i in schema["global_secondary_indexes"]}
    assert set(cdk_indexes) == set(model_indexes)
    for name, index in model_indexes.items():
        assert keys(cdk_indexes[name]["KeySchema"]) == keys(index["key_schema"])
        assert cdk_indexes[name]["Projection"] == index["projection"]
    assert not schema["local_secondary_indexes"] and "LocalSecondaryIndexes" not in table
