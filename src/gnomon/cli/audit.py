"""`gnomon audit export` (and `audit verify`)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from gnomon.cli.output import fail, handles_api_errors, write_text
from gnomon.cli.profiles import ProfileOption, client_for

app = typer.Typer(no_args_is_help=True, help="The audit log.")


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


@app.command("export")
@handles_api_errors
def export(
    since: Annotated[str | None, typer.Option(help="From (ISO 8601), inclusive.")] = None,
    until: Annotated[str | None, typer.Option(help="Until (ISO 8601), exclusive.")] = None,
    action: Annotated[str | None, typer.Option(help="Event type or prefix (`user.*`).")] = None,
    actor_id: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    target_type: Annotated[str | None, typer.Option(help="Only this target type.")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.csv,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
    profile: ProfileOption = None,
) -> None:
    """Export audit events for compliance: CSV straight from the server, or JSON."""
    filters: dict[str, Any] = {
        "since": since,
        "until": until,
        "action": action,
        "actor_id": actor_id,
        "target_type": target_type,
    }
    with client_for(profile) as gn:
        if fmt is ExportFormat.csv:
            text = gn.audit_events.export_csv(**filters)
        else:
            events = [e.model_dump(mode="json") for e in gn.audit_events.iter(**filters)]
            if fmt is ExportFormat.json:
                text = json.dumps(events, indent=2) + "\n"
            else:
                text = "".join(json.dumps(e) + "\n" for e in events)
    write_text(text, output)


@app.command("verify")
@handles_api_errors
def verify(profile: ProfileOption = None) -> None:
    """Check the audit log's hash chain; exit 1 when it is broken."""
    with client_for(profile) as gn:
        result = gn.audit_events.verify()
    typer.echo(json.dumps(result, indent=2))
    if not result.get("ok"):
        raise fail("the audit chain is broken")
