"""Operational endpoints: health, readiness, metrics, API docs (served from packaged assets)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import text

from gnomon import __version__

router = APIRouter(include_in_schema=False)

# Swagger UI ships inside the `fastapi-swagger` wheel: no CDN, so docs work offline.
_ASSETS = {
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}

_DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gnomon API</title>
<link rel="stylesheet" href="/api/v1/docs/assets/swagger-ui.css">
<link rel="icon" href="/api/v1/docs/assets/favicon-32x32.png"></head>
<body><div id="ui"></div>
<script src="/api/v1/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#ui", deepLinking: true,
persistAuthorization: true});</script></body></html>"""


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    try:
        with request.app.state.store.engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any failure to reach the store means "not ready"
        return JSONResponse(
            {
                "error": "unavailable",
                "message": f"metadata store unreachable: {type(exc).__name__}",
                "details": [],
                "request_id": getattr(request.state, "request_id", None),
            },
            status_code=503,
        )
    return JSONResponse({"status": "ready"})


@router.get("/metrics")
def metrics(request: Request) -> Response:
    body, content_type = request.app.state.metrics.render()
    return Response(body, media_type=content_type)


@router.get("/api/v1/docs")
def docs() -> HTMLResponse:
    return HTMLResponse(_DOCS_HTML)


@router.get("/api/v1/docs/assets/{name}")
def docs_asset(name: str) -> Response:
    if name not in _ASSETS:
        return JSONResponse(
            {
                "error": "not_found",
                "message": f"no asset {name}",
                "details": [],
                "request_id": None,
            },
            status_code=404,
        )
    data = resources.files("fastapi_swagger").joinpath("resources", name).read_bytes()
    return Response(
        data, media_type=_ASSETS[name], headers={"Cache-Control": "public, max-age=86400"}
    )
