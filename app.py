#!/usr/bin/env python3
"""CDK entry point: ``npx cdk synth -c stage=dev|staging|prod`` (see README, Infrastructure)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
for path in (ROOT, ROOT / "layers" / "common" / "python"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from aws_cdk import App  # noqa: E402

from infra.app_factory import build  # noqa: E402

app = App()
build(app)
app.synth()
