"""GET /health."""

from aws_lambda_powertools.event_handler.router import Router

from musicboxd.api.schemas import CACHE_HEADERS, NOT_MODIFIED, THROTTLED, Health

router = Router()


@router.get(
    "/health",
    summary="Liveness",
    responses={200: {"description": "Alive", "headers": CACHE_HEADERS}, **NOT_MODIFIED, **THROTTLED},
)
def health() -> Health:
    return Health(status="ok")
