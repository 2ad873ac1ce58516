"""What Powertools cannot say in the generated OpenAPI document, said once.

- Bad input is answered 400 in the error envelope (``create_app``), never 422
  ``HTTPValidationError``: Powertools adds that response to every validated operation.
- Routes marked ``iam_auth`` in ``musicboxd.routes`` require SigV4 (API Gateway ``AWS_IAM``).
- An operation that can answer 304 takes ``If-None-Match`` (``api/http_cache.py``), and its
  304 has no body.
"""

from __future__ import annotations

from typing import Any

from musicboxd.routes import ROUTES

SIGV4 = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "description": "AWS Signature Version 4 (API Gateway AWS_IAM authorization; deployed only)",
    "x-amazon-apigateway-authtype": "awsSigv4",
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An ETag of an earlier answer: 304 without body while it is still current",
    "schema": {"type": "string"},
}
POWERTOOLS_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def exact(document: dict[str, Any]) -> dict[str, Any]:
    """The generated document corrected in place (and returned)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            responses.pop("422", None)
            if "304" in responses:
                responses["304"].pop("content", None)  # Powertools gives it the 200's body; a 304 has none
                operation["parameters"] = [*operation.get("parameters", []), IF_NONE_MATCH]
    components = document.setdefault("components", {})
    for name in POWERTOOLS_VALIDATION_SCHEMAS:
        components.get("schemas", {}).pop(name, None)
    for route in ROUTES:
        operation = document.get("paths", {}).get(route.path, {}).get(route.method.lower())
        if route.iam_auth and operation is not None:
            operation["security"] = [{"sigv4": []}]
            components.setdefault("securitySchemes", {})["sigv4"] = SIGV4
    return document
