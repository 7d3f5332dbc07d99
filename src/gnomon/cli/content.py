"""`gnomon content export|import|deploy`: move dashboards between instances.

The seed's ``deployDashboard`` (export from staging, map connections and topics, import into
production) for one document, one folder (with everything below it) or the whole organization.
A bundle file is ``{"kind": "document" | "folder", "bundles": [...]}`` so that one format covers
all three scopes; imports are idempotent on the server (the same bundle twice updates, never
duplicates), so a deploy can simply be re-run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from gnomon.cli.output import fail, handles_api_errors
from gnomon.cli.profiles import ProfileOption, client_for
from gnomon.client import Gnomon

app = typer.Typer(no_args_is_help=True, help="Export, import and deploy content.")

DocumentOpt = Annotated[str | None, typer.Option("--document", help="Document id.")]
FolderOpt = Annotated[str | None, typer.Option("--folder", help="Folder path, e.g. /Sales.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every folder and document of the org.")]
MapOpt = Annotated[list[str] | None, typer.Option(help="OLD=NEW (repeatable).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the diff, change nothing.")]
ConflictOpt = Annotated[str, typer.Option(help="fail | replace | copy.")]
ModeOpt = Annotated[str, typer.Option("--validation-mode", help="strict | lenient.")]


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        old, sep, new = value.partition("=")
        if not sep or not old or not new:
            raise typer.BadParameter(f"{option} {value!r} is not OLD=NEW")
        out[old] = new
    return out


def export_scope(
    gn: Gnomon, document: str | None, folder: str | None, all_: bool
) -> dict[str, Any]:
    if sum([document is not None, folder is not None, all_]) != 1:
        raise fail("give exactly one of --document ID, --folder PATH or --all", 2)
    if document is not None:
        return {"kind": "document", "bundles": [gn.documents.export(document)]}
    if folder is not None:
        found = gn.folders.find_by_path(folder)
        if found is None:
            raise fail(f"no folder {folder!r}")
        return {"kind": "folder", "bundles": [gn.folders.export(found.id)]}
    roots = [f for f in gn.folders.iter() if f.parent_id is None]
    bundles: list[dict[str, Any]] = [{"kind": "folder", **gn.folders.export(f.id)} for f in roots]
    loose = [d for d in gn.documents.iter() if not d.folder]
    bundles += [{"kind": "document", **gn.documents.export(d.id)} for d in loose]
    return {"kind": "mixed", "bundles": bundles}


def _import_one(
    gn: Gnomon, kind: str, bundle: dict[str, Any], options: dict[str, Any]
) -> list[dict[str, Any]]:
    """Import one bundle; returns one result per document."""
    clean = {k: v for k, v in bundle.items() if k != "kind"}
    if kind == "folder":
        result = gn.folders.import_(clean, **options)
        return list(result.get("documents") or [])
    return [gn.documents.import_(clean, **options)]


def import_bundles(
    gn: Gnomon, payload: dict[str, Any], options: dict[str, Any], console: Console
) -> list[dict[str, Any]]:
    bundles = payload.get("bundles")
    if not isinstance(bundles, list):
        raise fail("not a gnomon content file: no `bundles` list")
    results: list[dict[str, Any]] = []
    progress = Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), console=console)
    with progress:
        task = progress.add_task("import", total=len(bundles))
        for bundle in bundles:
            kind = bundle.get("kind") or payload.get("kind", "document")
            results += _import_one(gn, str(kind), bundle, options)
            progress.advance(task)
    return results


def print_results(results: list[dict[str, Any]], dry_run: bool) -> None:
    table = Table(title="content import" + (" (dry run: nothing changed)" if dry_run else ""))
    for column in ("document", "action", "changes"):
        table.add_column(column)
    for r in results:
        doc = r.get("document") or {}
        diff = r.get("diff") or {}
        name = doc.get("name") or diff.get("name", {}).get("after") or "?"
        table.add_row(str(name), str(r.get("action")), ", ".join(sorted(diff)) or "-")
    Console().print(table)
    for r in results:
        for key, change in sorted((r.get("diff") or {}).items()):
            if isinstance(change, dict) and {"before", "after"} <= set(change):
                before = json.dumps(change["before"], default=str)[:200]
                after = json.dumps(change["after"], default=str)[:200]
                typer.echo(f"  {key}: {before} -> {after}")


def _options(
    connection_map: list[str] | None,
    topic_map: list[str] | None,
    dry_run: bool,
    on_conflict: str,
    validation_mode: str,
) -> dict[str, Any]:
    return {
        "connection_mapping": _pairs(connection_map, "--connection-map"),
        "topic_mapping": _pairs(topic_map, "--topic-map"),
        "dry_run": dry_run,
        "on_conflict": on_conflict,
        "validation_mode": validation_mode,
    }


@app.command("export")
@handles_api_errors
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="Bundle file to write.")],
    document: DocumentOpt = None,
    folder: FolderOpt = None,
    all_: AllOpt = False,
    profile: ProfileOption = None,
) -> None:
    """Export a document, a folder or the whole organization to a bundle file."""
    with client_for(profile) as gn:
        payload = export_scope(gn, document, folder, all_)
    output.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    typer.echo(f"exported {len(payload['bundles'])} bundle(s) to {output}")


@app.command("import")
@handles_api_errors
def import_(
    path: Annotated[Path, typer.Argument(help="Bundle file from `gnomon content export`.")],
    connection_map: MapOpt = None,
    topic_map: MapOpt = None,
    dry_run: DryRunOpt = False,
    on_conflict: ConflictOpt = "replace",
    validation_mode: ModeOpt = "strict",
    profile: ProfileOption = None,
) -> None:
    """Import a bundle file into an instance."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    options = _options(connection_map, topic_map, dry_run, on_conflict, validation_mode)
    with client_for(profile) as gn:
        results = import_bundles(gn, payload, options, Console(stderr=True))
    print_results(results, dry_run)


@app.command("deploy")
@handles_api_errors
def deploy(
    source: Annotated[str, typer.Option("--from", help="Profile to export from.")],
    target: Annotated[str, typer.Option("--to", help="Profile to import into.")],
    document: DocumentOpt = None,
    folder: FolderOpt = None,
    all_: AllOpt = False,
    connection_map: MapOpt = None,
    topic_map: MapOpt = None,
    dry_run: DryRunOpt = False,
    on_conflict: ConflictOpt = "replace",
    validation_mode: ModeOpt = "strict",
) -> None:
    """Export from one instance and import into another (the seed's `deployDashboard`)."""
    options = _options(connection_map, topic_map, dry_run, on_conflict, validation_mode)
    with client_for(source) as src:
        payload = export_scope(src, document, folder, all_)
    with client_for(target) as dst:
        results = import_bundles(dst, payload, options, Console(stderr=True))
    print_results(results, dry_run)
