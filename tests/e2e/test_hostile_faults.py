"""Fault matrix additions of issue 15, over the local API (moto + emulator, real HTTP):
a 200 with an HTML body, 403 from Spotify, empty pages during an incident, SSM throttled.
(DynamoDB unreachable: test_resilience_faults; token expiry across 20 containers:
tests/unit/test_token_stampede.py.)"""

from __future__ import annotations

import time

import pytest

pytest.importorskip("tools.emulator.server", reason="needs the Spotify emulator (tools/emulator)")

from tests.e2e.test_resilience_faults import BOUND, assert_envelope, expire, st, stack, words  # noqa: E402,F401

pytestmark = pytest.mark.timeout(120)

HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def cached_from_spotify(local, seed: int) -> str:
    """A real album name searched once, so Spotify's answer is in the cache (a cold container's
    first request may spend its budget starting up: asked again then)."""
    (query,) = words(local, 1, seed=seed)
    for _ in range(3):
        if local.get("/search", q=query)[0].json().get("source") in ("spotify", "cache"):
            return query
    raise AssertionError(f"{query!r} never answered by Spotify")


def test_a_200_with_an_html_body_degrades_to_the_stale_copy_never_a_400(st):  # noqa: F811
    query = cached_from_spotify(st, seed=41)
    expire(st, "SEARCH#")
    before = st.items()
    st.faults({"path": r"^/v1/search", "status": 200, "body": HTML})
    response, elapsed = st.get("/search", q=query)
    assert response.status_code == 200 and response.json()["source"] == "stale" and elapsed < BOUND
    response, _ = st.get("/search", q="html never cached")
    assert response.status_code != 400 and "Expecting value" not in response.text
    assert response.status_code == 200 or assert_envelope(response, 503)
    assert st.items() == before


def test_403_from_spotify_serves_the_stale_copy_then_fallbacks(st):  # noqa: F811
    query = cached_from_spotify(st, seed=43)
    expire(st, "SEARCH#")
    before = st.items()
    st.faults({"path": r"^/v1/", "status": 403})
    response, elapsed = st.get("/search", q=query)
    assert response.status_code == 200 and response.json()["source"] == "stale" and elapsed < BOUND
    response, _ = st.get("/search", q="forbidden and uncached")
    assert response.status_code == 200 and response.json()["source"] == "musicbrainz"
    assert st.items() == before


def test_empty_pages_during_an_incident_are_cached_briefly_and_provisionally(st):  # noqa: F811
    cached_from_spotify(st, seed=47)  # a warm container: the incident starts after it
    empty = {"albums": {"href": "", "items": [], "limit": 10, "next": None, "offset": 0, "previous": None, "total": 0}}
    st.faults({"path": r"^/v1/search", "status": 200, "body": empty})
    response, _ = st.get("/search", q="incident query")
    assert response.status_code == 200 and response.json()["total"] == 0
    st.clear_faults()
    items = {key: item for key, item in st.items().items() if "incident query" in key[0]}
    assert len(items) == 1
    (item,) = items.values()
    assert float(item["expires_at"]["N"]) <= time.time() + 3600 + 5  # the negative TTL, not 30 days
    assert item["tier"]["S"] == "provisional"  # kept out of the tier-1 index


def test_ssm_throttled_a_cold_container_still_answers(st, monkeypatch):  # noqa: F811
    from moto.ssm.models import SimpleSystemManagerBackend

    from musicboxd import wiring

    def throttled(*args, **kwargs):
        from moto.core.exceptions import JsonRESTError

        raise JsonRESTError("ThrottlingException", "Rate exceeded")

    for name in ("get_parameter", "get_parameters", "put_parameter"):
        monkeypatch.setattr(SimpleSystemManagerBackend, name, throttled)
    wiring.set_container(None)  # a cold container: no token in memory, the shared one unreadable
    (query,) = words(st, 1, seed=53)
    response, elapsed = st.get("/search", q=query)
    if response.json().get("source") != "spotify":  # a cold start on a loaded machine may spend the budget
        response, elapsed = st.get("/search", q=query)
    assert response.status_code == 200 and response.json()["source"] == "spotify" and elapsed < BOUND
