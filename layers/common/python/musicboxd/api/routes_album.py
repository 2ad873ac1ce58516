"""GET /albums/{id}."""

import re
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import Router

from musicboxd.api.caller import source_ip
from musicboxd.api.errors import BadRequest
from musicboxd.api.schemas import ERROR_RESPONSES, X_CACHE_HEADER, AlbumResponse

router = Router()

SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")


@router.get(
    "/albums/<id>",
    summary="Album page",
    description="The album with every track (all pages), served from the cache when possible.",
    responses={200: {"description": "The album", "headers": X_CACHE_HEADER}, **ERROR_RESPONSES},
)
def album(
    id: Annotated[str, Path(description="22-character base62 Spotify album id", pattern=SPOTIFY_ID.pattern)],  # noqa: A002
) -> Response[AlbumResponse]:
    from musicboxd.wiring import container

    if not SPOTIFY_ID.match(id):
        raise BadRequest("id must be a 22-character base62 Spotify id", code="invalid_id")
    answer = container().album_service.get(id, client=source_ip(router))
    body = AlbumResponse(**answer.value.model_dump(), source=answer.source)
    return Response(200, content_types.APPLICATION_JSON, body, headers={"X-Cache": answer.cache})
