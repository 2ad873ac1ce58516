"""/openapi.json is served from the file generated at build time, and that file is current."""

from __future__ import annotations

import pytest

from musicboxd.api import openapi


def test_the_published_file_is_the_document_the_code_generates():
    assert openapi.published_document() == openapi.openapi_document(), "stale openapi.json: run `make openapi`"


def test_openapi_json_is_answered_from_the_file_without_generating(monkeypatch: pytest.MonkeyPatch):
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    def generate() -> dict:
        raise AssertionError("generated at request time")

    monkeypatch.setattr(openapi, "openapi_document", generate)
    app = APIGatewayRestResolver()
    app.include_router(openapi.router)
    event = {"httpMethod": "GET", "path": "/openapi.json", "resource": "/openapi.json", "headers": {},
             "multiValueHeaders": {}, "queryStringParameters": None, "requestContext": {"stage": "test"}}  # fmt: skip
    response = app.resolve(event, None)
    assert response["statusCode"] == 200
    assert '"openapi"' in response["body"] and '"/search"' in response["body"]
