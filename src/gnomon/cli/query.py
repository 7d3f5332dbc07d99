"""`gnomon query`: run a topic query, print a table, CSV or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gnomon.cli.output import Format, fail, handles_api_errors, render, to_csv, write_text
from gnomon.cli.profiles import ProfileOption, client_for

app = typer.Typer(help="Run queries against the semantic model.")


def _value(text: str) -> Any:
    """``status=shipped`` → "shipped"; ``amount={"gt": 100}`` / ``ids=[1,2]`` → parsed JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _filters(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or not field:
            raise typer.BadParameter(f"filter {pair!r} is not FIELD=VALUE")
        out[field.strip()] = _value(value)
    return out


def _body_from_file(path: str) -> dict[str, Any]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    body = json.loads(text)
    if not isinstance(body, dict):
        raise typer.BadParameter("the query body must be a JSON object")
    return body


@app.command("query")
@handles_api_errors
def query(
    topic: Annotated[str | None, typer.Argument(help="Topic to query.")] = None,
    dimension: Annotated[
        list[str] | None, typer.Option("--dimension", "-d", help="Dimension (repeatable).")
    ] = None,
    measure: Annotated[
        list[str] | None, typer.Option("--measure", "-m", help="Measure (repeatable).")
    ] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option("--filter", "-F", help='FIELD=VALUE; VALUE may be JSON ({"gt": 5}).'),
    ] = None,
    sort: Annotated[
        list[str] | None, typer.Option("--sort", "-s", help="Field, `-field` = descending.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Row limit.")] = None,
    body: Annotated[
        str | None, typer.Option("--body", "-b", help="JSON request body file (`-` = stdin).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
    show_sql: Annotated[bool, typer.Option("--sql", help="Print the SQL only.")] = False,
    profile: ProfileOption = None,
) -> None:
    """Run a query: `gnomon query orders -d orders.status -m orders.count -F orders.status=paid`,
    or the seed's JSON body with `--body report.json`."""
    request: dict[str, Any] = _body_from_file(body) if body else {}
    if topic:
        request["topic"] = topic
    if dimension:
        request["dimensions"] = list(dimension)
    if measure:
        request["measures"] = list(measure)
    if filter_:
        request["filters"] = {**request.get("filters", {}), **_filters(filter_)}
    if sort:
        request["sorts"] = list(sort)
    if limit is not None:
        request["limit"] = limit
    if show_sql:
        request["plan_only"] = True
    if "topic" not in request:
        raise fail("give a TOPIC or a --body with a topic", 2)
    with client_for(profile) as gn:
        result = gn.queries.run(request)
    if show_sql:
        typer.echo(result.sql or "")
        return
    if output:
        text = (
            to_csv(result.rows, result.columns)
            if fmt is Format.csv
            else json.dumps(result.rows, indent=2, default=str) + "\n"
        )
        write_text(text, output)
        typer.echo(f"{len(result)} rows written to {output}", err=True)
        return
    render(result.rows, result.columns, fmt, title=result.name)
