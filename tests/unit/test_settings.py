"""Settings are declared once: every declaration round-trips through from_env, bounds are enforced."""

from dataclasses import fields

import pytest

from musicboxd.config import Settings, env_names


def _env_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def _other_value(declared):
    """A valid value different from the default, for the declared type and bounds."""
    default = declared.default
    meta = declared.metadata
    if isinstance(default, bool):
        return not default
    if isinstance(default, int | float):
        candidate = type(default)(default + 1)
        if meta["maximum"] is not None and candidate > meta["maximum"]:
            candidate = type(default)(meta["maximum"] - (1 if isinstance(default, int) else 0.5))
        return candidate
    if meta["choices"] is not None:
        choices = meta["choices"]() if callable(meta["choices"]) else meta["choices"]
        if isinstance(default, tuple):
            return tuple(reversed(choices))
        return next(choice for choice in choices if choice != default)
    if isinstance(default, tuple):
        return ("x1", "x2")
    return "http://127.0.0.1:1/other"


@pytest.mark.parametrize("declared", fields(Settings), ids=lambda declared: declared.name)
def test_every_declared_setting_round_trips_through_from_env(declared):
    """Adding a setting is one declaration: from_env reads it without any other edit."""
    assert declared.metadata.get("env"), f"{declared.name} is not declared with setting(...)"
    value = _other_value(declared)
    for name in declared.metadata["env"]:
        settings = Settings.from_env({name: _env_value(value)})
        assert getattr(settings, declared.name) == value
    assert getattr(Settings.from_env({}), declared.name) == declared.default


@pytest.mark.parametrize(
    "env, message",
    [
        ({"POPULATE_SWEEP_FROM_YEAR": "1200"}, "POPULATE_SWEEP_FROM_YEAR must be at least 1900"),
        ({"SPOTIFY_BACKGROUND_FRACTION": "1.5"}, "SPOTIFY_BACKGROUND_FRACTION must be at most 1"),
        ({"SPOTIFY_RATE_LIMIT": "0"}, "SPOTIFY_RATE_LIMIT must be at least 1"),
        ({"ALBUM_TTL_SECONDS": "-5"}, "ALBUM_TTL_SECONDS must be at least 1"),
        ({"L1_CACHE_ITEMS": "many"}, "L1_CACHE_ITEMS must be an integer"),
        ({"HTTP_TIMEOUT_SECONDS": "fast"}, "HTTP_TIMEOUT_SECONDS must be a number"),
        ({"SPOTIFY_MODE": "production"}, "SPOTIFY_MODE must be one of development, extended"),
        ({"POPULATE_SOURCES": "demand,charts"}, "POPULATE_SOURCES must be one of .*'charts'"),
    ],
)
def test_a_value_out_of_bounds_is_refused_naming_the_variable(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_blank_numbers_keep_their_default_and_values_are_cleaned():
    settings = Settings.from_env(
        {"L1_CACHE_ITEMS": " ", "SPOTIFY_MODE": " Extended ", "SPOTIFY_API_URL": "http://x/v1/", "SPOTIFY_MARKET": ""}
    )
    assert settings.l1_cache_items == 512
    assert settings.extended and settings.search_page_cap == 50
    assert settings.spotify_api_url == "http://x/v1"
    assert settings.spotify_market == "US"
    assert Settings.from_env({"AWS_ENDPOINT_URL": "http://e"}).dynamodb_endpoint_url == "http://e"
    assert Settings.from_env(
        {"DYNAMODB_ENDPOINT_URL": "http://d", "AWS_ENDPOINT_URL": "http://e"}
    ).ssm_endpoint_url == ("http://e")


def test_secrets_stay_out_of_the_repr():
    settings = Settings.from_env({"SPOTIFY_CLIENT_ID": "id-123", "SPOTIFY_CLIENT_SECRET": "shh-456"})
    assert settings.spotify_client_secret == "shh-456"
    assert "shh-456" not in repr(settings) and "id-123" not in repr(settings)


def test_env_names_are_unique_per_setting():
    primary = [declared.metadata["env"][0] for declared in fields(Settings)]
    assert len(primary) == len(set(primary))
    assert "POPULATE_CALL_BUDGET" in env_names()
