"""Every stage with every documented context flag synthesizes cdk-nag and cfn-lint clean, and
passes the new-account rules (in-process synth, bundling skipped: the template is what varies)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.paths import ROOT
from infra.stages import STAGES

from . import new_account

EMAIL = "ops@musicboxd.example"
# The README's context flags, each away from its stage default.
FLIPPED = {
    "web_origin": "https://app.musicboxd.example",
    "alert_email": EMAIL,
    "api_cloudwatch_role": "false",
    "spotify_mode": "extended",
    "spotify_market": "SE",
    "function_env": json.dumps({"POPULATE_CALL_BUDGET": "300", "SPOTIFY_RATE_LIMIT": "120"}),
}
# prod's CloudFront web ACL stack is in us-east-1: the service in another region (conftest's
# default) and in the same one (the cdk CLI's default region when it finds none).
COMBINATIONS = (
    [(stage, "defaults") for stage in STAGES]
    + [(stage, "flipped") for stage in STAGES]
    + [("prod", "us-east-1"), ("dev", "cdn")]
)


def context_for(stage: str, variant: str) -> dict[str, str]:
    if variant == "defaults":
        return {"stage": stage} | ({"alert_email": EMAIL} if stage == "prod" else {})
    if variant == "us-east-1":
        return {"stage": stage, "alert_email": EMAIL, "region": "us-east-1"}
    if variant == "cdn":
        return {"stage": stage, "cdn": "true"}
    schedules = "true" if stage == "dev" else "false"
    return {"stage": stage, "schedules": schedules, **FLIPPED}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> dict[tuple[str, str], object]:
    from tests.infra.conftest import synthesize

    return {
        (stage, variant): synthesize(tmp_path_factory.mktemp(f"{stage}-{variant}"), **context_for(stage, variant))
        for stage, variant in COMBINATIONS
    }


@pytest.mark.parametrize(("stage", "variant"), COMBINATIONS)
def test_cdk_nag_clean(matrix, stage, variant):
    synth = matrix[(stage, variant)]
    violations = [
        (v["ruleName"], c["constructPath"])
        for plugin in synth.report["pluginReports"]
        for v in plugin.get("violations", [])
        for c in v["violatingConstructs"]
    ]
    assert violations == [] and synth.error is None, (violations, synth.error)


@pytest.mark.parametrize(("stage", "variant"), COMBINATIONS)
def test_new_account_rules(matrix, stage, variant):
    for path in matrix[(stage, variant)].template_paths.values():
        assert list(new_account.problems(json.loads(path.read_text()))) == [], path.name


def test_cfn_lint_clean_on_every_combination(matrix):
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    paths = [str(path) for synth in matrix.values() for path in synth.template_paths.values()]
    done = subprocess.run(
        [str(cfn_lint), "--config-file", str(ROOT / ".cfnlintrc.yaml"), "--", *paths],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
