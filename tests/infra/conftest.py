"""Synthesize the stack once per session (asset bundling skipped) and share the templates."""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # before jsii starts

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from infra import nag  # noqa: E402
from infra.app_factory import build  # noqa: E402
from infra.constructs import layer as layer_module  # noqa: E402
from infra.paths import FUNCTIONS_DIR, ROOT  # noqa: E402
from infra.stack import MusicboxdStack  # noqa: E402
from musicboxd import routes  # noqa: E402

ALERT_EMAIL = "ops@musicboxd.example"
# A stage with cdn needs its region at synth time (the cdk CLI passes its default region; the
# in-process app has none): one other than us-east-1, so the reference crosses regions.
SERVICE_REGION = "eu-west-1"


def cdk_json_context() -> dict:
    """The context `cdk synth` would use (cdk.json), so tests see the same feature flags."""
    return dict(json.loads((ROOT / "cdk.json").read_text())["context"])


@dataclass
class Synth:
    stack: MusicboxdStack
    template: Template
    template_path: Path
    report: dict
    error: str | None
    acknowledged: list[tuple[str, str, str]]
    # Every stack's template path by stack name (with cdn: the service's and the edge web ACL's).
    template_paths: dict[str, Path]

    @property
    def edge(self) -> dict | None:
        """The us-east-1 stack of the distribution's web ACL (stage setting cdn), if any."""
        path = self.template_paths.get(f"{self.stack.stage_config.stack_name}-edge")
        return json.loads(path.read_text()) if path else None

    @property
    def resources(self) -> dict:
        return self.template.to_json()["Resources"]

    def of_type(self, cfn_type: str) -> dict[str, dict]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}


def synthesize(outdir: Path, **context: object) -> Synth:
    ctx = cdk_json_context() | {"aws:cdk:bundling-stacks": [], "region": SERVICE_REGION} | context
    app = App(outdir=str(outdir), context=ctx)
    start = len(nag.ACKNOWLEDGED)
    stack = build(app)
    error = None
    try:
        app.synth()
    except Exception as exc:  # cdk-nag violations fail synthesis; the report says which
        error = str(exc)
    template_path = outdir / f"{stack.artifact_id}.template.json"
    report_path = outdir / "validation-report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {"pluginReports": []}
    template = Template.from_json(json.loads(template_path.read_text()))
    paths = {path.name.removesuffix(".template.json"): path for path in outdir.glob("*.template.json")}
    return Synth(stack, template, template_path, report, error, nag.ACKNOWLEDGED[start:], paths)


def missing_functions() -> list[str]:
    return [n for n in routes.FUNCTIONS if not (FUNCTIONS_DIR / n / "handler.py").is_file()]


@pytest.fixture(scope="session", autouse=True)
def function_code(tmp_path_factory: pytest.TempPathFactory):
    """Template tests need a code directory per function, not the code itself.

    While a function's code has not landed yet, point the construct at a copy of functions/
    with a stub for it (`make synth` itself still fails loudly on a missing function).
    """
    missing = missing_functions()
    if not missing:
        yield FUNCTIONS_DIR
        return
    warnings.warn(f"functions/{{{','.join(missing)}}} missing: template tests use stubs", stacklevel=1)
    stub_root = tmp_path_factory.mktemp("functions")
    for name in routes.FUNCTIONS:
        if name in missing:
            (stub_root / name).mkdir()
            (stub_root / name / "handler.py").write_text("def handler(event, context):\n    return {}\n")
        else:
            (stub_root / name).symlink_to(FUNCTIONS_DIR / name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(layer_module, "FUNCTIONS_DIR", stub_root)
        yield stub_root


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk-dev"), stage="dev", alert_email=ALERT_EMAIL)


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk-prod"), stage="prod", alert_email=ALERT_EMAIL)
