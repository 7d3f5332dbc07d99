"""`gnomon keys create|list|revoke`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from gnomon.cli.output import Format, handles_api_errors, render
from gnomon.cli.profiles import ProfileOption, client_for

app = typer.Typer(no_args_is_help=True, help="API keys of the organization.")

COLUMNS = ["id", "name", "kind", "prefix", "user_id", "status", "created_at", "last_used_at"]


@app.command("create")
@handles_api_errors
def create(
    name: Annotated[str, typer.Argument(help="A name that says what the key is for.")],
    kind: Annotated[str, typer.Option(help="organization | personal.")] = "personal",
    user_id: Annotated[str | None, typer.Option(help="Owner of a personal key.")] = None,
    expires_at: Annotated[datetime | None, typer.Option(help="Expiry (ISO 8601).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the secret.")] = False,
    profile: ProfileOption = None,
) -> None:
    """Create a key; its secret is printed once."""
    with client_for(profile) as gn:
        key = gn.api_keys.create(
            name=name,
            kind=kind,
            user_id=user_id,
            expires_at=expires_at.isoformat() if expires_at else None,
        )
    if quiet:
        typer.echo(key.secret)
        return
    typer.echo(f"created key {key.id} ({key.kind}) {key.name!r}")
    typer.echo(f"secret (shown once, store it now): {key.secret}")


@app.command("list")
@handles_api_errors
def list_keys(
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    profile: ProfileOption = None,
) -> None:
    """List every key of the organization (no secrets)."""
    with client_for(profile) as gn:
        rows = [k.model_dump(mode="json") for k in gn.api_keys.iter()]
    render(rows, COLUMNS, fmt, title="API keys")


@app.command("revoke")
@handles_api_errors
def revoke(
    key_ids: Annotated[list[str], typer.Argument(help="Key id(s) to revoke.")],
    profile: ProfileOption = None,
) -> None:
    """Revoke keys; they stop working on the next request."""
    with client_for(profile) as gn:
        for key_id in key_ids:
            gn.api_keys.revoke(key_id)
            typer.echo(f"revoked {key_id}")
