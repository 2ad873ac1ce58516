"""The single cache table (albums, searches, counters, checkpoints, circuit state)."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.stages import StageConfig
from musicboxd import config


class CacheTable(Construct):
    def __init__(self, scope: Construct, id: str, *, stage: StageConfig) -> None:
        super().__init__(scope, id)
        s = dynamodb.AttributeType.STRING
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=config.PARTITION_KEY, type=s),
            sort_key=dynamodb.Attribute(name=config.SORT_KEY, type=s),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=config.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # No deletion protection: CloudFormation could not delete the table when a first
            # create rolls back (ROLLBACK_FAILED). The removal policy keeps it on stack
            # delete/replace in shared stages, and prod's stack has termination protection.
            removal_policy=stage.removal_policy,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
        )
        # Expiry-ordered scan per item kind: cleanup pages through expired-but-unreaped items.
        self.table.add_global_secondary_index(
            index_name=config.KIND_INDEX,
            partition_key=dynamodb.Attribute(name=config.KIND_ATTRIBUTE, type=s),
            sort_key=dynamodb.Attribute(name=config.TTL_ATTRIBUTE, type=dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.ALL,
        )

    @property
    def index_arns(self) -> list[str]:
        return [f"{self.table.table_arn}/index/{config.KIND_INDEX}"]
