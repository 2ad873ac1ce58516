"""Property tests (hypothesis): query normalization, and hostile input at the HTTP edge."""

from __future__ import annotations

import json
import unicodedata
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicboxd import wiring
from musicboxd.normalize import normalize_query
from musicboxd.services.catalog import search_key
from tests.unit.test_api import make_fake
from tools.localstack.apigw import Gateway

LETTERS = st.characters(categories=("Lu", "Ll", "Lt", "Lm", "Lo"))
ANY_TEXT = st.text(st.characters(), max_size=60)
SPACES = st.text(st.sampled_from(" \t\n\u00a0\u2003\u3000"), min_size=1, max_size=3)


@given(ANY_TEXT)
def test_normalization_is_idempotent(text):
    once = normalize_query(text)
    assert normalize_query(once) == once


@given(st.text(LETTERS, min_size=1, max_size=30))
def test_letters_of_every_script_are_kept(text):
    out = normalize_query(text)
    assert out, f"{text!r} lost every letter"
    assert any(unicodedata.category(ch)[0] == "L" for ch in out)
    assert not any(unicodedata.category(ch)[0] == "C" for ch in out)  # no control/format leftovers
    # each input letter leaves its (normalized, case-folded) self in the key
    for ch in text:
        assert normalize_query(ch) in out


@given(st.lists(st.text(LETTERS, min_size=1, max_size=8), min_size=1, max_size=4), SPACES, SPACES)
def test_equal_queries_map_to_one_key(words, sep, pad):
    base = " ".join(words)
    variants = [
        base,
        pad + sep.join(words) + pad,  # any whitespace, any amount
        unicodedata.normalize("NFD", base),  # decomposed accents
        unicodedata.normalize("NFKC", base),
        base.casefold(),
    ]
    keys = {search_key("US", normalize_query(v), offset=0, limit=20) for v in variants}
    assert len(keys) == 1


@given(st.text(st.characters(codec="ascii", categories=("Lu", "Ll")), min_size=1, max_size=20))
def test_case_does_not_matter(text):
    assert normalize_query(text.upper()) == normalize_query(text.lower())


@pytest.fixture(scope="module")
def gateway():
    fake = make_fake()
    wiring.set_container(fake)
    yield Gateway(), fake
    wiring.set_container(None)


def _call(gateway, path):
    status, headers, body = gateway.invoke("GET", path, {"Host": "localhost"}, b"")
    return status, json.loads(body)


def _assert_not_5xx(status, body):
    assert status < 500, body
    if status >= 400:
        assert set(body) == {"error"} and body["error"]["status"] == status and body["error"]["code"]
    else:
        assert body["source"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_any_bytes_in_q_give_a_4xx_envelope_or_an_answer_never_5xx(gateway, raw):
    gw, _ = gateway
    status, body = _call(gw, "/search?q=" + quote(raw, safe=""))
    _assert_not_5xx(status, body)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=60))
def test_any_bytes_in_album_id_give_a_4xx_envelope_never_5xx(gateway, raw):
    gw, _ = gateway
    status, body = _call(gw, "/albums/" + quote(raw, safe=""))
    _assert_not_5xx(status, body)
    if status == 200:
        assert len(body["id"]) == 22


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=20), st.binary(max_size=20))
def test_any_bytes_in_limit_and_offset_never_5xx(gateway, limit, offset):
    gw, _ = gateway
    status, body = _call(gw, f"/search?q=x&limit={quote(limit, safe='')}&offset={quote(offset, safe='')}")
    _assert_not_5xx(status, body)
