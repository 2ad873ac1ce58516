"""Search function: GET /search, /suggest, /stats, /health, /openapi.json, /docs."""

from musicboxd.api import openapi, routes_meta, routes_search, routes_stats, routes_suggest
from musicboxd.api.app import create_app
from musicboxd.api.lambda_entry import http_handler

app = create_app()
app.include_router(routes_search.router)
app.include_router(routes_suggest.router)
app.include_router(routes_stats.router)
app.include_router(routes_meta.router)
app.include_router(openapi.router)

handler = http_handler(app, function="search")
