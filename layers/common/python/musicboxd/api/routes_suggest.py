"""GET /suggest: typeahead from the tier-1 index only (never Spotify)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import Router

from musicboxd.api.errors import BadRequest
from musicboxd.api.schemas import (
    BAD_REQUEST,
    CACHE_HEADERS,
    NOT_MODIFIED,
    THROTTLED,
    QueryText,
    SuggestItem,
    SuggestResponse,
)
from musicboxd.normalize import normalize_query

router = Router()


@router.get(
    "/suggest",
    summary="Search-as-you-type suggestions",
    description="Albums and artists whose names match every word of `q`, the last one as a prefix "
    "(accent- and case-insensitive, any script). Answered from the popular tier's index only: "
    "never calls Spotify, so it may suggest nothing for albums outside the popular tier.",
    responses={
        200: {"description": "Suggestions, best first", "headers": CACHE_HEADERS},
        **NOT_MODIFIED,
        **BAD_REQUEST,
        **THROTTLED,
    },
)
def suggest(
    q: QueryText,
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
) -> Response[SuggestResponse]:
    from musicboxd.wiring import container

    query = q.strip()  # validated: at most 200 characters, at least one searchable
    if not normalize_query(query):
        raise BadRequest("q has nothing searchable")
    found = container().tier1.suggest(query, limit=limit)
    body = SuggestResponse(
        query=query,
        limit=limit,
        suggestions=[SuggestItem(**s.__dict__) for s in found],
        source="index",
    )
    return Response(200, content_types.APPLICATION_JSON, body, headers={"X-Cache": "HIT"})
