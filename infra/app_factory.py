"""Builds the CDK app (shared by app.py and the tests, so both synthesize the same thing)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from aws_cdk import App, CrossStackReferences, Environment, ReferenceStrength

from infra import nag, stages
from infra.stack import EdgeFirewallStack, MusicboxdStack
from musicboxd import routes as routes_mod
from musicboxd.routes import Route


def service_region(app: App) -> str:
    """``-c region=...``, else the cdk CLI's default region (AWS_REGION or the profile's; us-east-1
    when it finds none, also without credentials)."""
    region = str(app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION") or "")
    if not region:
        raise ValueError("a stage with cdn needs the service's region: run through the cdk CLI or add -c region=...")
    return region


def build(app: App, routes: Iterable[Route] = routes_mod.ROUTES) -> MusicboxdStack:
    stage = stages.from_context(app.node)
    # Environment-agnostic on purpose: synth needs no account/region/credentials; deploy
    # targets whatever account/region the CLI's credentials resolve to (with cdn, the region
    # is fixed at synth: service_region).
    if not stage.cdn:
        stack = MusicboxdStack(app, stage.stack_name, stage=stage, routes=routes)
    else:
        # The distribution's web ACL must live in us-east-1 (EdgeFirewallStack). A reference
        # across regions needs both regions at synth time (the account stays the CLI's); it is
        # weak (Fn::GetStackOutput, read at deploy time): no custom resource, no export lock.
        edge = EdgeFirewallStack(app, f"{stage.stack_name}-edge", stage=stage)
        web_acl = edge.firewall.web_acl
        CrossStackReferences.of(web_acl).produce(ReferenceStrength.WEAK)
        stack = MusicboxdStack(
            app,
            stage.stack_name,
            stage=stage,
            routes=routes,
            edge_web_acl_arn=web_acl.attr_arn,
            env=Environment(region=service_region(app)),
        )
    nag.add_checks(app)
    return stack
