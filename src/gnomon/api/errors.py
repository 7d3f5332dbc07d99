"""Domain errors → HTTP, in one place, with the flat error body of DESIGN.md §2.

``{"error": "not_found", "message": "…", "details": [...], "request_id": "…"}`` for every
status, so that a client reading ``errorData.message`` (the seed's) always finds it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from gnomon import errors

log = logging.getLogger("gnomon.api")

STATUS: dict[type[errors.GnomonError], int] = {
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PreconditionFailed: 412,
    errors.PayloadTooLarge: 413,
    errors.Invalid: 422,
    errors.RateLimited: 429,
    errors.QueryTimeout: 504,
    errors.QueryError: 400,
    errors.ConfigurationError: 500,
}

HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
    504: "timeout",
}


class ErrorBody(BaseModel):
    """The error body of every non-2xx response."""

    error: str = Field(description="Stable machine-readable code, e.g. `not_found`.")
    message: str = Field(description="Human-readable summary.")
    details: list[dict[str, Any]] = Field(
        default_factory=list, description="Every problem found, each with its `path`."
    )
    request_id: str | None = Field(None, description="Also sent as the `X-Request-Id` header.")


def status_for(exc: errors.GnomonError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    rid = request_id_of(request)
    body = {"error": code, "message": message, "details": list(details), "request_id": rid}
    out_headers = dict(headers or {})
    if rid:
        out_headers["X-Request-Id"] = rid
    return JSONResponse(body, status_code=status, headers=out_headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if p != "body" or len(err.get("loc", ())) == 1]
        item: dict[str, Any] = {
            "code": err.get("type", "invalid"),
            "message": err.get("msg", "invalid value"),
            "path": [str(p) if not isinstance(p, int) else p for p in loc],
        }
        details.append(item)
    return details


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.GnomonError)
    status = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if status >= 500:
        log.error("domain error %s: %s", type(exc).__name__, exc.message)
    details = list(exc.details)
    if isinstance(exc, errors.QueryError) and not details:
        details = [{"error_type": exc.error_type}]
    return error_response(request, status, exc.code, exc.message, details, headers)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = _validation_details(exc)
    summary = "; ".join(
        f"{'.'.join(str(p) for p in d['path']) or 'body'}: {d['message']}" for d in details[:5]
    )
    return error_response(request, 422, "invalid", f"invalid request: {summary}", details)


def _allowed_methods(request: Request) -> str | None:
    """All methods of the path, from the OpenAPI document.

    The router's own 405 names only the methods of the first route that matched the path,
    while one path is often served by several routes (GET list, POST create).
    """
    app = request.app
    index: list[tuple[re.Pattern[str], str]] | None = getattr(app.state, "allow_index", None)
    if index is None:
        index = []
        for path, ops in app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$")
            index.append((pattern, ", ".join(sorted(m.upper() for m in ops))))
        app.state.allow_index = index
    for pattern, methods in index:
        if pattern.match(request.url.path):
            return methods
    return None


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and exc.detail in (None, "Not Found"):
        message = f"no route for {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = allowed
    else:
        message = str(exc.detail)
    return error_response(request, exc.status_code, code, message, (), headers)


async def _on_unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(request, 500, "internal_error", "internal server error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.GnomonError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unhandled)


def common_responses() -> dict[int | str, dict[str, Any]]:
    """Error responses every authenticated operation can return (documented in OpenAPI)."""
    described = {
        400: "Bad request",
        401: "Missing, invalid, expired or revoked API key",
        403: "The key is valid but lacks the right",
        404: "Not found (also for another organization's resources)",
        409: "Conflict",
        413: "Request body too large",
        422: "Invalid input; `details` lists every problem",
        429: "Rate limited; see `Retry-After`",
    }
    return {code: {"model": ErrorBody, "description": text} for code, text in described.items()}
