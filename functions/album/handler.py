"""Album function: GET /albums/{id}."""

from musicboxd.api.lambda_entry import make_handler

handler = make_handler("album")
