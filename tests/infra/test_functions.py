import pytest

from musicboxd import config, routes
from musicboxd import metric_names as telemetry

# Env vars the deployed code must be given (the Settings defaults are for the local stack).
REQUIRED_ENV = {
    "TABLE_NAME",
    "TOKEN_PARAMETER",
    "SPOTIFY_CLIENT_ID_PARAMETER",
    "SPOTIFY_CLIENT_SECRET_PARAMETER",
    "SPOTIFY_MODE",
    "SPOTIFY_MARKET",
}
# Set by infra but read by libraries / the API layer rather than Settings.from_env.
EXTRA_ENV = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "CORS_ALLOW_ORIGIN",
}
# Never in the environment when deployed: secrets come from SSM.
FORBIDDEN_ENV = {"SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "AWS_ENDPOINT_URL", "DYNAMODB_ENDPOINT_URL"}


def settings_env_names() -> set[str]:
    """Every environment variable name Settings.from_env reads."""
    return set(config.env_names())


def functions(synth) -> dict[str, dict]:
    out = {}
    for fn in synth.of_type("AWS::Lambda::Function").values():
        name = fn["Properties"]["FunctionName"].removeprefix(f"{synth.stack.stage_config.prefix}-")
        out[name] = fn["Properties"]
    return out


def test_settings_parser_found_the_names():
    names = settings_env_names()
    assert names >= REQUIRED_ENV, "Settings.from_env no longer reads a variable infra sets"
    assert len(names) > 20


def test_one_function_per_routes_functions(dev):
    assert set(functions(dev)) == set(routes.FUNCTIONS)


@pytest.mark.parametrize("name", routes.FUNCTIONS)
def test_runtime_arch_tracing_layer(dev, name):
    fn = functions(dev)[name]
    assert fn["Runtime"] == "python3.13"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Handler"] == "handler.handler"
    assert fn["TracingConfig"] == {"Mode": "Active"}
    (layer_id,) = dev.of_type("AWS::Lambda::LayerVersion")
    assert fn["Layers"] == [{"Ref": layer_id}]
    assert fn["LoggingConfig"]["LogFormat"] == "JSON"


def test_layer_targets_runtime_and_arch(dev):
    (layer,) = dev.of_type("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_sizing_and_no_reserved_concurrency(dev):
    """A new account's concurrency quota is 10: any reservation would be refused (the lease
    keeps populate/cleanup runs one at a time)."""
    fns = functions(dev)
    assert fns["search"]["Timeout"] == fns["album"]["Timeout"] == 10
    assert fns["populate"]["Timeout"] == 900
    assert fns["cleanup"]["Timeout"] == 300
    assert not any("ReservedConcurrentExecutions" in fn for fn in fns.values())
    for fn in fns.values():
        assert 128 <= fn["MemorySize"] <= 1024


@pytest.mark.parametrize("name", routes.FUNCTIONS)
def test_env_vars_the_code_reads(dev, name):
    env = functions(dev)[name]["Environment"]["Variables"]
    assert set(env) >= REQUIRED_ENV
    unknown = set(env) - settings_env_names() - EXTRA_ENV
    assert not unknown, f"env vars nobody reads (typo?): {unknown}"
    assert not FORBIDDEN_ENV & set(env)
    (table_id,) = dev.of_type("AWS::DynamoDB::Table")
    assert env["TABLE_NAME"] == {"Ref": table_id}
    assert env["POWERTOOLS_SERVICE_NAME"] == name
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == telemetry.NAMESPACE
    assert env["SPOTIFY_MODE"] in ("development", "extended")
    params = dev.stack.parameters
    assert env["TOKEN_PARAMETER"] == params.token_name == "/musicboxd/dev/spotify/token"
    assert env["SPOTIFY_CLIENT_ID_PARAMETER"] == params.client_id_name
    assert env["SPOTIFY_CLIENT_SECRET_PARAMETER"] == params.client_secret_name


def test_function_env_context_reaches_every_function(tmp_path):
    from .conftest import synthesize

    synth = synthesize(tmp_path, stage="staging", function_env={"POPULATE_CALL_BUDGET": "300"})
    for fn in functions(synth).values():
        assert fn["Environment"]["Variables"]["POPULATE_CALL_BUDGET"] == "300"
    assert "POPULATE_CALL_BUDGET" in settings_env_names()


def test_log_groups_have_retention(dev, prod):
    for synth, days in ((dev, 7), (prod, 90)):
        groups = synth.of_type("AWS::Logs::LogGroup").values()
        assert len(groups) == 5  # four functions + API access logs
        assert {g["Properties"]["RetentionInDays"] for g in groups} == {days}
