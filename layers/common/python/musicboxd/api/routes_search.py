"""GET /search."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import Router

from musicboxd.api.caller import source_ip
from musicboxd.api.errors import BadRequest
from musicboxd.api.pages import MAX_OFFSET, page_links
from musicboxd.api.schemas import (
    CACHE_HEADERS,
    ERROR_RESPONSES,
    NOT_MODIFIED,
    X_CACHE_HEADER,
    QueryText,
    SearchResponse,
)
from musicboxd.normalize import QueryTooLong

router = Router()


@router.get(
    "/search",
    summary="Search albums",
    description="Albums matching `q`, in Spotify's order. Served from the cache when possible.",
    responses={
        200: {"description": "Search results", "headers": {**X_CACHE_HEADER, **CACHE_HEADERS}},
        **NOT_MODIFIED,
        **ERROR_RESPONSES,
    },
)
def search(
    q: QueryText,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response[SearchResponse]:
    from musicboxd.wiring import container

    query = q.strip()  # validated: at most 200 characters, at least one searchable
    try:
        answer = container().search_service.search(query, limit=limit, offset=offset, client=source_ip(router))
    except QueryTooLong as exc:
        raise BadRequest(str(exc), code="query_too_long") from exc
    except ValueError as exc:  # nothing searchable left (e.g. only control characters)
        raise BadRequest(f"q has nothing searchable: {exc}") from exc
    page = answer.value
    links = page_links(query, limit=limit, offset=offset, total=page.total, returned=len(page.items))
    albums = [a.model_dump() | ({"id": None} if answer.source == "musicbrainz" else {}) for a in page.items]
    fields = {"query": query, "limit": limit, "offset": offset, "total": page.total, "albums": albums}
    links_fields = {"next": links.next, "prev": links.prev, "last_page": links.last_page}
    body = SearchResponse.model_validate({**fields, "source": answer.source, **links_fields})
    return Response(200, content_types.APPLICATION_JSON, body, headers={"X-Cache": answer.cache})
