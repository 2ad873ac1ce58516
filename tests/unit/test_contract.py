"""The OpenAPI document says what the API does: valid, the real errors, IAM on /stats, enums, q exactly."""

import json

import pytest
from openapi_spec_validator import validate

from musicboxd.api.openapi import openapi_document
from musicboxd.normalize import MAX_QUERY_LENGTH, SEARCHABLE_PATTERN
from musicboxd.routes import ROUTES


@pytest.fixture(scope="module")
def document():
    return openapi_document()


def operations(document):
    return [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def test_the_document_is_valid_openapi(document):
    validate(document)


def test_bad_input_is_documented_as_the_400_envelope_never_422(document):
    text = json.dumps(document)
    assert '"422"' not in text and "HTTPValidationError" not in text and "ValidationError" not in text
    for path, method, op in operations(document):
        if any(p["in"] in ("query", "path") for p in op.get("parameters", [])):
            bad = op["responses"]["400"]["content"]["application/json"]["schema"]
            assert bad == {"$ref": "#/components/schemas/ErrorResponse"}, (path, method)


def test_iam_routes_and_only_they_require_sigv4(document):
    iam = {(r.method.lower(), r.path) for r in ROUTES if r.iam_auth}
    assert iam
    for path, method, op in operations(document):
        assert (op.get("security") == [{"sigv4": []}]) == ((method, path) in iam), (path, method)
    scheme = document["components"]["securitySchemes"]["sigv4"]
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4" and scheme["name"] == "Authorization"
    assert "401" in document["paths"]["/stats"]["get"]["responses"]


def test_source_and_type_are_enums(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["SearchResponse"]["properties"]["source"]["enum"]) == {
        "cache", "spotify", "popular", "stale", "musicbrainz", "cache-only"
    }  # fmt: skip
    assert set(schemas["AlbumResponse"]["properties"]["source"]["enum"]) == {"cache", "spotify", "stale"}
    suggest_source = schemas["SuggestResponse"]["properties"]["source"]
    assert suggest_source.get("enum", [suggest_source.get("const")]) == ["index"]
    assert set(schemas["SuggestItem"]["properties"]["type"]["enum"]) == {"album", "artist"}


@pytest.mark.parametrize("path", ["/search", "/suggest"])
def test_q_is_documented_exactly_as_accepted(document, path):
    (q,) = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "q"]
    assert q["required"] and q["schema"]["maxLength"] == MAX_QUERY_LENGTH
    assert q["schema"]["pattern"] == SEARCHABLE_PATTERN


def test_cacheable_answers_document_revalidation(document):
    for path in ("/search", "/albums/{id}", "/suggest", "/health"):
        op = document["paths"][path]["get"]
        assert "content" not in op["responses"]["304"] and "ETag" in op["responses"]["200"]["headers"]
        assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in op["parameters"])
