"""SnapStart (stage setting ``snap_start``): published versions, alias ``live``, API on the alias."""

from __future__ import annotations

import json

import pytest

from infra import stages
from tests.infra.test_functions import functions

HTTP_FUNCTIONS = ("search", "album")


def _logical_ids(synth, cfn_type: str) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in synth.of_type(cfn_type).items()}


def _function_ids(synth) -> dict[str, str]:
    prefix = f"{synth.stack.stage_config.prefix}-"
    return {
        props["FunctionName"].removeprefix(prefix): logical_id
        for logical_id, props in _logical_ids(synth, "AWS::Lambda::Function").items()
    }


def test_stage_setting_on_in_prod_and_staging_off_in_dev_and_overridable():
    assert stages.DEFAULTS["prod"].snap_start and stages.DEFAULTS["staging"].snap_start
    assert not stages.DEFAULTS["dev"].snap_start
    from aws_cdk import App

    assert stages.from_context(App(context={"stage": "dev", "snap_start": "true"}).node).snap_start
    prod_without = {"stage": "prod", "snap_start": "false", "alert_email": "ops@musicboxd.example"}
    assert not stages.from_context(App(context=prod_without).node).snap_start


def test_prod_http_functions_snapshot_published_versions_behind_the_live_alias(prod):
    fns = functions(prod)
    for name in HTTP_FUNCTIONS:
        assert fns[name]["SnapStart"] == {"ApplyOn": "PublishedVersions"}, name
    for name in ("populate", "cleanup"):
        assert "SnapStart" not in fns[name], name
    ids = _function_ids(prod)
    versions = _logical_ids(prod, "AWS::Lambda::Version")
    aliases = _logical_ids(prod, "AWS::Lambda::Alias")
    for name in HTTP_FUNCTIONS:
        (alias,) = [a for a in aliases.values() if a["FunctionName"] == {"Ref": ids[name]}]
        assert alias["Name"] == "live"
        version_id = alias["FunctionVersion"]["Fn::GetAtt"][0]
        assert versions[version_id]["FunctionName"] == {"Ref": ids[name]}
    assert len(aliases) == len(HTTP_FUNCTIONS)
    # superseded versions are deleted with the next deploy, not kept (each holds a cached snapshot)
    for logical_id in versions:
        assert prod.resources[logical_id].get("DeletionPolicy") == "Delete"


def _integration_targets(synth) -> set[str]:
    """What every API method invokes, as the template names it."""
    targets = set()
    for method in _logical_ids(synth, "AWS::ApiGateway::Method").values():
        if method["HttpMethod"] in ("OPTIONS", "ANY"):  # preflight and the 404/405 mocks invoke nothing
            continue
        targets.add(json.dumps(method["Integration"]["Uri"], sort_keys=True))
    return targets


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_api_invokes_the_alias_with_snapstart_and_the_function_without(stage, request):
    synth = request.getfixturevalue(stage)
    aliases = set(_logical_ids(synth, "AWS::Lambda::Alias"))
    functions_by_id = set(_function_ids(synth).values())
    uris = _integration_targets(synth)
    referenced = {ref for uri in uris for ref in aliases | functions_by_id if ref in uri}
    if stage == "prod":
        assert referenced == aliases
    else:
        assert not aliases
        assert referenced == {_function_ids(synth)[name] for name in HTTP_FUNCTIONS}
    # API Gateway may invoke exactly what it integrates with: permissions name the alias too
    permitted = {
        json.dumps(permission["FunctionName"], sort_keys=True)
        for permission in _logical_ids(synth, "AWS::Lambda::Permission").values()
        if permission["Principal"] == "apigateway.amazonaws.com"
    }
    assert {ref for text in permitted for ref in aliases | functions_by_id if ref in text} == referenced
