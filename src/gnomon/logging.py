"""Structured logging: one JSON object per line, tagged with the current request id.

Why JSON lines: log shippers (Loki, CloudWatch, Datadog, ``jq``) parse them without a grammar,
and fields passed as ``extra=`` stay queryable instead of being melted into the message. The
request id travels in a context variable, set once by the API middleware, so code deep in a
service logs it without having it passed down (and concurrent requests never mix ids up).

This module is named ``logging`` inside the ``gnomon`` package; absolute imports keep
``import logging`` here pointing at the standard library.
"""

from __future__ import annotations

import json as _json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = [
    "JsonFormatter",
    "RequestIdFilter",
    "configure_logging",
    "request_context",
    "request_id_var",
]

request_id_var: ContextVar[str | None] = ContextVar("gnomon_request_id", default=None)
"""The id of the request being served; ``None`` outside a request (startup, worker jobs)."""

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName"}
)

TEXT_FORMAT = "%(asctime)s %(levelname)-8s %(name)s [%(request_id)s] %(message)s"

# Marks the handler configure_logging installed, so that calling it again replaces that handler
# and leaves alone the ones others (pytest, uvicorn, an embedding app) attached.
_HANDLER_MARK = "_gnomon_handler"


class RequestIdFilter(logging.Filter):
    """Copies the current request id onto each record as ``record.request_id``.

    Filters run in the emitting context, so the context variable is read in the right request
    even when the handler formats later.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: ``ts level logger message request_id`` + extras.

    ``ts`` is UTC ISO 8601 with milliseconds. Extra values that JSON cannot encode are written
    with ``str()`` rather than dropping the line: a log call must never raise.
    """

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        if request_id in (None, "-"):
            request_id = request_id_var.get()
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id,
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_") and key not in out:
                out[key] = value
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack_info"] = self.formatStack(record.stack_info)
        return _json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(level: str, json: bool, *, stream: TextIO | None = None) -> None:
    """Send the root logger's output to ``stream`` (stderr by default), as JSON or text.

    Idempotent: a second call replaces the handler the first one installed. ``level`` is a
    standard level name (``debug``, ``INFO``, ``warning`` …); an unknown name is a ValueError
    naming the accepted ones, so a typo in ``GNOMON_LOG_LEVEL`` fails at startup.
    """
    names = logging.getLevelNamesMapping()
    numeric = names.get(level.strip().upper())
    if numeric is None:
        accepted = ", ".join(n for n in names if n not in ("NOTSET", "WARN", "FATAL"))
        raise ValueError(f"unknown log level {level!r}; use one of: {accepted}")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if json else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(numeric)


@contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Tag every log line inside the block with ``request_id`` (worker jobs, CLI commands)."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)
