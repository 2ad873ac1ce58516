"""Spotify's terms in the synthesized stack: the sweep is a stage's explicit choice, API keys on demand."""

from __future__ import annotations

import pytest

from infra.constructs.api import CATALOG_PATHS
from musicboxd import routes

from .conftest import ALERT_EMAIL, Synth, synthesize
from .test_api import methods


@pytest.fixture(scope="module")
def chosen(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """prod with both compliance choices made: the sweep on, API keys required."""
    return synthesize(tmp_path_factory.mktemp("cdk-prod-chosen"), stage="prod", popularity_sweep="true",
                      require_api_key="true", alert_email=ALERT_EMAIL)  # fmt: skip


def populate_environment(synth: Synth) -> dict[str, str]:
    (function,) = [f for f in synth.of_type("AWS::Lambda::Function").values()
                   if f["Properties"].get("FunctionName", "").endswith("-populate")]  # fmt: skip
    return function["Properties"]["Environment"]["Variables"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_a_stage_without_the_opt_in_synthesizes_populate_with_the_sweep_off(request, stage):
    assert populate_environment(request.getfixturevalue(stage))["POPULATE_SWEEP"] == "false"


def test_the_opt_in_turns_the_sweep_on(chosen):
    assert populate_environment(chosen)["POPULATE_SWEEP"] == "true"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_without_require_api_key_no_route_needs_a_key(request, stage):
    synth = request.getfixturevalue(stage)
    assert not any(m.get("ApiKeyRequired") for m in methods(synth).values())
    assert not synth.of_type("AWS::ApiGateway::UsagePlan") and not synth.of_type("AWS::ApiGateway::ApiKey")


def test_require_api_key_guards_every_catalog_route_with_a_usage_plan(chosen):
    served = {key: m for key, m in methods(chosen).items() if key[0] not in ("OPTIONS", "ANY")}  # ANY: 404/405 mocks
    assert {r.path for r in routes.ROUTES} >= CATALOG_PATHS
    for (method, path), properties in served.items():
        assert bool(properties.get("ApiKeyRequired")) == (path in CATALOG_PATHS), (method, path)
    assert not any(m.get("ApiKeyRequired") for k, m in methods(chosen).items() if k[0] == "OPTIONS")  # preflight
    (plan,) = chosen.of_type("AWS::ApiGateway::UsagePlan").values()
    throttle = plan["Properties"]["Throttle"]  # the per-client limit: per key
    assert throttle["RateLimit"] > 0 and throttle["BurstLimit"] > 0
    assert plan["Properties"]["ApiStages"]
    assert len(chosen.of_type("AWS::ApiGateway::ApiKey")) == 1
    assert len(chosen.of_type("AWS::ApiGateway::UsagePlanKey")) == 1
    responses = [r["Properties"]["ResponseType"] for r in chosen.of_type("AWS::ApiGateway::GatewayResponse").values()]
    assert "INVALID_API_KEY" in responses


def test_the_chosen_stage_is_cdk_nag_clean(chosen):
    violations = [v["ruleName"] for p in chosen.report["pluginReports"] for v in p.get("violations", [])]
    assert violations == [] and chosen.error is None, (violations, chosen.error)


def test_the_sweep_cannot_be_turned_on_through_function_env():
    from aws_cdk import App

    from infra import stages

    with pytest.raises(ValueError, match="POPULATE_SWEEP"):
        stages.from_context(App(context={"function_env": {"POPULATE_SWEEP": "true"}}).node)
