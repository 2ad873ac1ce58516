"""Builds the CDK app (shared by app.py and the tests, so both synthesize the same thing)."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import App

from infra import nag, stages
from infra.stack import MusicboxdStack
from musicboxd import routes as routes_mod
from musicboxd.routes import Route


def build(app: App, routes: Iterable[Route] = routes_mod.ROUTES) -> MusicboxdStack:
    stage = stages.from_context(app.node)
    # Environment-agnostic on purpose: synth needs no account/region/credentials; deploy
    # targets whatever account/region the CLI's credentials resolve to.
    stack = MusicboxdStack(app, stage.stack_name, stage=stage, routes=routes)
    nag.add_checks(app)
    return stack
