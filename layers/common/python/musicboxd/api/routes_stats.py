"""GET /stats: usage analytics from the hourly counters (IAM-authorized when deployed)."""

import time
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import Router

from musicboxd.api.errors import error_response, retry_after_header
from musicboxd.api.schemas import ERROR_RESPONSES, IAM_REFUSED, StatsResponse

router = Router()


@router.get(
    "/stats",
    summary="Usage analytics",
    description="Spotify calls by endpoint and status, average upstream latency and cache hits per tier over "
    "the last `hours` hours (hourly counters kept in the table). IAM-authorized when deployed.",
    responses={200: {"description": "Usage figures"}, **ERROR_RESPONSES, **IAM_REFUSED},
)
def stats(
    hours: Annotated[int, Query(ge=1, le=168, description="Hours to cover, 1-168")] = 24,
) -> Response[StatsResponse]:
    from musicboxd.errors import CacheUnavailable
    from musicboxd.services.usage import last_hours, summarize
    from musicboxd.wiring import container

    keys = last_hours(time.time(), hours)
    try:
        container().usage.flush()  # include what this container has buffered
        rows = container().usage_store.read_hourly(keys)
    except CacheUnavailable:
        return error_response(503, "stats_unavailable", "usage counters are unavailable", retry_after_header(5))
    body = StatsResponse.model_validate(summarize(rows, keys))
    return Response(200, content_types.APPLICATION_JSON, body, headers={"Cache-Control": "no-store"})
