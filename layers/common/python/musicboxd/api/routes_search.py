"""GET /search."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import Router

from musicboxd.api.caller import source_ip
from musicboxd.api.errors import BadRequest
from musicboxd.api.schemas import ERROR_RESPONSES, X_CACHE_HEADER, SearchResponse
from musicboxd.normalize import MAX_QUERY_LENGTH, QueryTooLong

router = Router()

# 1-200 characters once leading/trailing whitespace is trimmed (what the handler checks).
QUERY_PATTERN = rf"^\s*\S(?:[\s\S]{{0,{MAX_QUERY_LENGTH - 2}}}\S)?\s*$"


@router.get(
    "/search",
    summary="Search albums",
    description="Albums matching `q`, in Spotify's order. Served from the cache when possible.",
    responses={200: {"description": "Search results", "headers": X_CACHE_HEADER}, **ERROR_RESPONSES},
)
def search(
    q: Annotated[
        str,
        Query(
            description=f"1-{MAX_QUERY_LENGTH} characters after trimming whitespace, with at least one letter, digit "
            "or symbol (control and format characters alone are not searchable)",
            max_length=4096,
            pattern=QUERY_PATTERN,
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> Response[SearchResponse]:
    from musicboxd.wiring import container

    query = q.strip()
    if not query or len(query) > MAX_QUERY_LENGTH:
        raise BadRequest(f"q must be 1-{MAX_QUERY_LENGTH} characters after trimming")
    try:
        answer = container().search_service.search(query, limit=limit, offset=offset, client=source_ip(router))
    except QueryTooLong as exc:
        raise BadRequest(str(exc), code="query_too_long") from exc
    except ValueError as exc:  # nothing searchable left (e.g. only control characters)
        raise BadRequest(f"q has nothing searchable: {exc}") from exc
    body = SearchResponse(
        query=query,
        limit=limit,
        offset=offset,
        total=answer.value.total,
        albums=answer.value.items,
        source=answer.source,
    )
    return Response(200, content_types.APPLICATION_JSON, body, headers={"X-Cache": answer.cache})
