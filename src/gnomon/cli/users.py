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
from gnomon.client import APIError, Gnomon
from gnomon.client.models import UserBatchItem

app = typer.Typer(no_args_is_help=True, help="Users: list, and sync from an HR export.")

# New users per POST /users/batch request during a sync.
CREATE_BATCH = 100


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
    """Apply the plan; the number of actions that failed (each is reported)."""
    progress = Progress(
        TextColumn("syncing users"), BarColumn(), MofNCompleteColumn(), console=console
    )
    creates = [a for a in actions if a.kind == "create"]
    others = [a for a in actions if a.kind != "create"]
    # New users go CREATE_BATCH per request (POST /users/batch: each created or refused on its
    # own), several times faster than a request each; updates and deactivations are one each.
    chunks = [creates[i : i + CREATE_BATCH] for i in range(0, len(creates), CREATE_BATCH)]
    failures: list[str] = []
    with progress:
        task = progress.add_task("sync", total=len(actions))

        def create_chunk(chunk: list[Action]) -> list[str]:
            try:
                return _create_many(gn, chunk)
            finally:
                progress.advance(task, len(chunk))

        def step(action: Action) -> Any:
            try:
                return _apply(gn, action)
            finally:
                progress.advance(task)

        for settled in gn.batch(chunks, create_chunk, concurrency=concurrency):
            if settled.ok:
                failures.extend(settled.value or [])
            else:  # the request itself failed (connection lost after retries)
                failures.extend(f"create {a.email}: {settled.error}" for a in settled.item)
        results = gn.batch(others, step, concurrency=concurrency)
        failures.extend(f"{r.item.kind} {r.item.email}: {r.error}" for r in results.failed)
    for line in failures:
        typer.echo(f"failed {line}", err=True)
    return len(failures)


def _create_many(gn: Gnomon, chunk: list[Action]) -> list[str]:
    """Create a chunk of users in one request; the failures, one line per user."""
    try:
        items = gn.users.create_many([a.body for a in chunk])
    except APIError as exc:
        if exc.status_code != 422:
            return [f"create {a.email}: {exc}" for a in chunk]
        # The batch was refused whole (a body the server cannot read): one request per user
        # instead, so that only the bad rows fail, each with its own error.
        failed = []
        for action in chunk:
            try:
                _apply(gn, action)
            except APIError as one:
                failed.append(f"create {action.email}: {one}")
        return failed
    return [
        f"create {chunk[item.index].email}: {_item_error(item)}" for item in items if not item.ok
    ]


def _item_error(item: UserBatchItem) -> str:
    """The item's error message with each of its details (what to fix, on one line)."""
    error = item.error or {}
    details = [str(d.get("message", d)) for d in error.get("details") or [] if d]
    message = str(error.get("message", f"status {item.status}"))
    return message + (f" ({'; '.join(details)})" if details else "")
