"""JSON logging: line format, request id from the context variable, extras, configuration."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from gnomon.logging import (
    JsonFormatter,
    configure_logging,
    request_context,
    request_id_var,
)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Configure logging into a buffer; restore the root logger afterwards."""
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    buffer = io.StringIO()
    yield buffer
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
    root.setLevel(saved_level)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_json_line_has_the_standard_fields(stream: io.StringIO) -> None:
    configure_logging("info", json=True, stream=stream)
    logging.getLogger("gnomon.test").info("hello %s", "world")
    [entry] = lines(stream)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "gnomon.test"
    assert entry["message"] == "hello world"
    assert entry["request_id"] is None
    assert entry["ts"].endswith("Z")
    assert datetime.fromisoformat(entry["ts"].replace("Z", "+00:00")).tzinfo is not None


def test_one_object_per_line_even_with_newlines_in_message(stream: io.StringIO) -> None:
    configure_logging("info", json=True, stream=stream)
    logging.getLogger("gnomon.test").info("first\nsecond")
    logging.getLogger("gnomon.test").info("third")
    assert len(stream.getvalue().splitlines()) == 2
    assert lines(stream)[0]["message"] == "first\nsecond"


def test_request_id_comes_from_context_var(stream: io.StringIO) -> None:
    configure_logging("info", json=True, stream=stream)
    with request_context("req-123"):
        logging.getLogger("gnomon.test").info("inside")
    logging.getLogger("gnomon.test").info("outside")
    inside, outside = lines(stream)
    assert inside["request_id"] == "req-123"
    assert outside["request_id"] is None
    assert request_id_var.get() is None


def test_concurrent_tasks_keep_their_own_request_ids(stream: io.StringIO) -> None:
    configure_logging("info", json=True, stream=stream)
    log = logging.getLogger("gnomon.test")

    async def handle(rid: str) -> None:
        request_id_var.set(rid)
        await asyncio.sleep(0)
        log.info("step", extra={"expected": rid})
        await asyncio.sleep(0)
        log.info("step", extra={"expected": rid})

    async def main() -> None:
        await asyncio.gather(*(handle(f"r{i}") for i in range(5)))

    asyncio.run(main())
    entries = lines(stream)
    assert len(entries) == 10
    assert all(e["request_id"] == e["expected"] for e in entries)


def test_extra_fields_are_included_and_unencodable_values_stringified(
    stream: io.StringIO,
) -> None:
    configure_logging("info", json=True, stream=stream)
    logging.getLogger("gnomon.test").info(
        "query ran", extra={"duration_ms": 12.5, "topic": "orders", "when": object}
    )
    [entry] = lines(stream)
    assert entry["duration_ms"] == 12.5
    assert entry["topic"] == "orders"
    assert entry["when"] == str(object)
    assert "args" not in entry
    assert "levelno" not in entry


def test_exceptions_are_logged_with_traceback(stream: io.StringIO) -> None:
    configure_logging("info", json=True, stream=stream)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("gnomon.test").exception("failed")
    [entry] = lines(stream)
    assert entry["message"] == "failed"
    assert entry["level"] == "ERROR"
    assert "RuntimeError: boom" in entry["exc_info"]


def test_level_filters_lower_records(stream: io.StringIO) -> None:
    configure_logging("WARNING", json=True, stream=stream)
    log = logging.getLogger("gnomon.test")
    log.info("hidden")
    log.warning("shown")
    assert [e["message"] for e in lines(stream)] == ["shown"]


def test_text_mode_includes_request_id(stream: io.StringIO) -> None:
    configure_logging("debug", json=False, stream=stream)
    with request_context("abc"):
        logging.getLogger("gnomon.test").debug("plain")
    logging.getLogger("gnomon.test").debug("no request")
    first, second = stream.getvalue().splitlines()
    assert "DEBUG" in first
    assert "[abc] plain" in first
    assert "[-] no request" in second


def test_configure_twice_replaces_own_handler_only(stream: io.StringIO) -> None:
    other = logging.NullHandler()
    root = logging.getLogger()
    root.addHandler(other)
    try:
        configure_logging("info", json=True, stream=stream)
        second = io.StringIO()
        configure_logging("info", json=True, stream=second)
        logging.getLogger("gnomon.test").info("once")
        assert stream.getvalue() == ""
        assert len(lines(second)) == 1
        assert other in root.handlers
    finally:
        root.removeHandler(other)


def test_unknown_level_is_rejected_with_choices() -> None:
    with pytest.raises(ValueError, match="unknown log level 'verbose'") as info:
        configure_logging("verbose", json=True)
    assert "DEBUG" in str(info.value)


def test_formatter_standalone_reads_context_var() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "msg", None, None)
    token = request_id_var.set("direct")
    try:
        entry = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert entry["request_id"] == "direct"
