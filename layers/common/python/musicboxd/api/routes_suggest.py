"""GET /suggest: typeahead from the tier-1 index only (never Spotify)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import Router

from musicboxd.api.errors import BadRequest
from musicboxd.api.schemas import ERROR_RESPONSES, SuggestItem, SuggestResponse
from musicboxd.normalize import MAX_QUERY_LENGTH, normalize_query

router = Router()


@router.get(
    "/suggest",
    summary="Search-as-you-type suggestions",
    description="Albums and artists whose names match every word of `q`, the last one as a prefix "
    "(accent- and case-insensitive, any script). Answered from the popular tier's index only: "
    "never calls Spotify, so it may suggest nothing for albums outside the popular tier.",
    responses={200: {"description": "Suggestions, best first"}, 400: ERROR_RESPONSES[400]},
)
def suggest(
    q: Annotated[str, Query(description=f"1-{MAX_QUERY_LENGTH} characters after trimming", max_length=4096)],
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
) -> Response[SuggestResponse]:
    from musicboxd.wiring import container

    query = q.strip()
    if not query or len(query) > MAX_QUERY_LENGTH:
        raise BadRequest(f"q must be 1-{MAX_QUERY_LENGTH} characters after trimming")
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
