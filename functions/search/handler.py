"""Search function: GET /search, /health, /openapi.json, /docs."""

from musicboxd.api.lambda_entry import make_handler

handler = make_handler("search")
