"""Whose address per-client rules count: the viewer's behind our CloudFront, API Gateway's otherwise."""

import pytest

from musicboxd.api.client_address import client_address

SECRET = "4f1c2a9e-0000-11ef-8000-0a1b2c3d4e5f"


def event(headers: dict[str, str], source_ip: str = "130.176.1.10") -> dict:
    return {"headers": headers, "requestContext": {"identity": {"sourceIp": source_ip}}}


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("198.51.100.7:46532", "198.51.100.7"),
        ("2001:db8::1:46532", "2001:db8::1"),
        ("[2001:db8::2]:443", "2001:db8::2"),
    ],
)
def test_behind_our_distribution_the_viewer_is_counted(viewer, expected):
    headers = {"CloudFront-Viewer-Address": viewer, "X-Musicboxd-Edge": SECRET}
    assert client_address(event(headers), SECRET) == expected


@pytest.mark.parametrize(
    "headers",
    [
        {"CloudFront-Viewer-Address": "198.51.100.7:1"},  # no proof: a direct call forging the header
        {"CloudFront-Viewer-Address": "198.51.100.7:1", "X-Musicboxd-Edge": "guess"},
        {"X-Musicboxd-Edge": SECRET},  # proof but no viewer address
        {},
    ],
)
def test_otherwise_api_gateways_source_ip_is_counted(headers):
    assert client_address(event(headers), SECRET) == "130.176.1.10"


def test_without_a_distribution_the_header_is_never_believed():
    headers = {"CloudFront-Viewer-Address": "198.51.100.7:1", "X-Musicboxd-Edge": ""}
    assert client_address(event(headers), "") == "130.176.1.10"
    assert client_address({"headers": None}, "") == "unknown"


def test_the_per_client_shares_count_the_viewer_behind_our_distribution(monkeypatch):
    from types import SimpleNamespace

    from musicboxd import config
    from musicboxd.api.caller import source_ip

    monkeypatch.setenv("EDGE_ORIGIN_SECRET", SECRET)
    config.settings.cache_clear()
    try:
        behind = event({"CloudFront-Viewer-Address": "198.51.100.7:1", "X-Musicboxd-Edge": SECRET})
        assert source_ip(SimpleNamespace(current_event=SimpleNamespace(raw_event=behind))) == "198.51.100.7"
        direct = event({"CloudFront-Viewer-Address": "198.51.100.7:1"})
        assert source_ip(SimpleNamespace(current_event=SimpleNamespace(raw_event=direct))) == "130.176.1.10"
    finally:
        monkeypatch.delenv("EDGE_ORIGIN_SECRET")
        config.settings.cache_clear()
