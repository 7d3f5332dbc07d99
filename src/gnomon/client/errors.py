"""Exceptions raised by the SDK, one class per kind of failure.

Every HTTP error carries what the server's flat error body says (``error``, ``message``,
``details``, ``request_id``) so that a failure can be quoted to whoever runs the server: the
``request_id`` finds the matching log line. The class is chosen by status code from a table,
the way the seed's ``OmniAPIClient`` switches on ``response.status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "AuthorizationError",
    "BadRequestError",
    "ConflictError",
    "GnomonClientError",
    "NotFoundError",
    "PreconditionFailedError",
    "RateLimitError",
    "ServerError",
    "ValidationError",
    "error_from_response",
]


class GnomonClientError(Exception):
    """Root of everything the SDK raises."""


class APIConnectionError(GnomonClientError):
    """The server could not be reached (or the connection broke) and retries ran out."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url


class APIError(GnomonClientError):
    """The server answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error: str = "error",
        details: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error = error
        self.details: list[dict[str, Any]] = list(details or [])
        self.request_id = request_id
        self.headers: dict[str, str] = dict(headers or {})

    def __str__(self) -> str:
        rid = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.status_code} {self.error}: {self.message}{rid}"


class BadRequestError(APIError):
    """400: the request was understood but cannot be run (e.g. a query the database rejects)."""


class AuthenticationError(APIError):
    """401: missing, invalid, expired or revoked API key."""


class AuthorizationError(APIError):
    """403: the key is valid but lacks the right."""


class NotFoundError(APIError):
    """404: no such resource (also for another organization's resources)."""


class ConflictError(APIError):
    """409: e.g. a name or path that already exists; ``details`` often names the existing id."""


class PreconditionFailedError(APIError):
    """412: an ``If-Match`` precondition did not hold."""


class ValidationError(APIError):
    """422: ``details`` lists every invalid field, each with its ``path``."""


class RateLimitError(APIError):
    """429 after the retries ran out; ``retry_after`` is the server's ``Retry-After``."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


class ServerError(APIError):
    """5xx: the server failed; quote ``request_id`` when reporting it."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthorizationError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    422: ValidationError,
    429: RateLimitError,
}


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds; the HTTP-date form is not sent by gnomon and reads as None."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def error_from_response(response: httpx.Response) -> APIError:
    """Build the exception for an error response, reading the flat error body when present."""
    status = response.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
        code = str(body.get("error") or "error")
        raw_details = body.get("details")
        details = (
            [d for d in raw_details if isinstance(d, dict)] if isinstance(raw_details, list) else []
        )
        rid = body.get("request_id")
    else:
        message = response.text[:500] or response.reason_phrase or f"HTTP {status}"
        code, details, rid = "error", [], None
    request_id = rid if isinstance(rid, str) else response.headers.get("x-request-id")
    return cls(
        message,
        status_code=status,
        error=code,
        details=details,
        request_id=request_id,
        headers={k.lower(): v for k, v in response.headers.items()},
    )
