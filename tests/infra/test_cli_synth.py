"""`cdk synth` through the pinned npm CLI (as `make synth` runs it): offline, no credentials."""

import json
import os
import shutil
import subprocess

import pytest

from infra.paths import ROOT

from .conftest import missing_functions


@pytest.mark.slow
def test_pinned_cli_synthesizes_without_credentials(tmp_path):
    if shutil.which("npm") is None:
        pytest.skip("node/npm not installed")
    if missing := missing_functions():
        pytest.skip(f"function code not landed yet: {missing}")
    cdk = ROOT / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("CDK_DEFAULT")}
    env |= {
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
    }
    out = tmp_path / "cdk.out"
    done = subprocess.run(
        [
            str(cdk),
            "synth",
            "-c",
            "stage=prod",
            "-c",
            "alert_email=ops@musicboxd.example",
            "--no-notices",
            "--quiet",
            "-o",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert "Musicboxd-prod" in manifest["artifacts"]
    assert (out / "Musicboxd-prod.template.json").is_file()
    # cdn: the distribution's web ACL in us-east-1, deployed first (the CLI's default region
    # without any AWS configuration is us-east-1 too, so the reference stays in one region).
    edge = manifest["artifacts"]["Musicboxd-prod-edge"]
    assert edge["environment"] == "aws://unknown-account/us-east-1"
    assert "Musicboxd-prod-edge" in manifest["artifacts"]["Musicboxd-prod"]["dependencies"]
    assert "not configured" not in done.stderr  # every feature flag is set in cdk.json
