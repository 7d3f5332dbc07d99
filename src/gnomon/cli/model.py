"""`gnomon model validate|pull|push|diff|versions|restore`: a model directory ⇄ the server.

A model directory holds one file per model file name as the server knows it (``orders.view``,
``revenue_analytics.topic``, ``relationships``, ``model``), so that it can live in Git and be
reviewed like code; ``push`` sends the whole directory as ``{"files": …}``.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Annotated

import typer

from gnomon.cli.output import Format, fail, handles_api_errors, render
from gnomon.cli.profiles import ProfileOption, client_for

app = typer.Typer(no_args_is_help=True, help="The semantic model, as a directory of files.")

DirArg = Annotated[Path, typer.Argument(help="Model directory.", file_okay=False)]
ModelIdOption = Annotated[
    str | None, typer.Option("--model-id", help="A model other than the default one.")
]


def _safe_name(name: str) -> str:
    # File names come from the server: never let one escape the directory.
    if not name or name.startswith(".") or "/" in name or "\\" in name or name in {".", ".."}:
        raise fail(f"refusing model file name {name!r}")
    return name


def read_dir(directory: Path) -> dict[str, str]:
    if not directory.is_dir():
        raise fail(f"{directory} is not a directory")
    return {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(directory.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


def diff_files(before: dict[str, str], after: dict[str, str], a: str, b: str) -> str:
    """A unified diff of two file sets (``a``/``b`` label the sides)."""
    out: list[str] = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        out.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                fromfile=f"{a}/{name}" if old is not None else "/dev/null",
                tofile=f"{b}/{name}" if new is not None else "/dev/null",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


@app.command("pull")
@handles_api_errors
def pull(
    directory: DirArg,
    model_id: ModelIdOption = None,
    prune: Annotated[bool, typer.Option(help="Delete local files the server lacks.")] = True,
    profile: ProfileOption = None,
) -> None:
    """Write the server's model files into DIRECTORY."""
    with client_for(profile) as gn:
        model = gn.model.get(model_id)
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in model.files.items():
        (directory / _safe_name(name)).write_text(text, encoding="utf-8")
    removed = 0
    if prune:
        for name in set(read_dir(directory)) - set(model.files):
            (directory / name).unlink()
            removed += 1
    typer.echo(
        f"pulled {len(model.files)} files of model {model.name or model.id} "
        f"(version {model.version}) into {directory}" + (f"; removed {removed}" if removed else "")
    )


@app.command("push")
@handles_api_errors
def push(
    directory: DirArg,
    model_id: ModelIdOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and diff only.")] = False,
    profile: ProfileOption = None,
) -> None:
    """Replace the server's model with DIRECTORY (validated by the server first)."""
    files = read_dir(directory)
    with client_for(profile) as gn:
        current = gn.model.get(model_id)
        patch = diff_files(current.files, files, "server", "local")
        if not patch:
            typer.echo("no changes")
            return
        typer.echo(patch, nl=False)
        if dry_run:
            _report(gn.model.validate({"files": files}, model_id=model_id))
            return
        model = gn.model.update({"files": files}, model_id=model_id)
    typer.echo(f"pushed: model {model.name or model.id} is now version {model.version}")


def _report(result: dict[str, object]) -> None:
    issues = result.get("issues") or []
    broken = result.get("broken_content") or []
    for issue in issues if isinstance(issues, list) else []:
        typer.echo(f"  - {json.dumps(issue, default=str)}", err=True)
    for item in broken if isinstance(broken, list) else []:
        typer.echo(f"  ! breaks content: {json.dumps(item, default=str)}", err=True)
    if not result.get("valid"):
        raise fail(f"model is invalid ({len(issues) if isinstance(issues, list) else '?'} issues)")
    typer.echo("model is valid")


@app.command("validate")
@handles_api_errors
def validate(
    directory: DirArg, model_id: ModelIdOption = None, profile: ProfileOption = None
) -> None:
    """Check DIRECTORY against the server (all problems at once; exit 1 when invalid)."""
    files = read_dir(directory)
    with client_for(profile) as gn:
        _report(gn.model.validate({"files": files}, model_id=model_id))


@app.command("diff")
@handles_api_errors
def diff(directory: DirArg, model_id: ModelIdOption = None, profile: ProfileOption = None) -> None:
    """Show what `push` would change (exit 1 when there are differences, like `diff`)."""
    files = read_dir(directory)
    with client_for(profile) as gn:
        current = gn.model.get(model_id)
    patch = diff_files(current.files, files, "server", "local")
    if patch:
        typer.echo(patch, nl=False)
        raise typer.Exit(1)
    typer.echo("no changes")


@app.command("versions")
@handles_api_errors
def versions(
    model_id: ModelIdOption = None,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    profile: ProfileOption = None,
) -> None:
    """List saved versions of the model, newest first."""
    with client_for(profile) as gn:
        rows = [v.model_dump(mode="json") for v in gn.model.versions(model_id)]
    render(rows, ["version", "created_at", "author", "message"], fmt, title="Model versions")


@app.command("restore")
@handles_api_errors
def restore(
    version: Annotated[int, typer.Argument(help="Version to restore (becomes a new version).")],
    model_id: ModelIdOption = None,
    profile: ProfileOption = None,
) -> None:
    """Restore an earlier version of the model."""
    with client_for(profile) as gn:
        model = gn.model.restore(version, model_id)
    typer.echo(f"restored version {version}: model is now version {model.version}")


@app.command("schema")
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of model documents (for editors); works offline."""
    from gnomon.semantic import model_json_schema

    text = json.dumps(model_json_schema(), indent=2, sort_keys=True)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n")
        typer.echo(f"wrote {output}")
