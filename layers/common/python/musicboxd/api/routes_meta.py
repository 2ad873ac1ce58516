"""GET /health."""

from aws_lambda_powertools.event_handler.router import Router

from musicboxd.api.schemas import Health

router = Router()


@router.get("/health", summary="Liveness")
def health() -> Health:
    return Health(status="ok")
