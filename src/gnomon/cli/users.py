"""`gnomon users sync|list`: the seed's HR system integration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from gnomon.cli.output import Format, fail, handles_api_errors, render
from gnomon.cli.profiles import ProfileOption, client_for
from gnomon.cli.users_sync import Action, MappingError, Plan, load_mapping, plan_sync, read_csv
from gnomon.client import Gnomon

app = typer.Typer(no_args_is_help=True, help="Users: list, and sync from an HR export.")


@app.command("list")
@handles_api_errors
def list_users(
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="Filter.")] = None,
    q: Annotated[str | None, typer.Option(help="Part of name or email.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    profile: ProfileOption = None,
) -> None:
    """List users."""
    with client_for(profile) as gn:
        rows = [u.model_dump(mode="json") for u in gn.users.iter(active=active, q=q)]
    render(rows, ["id", "email", "name", "org_role", "active", "groups"], fmt, title="Users")


def _apply(gn: Gnomon, action: Action) -> None:
    if action.kind == "create":
        gn.users.create(action.body)
    elif action.kind == "update":
        assert action.user_id is not None
        gn.users.update(action.user_id, action.body)
    else:
        assert action.user_id is not None
        gn.users.deactivate(action.user_id)


def _summary(plan: Plan, failed: int, dry_run: bool) -> Table:
    table = Table(title="users sync" + (" (dry run: nothing changed)" if dry_run else ""))
    table.add_column("result")
    table.add_column("users", justify="right")
    verb = "to " if dry_run else ""
    for kind in ("create", "update", "deactivate"):
        done = {"create": "created", "update": "updated", "deactivate": "deactivated"}[kind]
        table.add_row(f"{verb}{kind}" if dry_run else done, str(plan.count(kind)))
    table.add_row("unchanged", str(plan.unchanged))
    if not dry_run:
        table.add_row("failed", str(failed))
    return table


def _ensure_prerequisites(gn: Gnomon, plan: Plan, create_missing: bool) -> None:
    missing = sorted(plan.missing_groups) + sorted(plan.missing_attributes)
    if missing and not create_missing:
        raise fail("missing groups/attributes (set create_missing: true): " + ", ".join(missing))
    for name in sorted(plan.missing_attributes):
        gn.user_attributes.create(name=name, type="string")
    results = gn.batch(sorted(plan.missing_groups), lambda g: gn.groups.create(name=g))
    results.raise_for_errors()


@app.command("sync")
@handles_api_errors
def sync(
    csv_path: Annotated[Path, typer.Option("--csv", help="HR export, one user per row.")],
    mapping_path: Annotated[Path, typer.Option("--mapping", help="Mapping YAML.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan only.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=50)] = 10,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every change.")] = False,
    profile: ProfileOption = None,
) -> None:
    """Create, update and deactivate users so that gnomon matches the HR file."""
    console = Console(stderr=True)
    try:
        mapping = load_mapping(mapping_path)
        rows = read_csv(csv_path)
    except MappingError as exc:
        for problem in exc.problems:
            typer.echo(f"  - {problem}", err=True)
        raise fail(f"{len(exc.problems)} problem(s) in the mapping", 2) from exc
    with client_for(profile) as gn:
        me = gn.whoami()
        users = list(gn.users.iter())
        try:
            plan = plan_sync(
                mapping,
                rows,
                users,
                existing_groups={g.name for g in gn.groups.iter()},
                existing_attributes={a.name for a in gn.user_attributes.iter()},
                caller_email=me.email,
            )
        except MappingError as exc:
            for problem in exc.problems:
                typer.echo(f"  - {problem}", err=True)
            raise fail(f"{len(exc.problems)} problem(s) in {csv_path}", 2) from exc
        if verbose or dry_run:
            for action in plan.actions:
                typer.echo(f"{action.kind:<10} {action.email}  {', '.join(action.changed)}")
        failed = 0
        if not dry_run and plan.actions:
            _ensure_prerequisites(gn, plan, mapping.create_missing)
            failed = _run(gn, plan.actions, concurrency, console)
    Console().print(_summary(plan, failed, dry_run))
    if failed:
        raise typer.Exit(1)


def _run(gn: Gnomon, actions: list[Action], concurrency: int, console: Console) -> int:
    progress = Progress(
        TextColumn("syncing users"), BarColumn(), MofNCompleteColumn(), console=console
    )
    with progress:
        task = progress.add_task("sync", total=len(actions))

        def step(action: Action) -> Any:
            try:
                return _apply(gn, action)
            finally:
                progress.advance(task)

        results = gn.batch(actions, step, concurrency=concurrency)
    for r in results.failed:
        typer.echo(f"failed {r.item.kind} {r.item.email}: {r.error}", err=True)
    return len(results.failed)
