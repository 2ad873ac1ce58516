"""cdk-nag (v3, a CDK Validations plugin) wiring and the acknowledgement helper."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

# Every acknowledgement made while building the app: (construct path, rule id, reason).
ACKNOWLEDGED: list[tuple[str, str, str]] = []


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on ``scope`` (and its children) with a written reason."""
    if len(reason.strip()) < 20:
        raise ValueError(f"{rule}: a suppression needs a real reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
    ACKNOWLEDGED.append((scope.node.path, rule, reason))


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
