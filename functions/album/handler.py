"""Album function: GET /albums/{id}."""

from musicboxd.api import routes_album
from musicboxd.api.app import create_app
from musicboxd.api.lambda_entry import http_handler

app = create_app()
app.include_router(routes_album.router)

handler = http_handler(app, function="album")
