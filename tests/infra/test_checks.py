"""The offline checks: cdk-nag (Validations plugin), cfn-lint, the pinned CDK CLI."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.paths import ROOT

# Every rule we acknowledge, on purpose. A new acknowledgement needs a new line here (review).
ALLOWED_ACKS = {
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    "AwsSolutions-APIG1",  # only with -c api_cloudwatch_role=false (logging off)
    "AwsSolutions-APIG6",
    "AwsSolutions-L1",
    "AwsSolutions-APIG4",
    "AwsSolutions-COG4",
    "AwsSolutions-SQS3",
    "AwsSolutions-S1",  # the CloudFront log bucket (prod)
    "AwsSolutions-CFR1",
    "AwsSolutions-CFR4",
}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cdk_nag_has_no_unacknowledged_findings(request, stage):
    synth = request.getfixturevalue(stage)
    violations = [
        (v["ruleName"], c["constructPath"])
        for plugin in synth.report["pluginReports"]
        for v in plugin.get("violations", [])
        for c in v["violatingConstructs"]
    ]
    assert violations == [], violations
    assert synth.error is None, synth.error


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_acknowledgement_has_a_reason(request, stage):
    synth = request.getfixturevalue(stage)
    assert synth.acknowledged
    for path, rule, reason in synth.acknowledged:
        assert rule in ALLOWED_ACKS, (path, rule)
        assert len(reason) > 40, (path, rule, reason)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cfn_lint_clean(request, stage):
    synth = request.getfixturevalue(stage)
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    done = subprocess.run(
        [str(cfn_lint), "--config-file", str(ROOT / ".cfnlintrc.yaml"), "--", *map(str, synth.template_paths.values())],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_cdk_cli_pinned_to_exact_2x():
    pkg = json.loads((ROOT / "package.json").read_text())
    version = pkg["devDependencies"]["aws-cdk"]
    assert re.fullmatch(r"2\.\d+\.\d+", version), version
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == version
    cdk_json = json.loads((ROOT / "cdk.json").read_text())
    assert cdk_json["app"].endswith("app.py")


@pytest.mark.parametrize("target", ["deploy", "destroy"])  # diff compares every stack by default
def test_make_targets_act_on_every_stack_of_the_stage(prod, target):
    """prod is two stacks (the CloudFront web ACL's in us-east-1); the CLI refuses a multi-stack
    app without stack names or --all, and names alone would leave the edge stack out."""
    assert len(prod.template_paths) == 2
    done = subprocess.run(
        ["make", "-n", "-o", "venv", "-o", "node_modules", "-o", "python313", target, "STAGE=prod"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    (command,) = [line for line in done.stdout.splitlines() if f"cdk {target}" in line]
    assert "--all" in command.split(), command
