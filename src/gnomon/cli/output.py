"""Rendering rows for the terminal (rich table), for files (CSV) and for scripts (JSON).

And one error boundary: SDK exceptions become a one-line message on stderr and exit code 1
(2 for bad usage), instead of a traceback, with the request id to quote.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from gnomon.client import APIConnectionError, APIError, ValidationError

P = ParamSpec("P")
R = TypeVar("R")


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def render(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str] | None = None,
    fmt: Format = Format.table,
    *,
    title: str | None = None,
) -> None:
    cols = list(columns or (list(rows[0]) if rows else []))
    if fmt is Format.json:
        typer.echo(json.dumps(list(rows), indent=2, default=str))
    elif fmt is Format.csv:
        typer.echo(to_csv(rows, cols), nl=False)
    else:
        table = Table(title=title)
        for c in cols:
            table.add_column(c)
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in cols))
        Console().print(table)


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def api_errors() -> Iterator[None]:
    """Turn SDK errors into a readable message and a non-zero exit."""
    try:
        yield
    except ValidationError as exc:
        typer.echo(f"error: {exc}", err=True)
        for detail in exc.details:
            path = ".".join(str(p) for p in detail.get("path", []))
            typer.echo(f"  - {path or '(body)'}: {detail.get('message', detail)}", err=True)
        raise typer.Exit(1) from exc
    except APIError as exc:
        raise fail(str(exc)) from exc
    except APIConnectionError as exc:
        raise fail(exc.message) from exc


def handles_api_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`api_errors` for command functions."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with api_errors():
            return fn(*args, **kwargs)

    return wrapper


def write_text(text: str, output: str | None) -> None:
    """To a file, or to stdout for ``-``/None."""
    if output and output != "-":
        with open(output, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
