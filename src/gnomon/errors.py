"""Domain errors.

They carry meaning (what went wrong and where), never an HTTP status: the API layer maps each
class to a status in one place (``gnomon.api.errors``), so that services, the compiler and the
engines stay usable from the CLI, the worker and tests without a web framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One problem found in user input.

    ``path`` locates the problem inside the request (``["tiles", 0, "query", "topic"]``) or the
    model (``["views", "orders", "measures", "total"]``); ``file``/``line`` point into a model
    file when the input came from one; ``hint`` says how to fix it.
    """

    message: str
    path: tuple[str | int, ...] = ()
    code: str = "invalid"
    hint: str | None = None
    file: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "path": list(self.path)}
        if self.hint is not None:
            out["hint"] = self.hint
        if self.file is not None:
            out["file"] = self.file
        if self.line is not None:
            out["line"] = self.line
        return out


class GnomonError(Exception):
    """Root of every error gnomon raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, details: Sequence[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[dict[str, Any]] = list(details or [])


class NotFound(GnomonError):
    code = "not_found"


class Unauthenticated(GnomonError):
    code = "unauthenticated"


class Forbidden(GnomonError):
    code = "forbidden"


class Conflict(GnomonError):
    code = "conflict"


class PreconditionFailed(GnomonError):
    """An ``If-Match`` (or similar) precondition did not hold: someone else changed it first."""

    code = "precondition_failed"


class PayloadTooLarge(GnomonError):
    code = "payload_too_large"


class RateLimited(GnomonError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Invalid(GnomonError):
    """Input that cannot be accepted; lists every problem at once."""

    code = "invalid"

    def __init__(self, message: str, issues: Iterable[Issue] = ()) -> None:
        self.issues: list[Issue] = list(issues)
        super().__init__(message, details=[i.as_dict() for i in self.issues])


class QueryError(GnomonError):
    """A query failed while running. ``error_type`` is from a fixed taxonomy:
    ``timeout``, ``permission_denied``, ``invalid_query``, ``database_error``, ``rate_limited``.
    """

    code = "query_error"

    def __init__(self, message: str, *, error_type: str = "database_error") -> None:
        super().__init__(message)
        self.error_type = error_type


class QueryTimeout(QueryError):
    code = "query_timeout"

    def __init__(self, message: str) -> None:
        super().__init__(message, error_type="timeout")


class ConfigurationError(GnomonError):
    """Settings that must not be used (for example unsafe production settings)."""

    code = "configuration_error"
