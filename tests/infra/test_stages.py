import json

import pytest
from aws_cdk import App, RemovalPolicy

from infra import stages


def cfg(**context):
    return stages.from_context(App(context=context).node)


def test_defaults_to_dev():
    c = cfg()
    assert c.name == "dev" and c.stack_name == "Musicboxd-dev" and c.prefix == "musicboxd-dev"
    assert c.removal_policy == RemovalPolicy.DESTROY and not c.schedules_enabled


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_shared_stages_retain_except_on_create_and_schedule(name):
    c = cfg(stage=name, alert_email="ops@musicboxd.example")
    assert c.removal_policy == RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE and c.schedules_enabled


def test_every_stage_creates_the_api_gateway_logging_role_unless_told_not_to():
    assert all(cfg(stage=name, alert_email="a@b.example").api_cloudwatch_role for name in stages.STAGES)
    assert cfg(api_cloudwatch_role="false").api_cloudwatch_role is False


@pytest.mark.parametrize("email", ["", "not-an-email", "  "])
def test_prod_refuses_to_synthesize_without_an_alarm_email(email):
    with pytest.raises(ValueError, match="stage prod needs an alarm email"):
        cfg(stage="prod", alert_email=email)


def test_context_overrides():
    c = cfg(stage="prod", web_origin="https://app.example/", schedules="false", alert_email="a@b.example")
    assert c.web_origin == "https://app.example"
    assert not c.schedules_enabled
    assert c.alert_email == "a@b.example"
    assert cfg(schedules="").schedules_enabled is False  # empty (cdk.json placeholder) = stage default


@pytest.mark.parametrize("context", [{"stage": "qa"}, {"schedules": "maybe"}, {"spotify_mode": "turbo"}])
def test_bad_context_is_rejected(context):
    with pytest.raises(ValueError):
        cfg(**context)


def test_function_env_from_context():
    c = cfg(function_env='{"POPULATE_CALL_BUDGET": 300, "POPULATE_PLAYLISTS": "a,b"}')
    assert c.function_env == {"POPULATE_CALL_BUDGET": "300", "POPULATE_PLAYLISTS": "a,b"}
    assert cfg(function_env={}).function_env == {}


@pytest.mark.parametrize(
    "name", ["SPOTIFY_CLIENT_SECRET", "TABLE_NAME", "AWS_REGION", "lower", "DYNAMODB_ENDPOINT_URL"]
)
def test_function_env_rejects_owned_or_secret_names(name):
    with pytest.raises(ValueError):
        cfg(function_env=json.dumps({name: "x"}))
