"""GET /health, /openapi.json and /docs (Swagger UI)."""

from aws_lambda_powertools.event_handler import Response, content_types
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


def openapi_document() -> dict:
    """The whole public API, whichever function serves each route."""
    from musicboxd import __version__
    from musicboxd.api.app import TITLE, create_app
    from musicboxd.api.contract import exact
    from musicboxd.api.routers import all_routers

    app = create_app(*all_routers())
    return exact(
        app.get_openapi_schema(title=TITLE, version=__version__).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
    )


@router.get("/openapi.json", include_in_schema=False)
def openapi_json():
    return Response(200, content_types.APPLICATION_JSON, openapi_document())


SWAGGER_HTML = """<!doctype html><html><head><title>Musicboxd API</title>
<meta charset="utf-8"><link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: location.pathname.replace(/docs\\/?$/, "openapi.json"), dom_id: "#ui"});</script>
</body></html>"""


@router.get("/docs", include_in_schema=False)
def docs():
    return Response(200, content_types.TEXT_HTML, SWAGGER_HTML)
