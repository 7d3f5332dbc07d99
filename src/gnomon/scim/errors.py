"""SCIM error bodies (RFC 7644 §3.12) for everything under ``/scim/v2``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from scim2_models import SCIMException
from starlette.exceptions import HTTPException as StarletteHTTPException

from gnomon import errors
from gnomon.api.errors import status_for

SCIM_JSON = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

# gnomon errors → SCIM's scimType, where SCIM has one.
SCIM_TYPES: dict[type[errors.GnomonError], str] = {
    errors.Conflict: "uniqueness",
    errors.Invalid: "invalidValue",
}


class ScimError(errors.GnomonError):
    """An error SCIM names precisely (status and ``scimType``)."""

    code = "scim_error"

    def __init__(self, status: int, message: str, scim_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.scim_type = scim_type


def error_response(
    request: Request, status: int, detail: str, scim_type: str | None = None
) -> JSONResponse:
    body = error_body(status, detail, scim_type)
    headers = {}
    rid = getattr(request.state, "request_id", None)
    if rid:
        headers["X-Request-Id"] = rid
    return JSONResponse(body, status_code=status, media_type=SCIM_JSON, headers=headers)


def describe(exc: Exception) -> tuple[int, str, str | None]:
    """``(status, detail, scimType)`` of an error raised while serving a SCIM operation: a
    gnomon domain error, a SCIM error from scim2-models or a pydantic validation error."""
    if isinstance(exc, ScimError):
        return exc.status, exc.message, exc.scim_type
    if isinstance(exc, errors.GnomonError):
        status = status_for(exc)
        detail = exc.message
        if exc.details:
            detail += ": " + "; ".join(str(d.get("message", "")) for d in exc.details)
        return (400 if status == 422 else status), detail, SCIM_TYPES.get(type(exc))
    if isinstance(exc, SCIMException):
        error = exc.to_error()
        return int(error.status or 400), str(error.detail), error.scim_type
    if isinstance(exc, ValidationError):
        message = exc.errors()[0]["msg"] if exc.errors() else "invalid value"
        return 400, message, "invalidValue"
    raise TypeError(f"not a SCIM-describable error: {exc!r}") from exc


def error_body(status: int, detail: str, scim_type: str | None) -> dict[str, object]:
    body: dict[str, object] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body


async def _on_described(request: Request, exc: Exception) -> JSONResponse:
    """Domain, scim2-models and pydantic errors: the same description a bulk entry gets."""
    return error_response(request, *describe(exc))


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    return error_response(request, 400, str(first.get("msg", "invalid request")), "invalidValue")


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(request, exc.status_code, str(exc.detail))


def install(app: FastAPI) -> None:
    for described in (ValidationError, errors.GnomonError, SCIMException):
        app.add_exception_handler(described, _on_described)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
