"""`gnomon serve | db upgrade | demo | …`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gnomon.cli import audit, content, keys, model, profiles, query, users
from gnomon.config import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="gnomon: API-first BI.")
db_app = typer.Typer(no_args_is_help=True, help="Metadata store management.")
app.add_typer(db_app, name="db")
app.add_typer(profiles.app, name="profiles")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(query.app)  # merged: `gnomon query TOPIC …` is a command, not a group
app.add_typer(model.app, name="model")
app.add_typer(users.app, name="users")
app.add_typer(content.app, name="content")


def _settings(
    host: str | None = None, port: int | None = None, data_dir: Path | None = None
) -> Settings:
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return Settings(**overrides)  # type: ignore[arg-type]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (GNOMON_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (GNOMON_PORT).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (GNOMON_DATA_DIR).")] = None,
) -> None:
    """Start the API server (upgrades an embedded store; bootstraps an empty one)."""
    import uvicorn

    from gnomon.api.app import create_app
    from gnomon.bootstrap import bootstrap
    from gnomon.logging import configure_logging

    settings = _settings(host, port, data_dir)
    configure_logging(settings.log_level, settings.log_json)
    application = create_app(settings)
    with application.state.store.transaction() as session:
        created = bootstrap(session, settings)
    if created is not None:
        _print_first_key(created.organization.name, created.api_key.secret, settings)
    background = None
    if settings.webhook_worker:
        from gnomon.worker import start_in_process

        background = start_in_process(settings, application.state.store)
    try:
        # gnomon's own middleware writes the access log (with the request id).
        uvicorn.run(
            application,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
        )
    finally:
        if background is not None:
            background.stop()


@app.command()
def worker(
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (GNOMON_DATA_DIR).")] = None,
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due, then exit.")] = False,
) -> None:
    """Deliver webhooks until stopped (SIGTERM/SIGINT); run as many as you like."""
    import signal

    from gnomon.api.app import open_store
    from gnomon.logging import configure_logging
    from gnomon.worker import WebhookWorker

    settings = _settings(data_dir=data_dir)
    configure_logging(settings.log_level, settings.log_json)
    store = open_store(settings)
    runner = WebhookWorker(store, settings)
    try:
        if once:
            typer.echo(f"attempted {runner.run_until_idle()} deliveries")
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: runner.stop())
        runner.run_forever()
    finally:
        runner.close()
        store.dispose()


def _print_first_key(org: str, secret: str, settings: Settings) -> None:
    bar = "=" * 72
    sys.stderr.write(
        f"\n{bar}\nCreated organization {org!r}. Its admin API key (shown once, store it now):\n\n"
        f"    {secret}\n\nTry: curl -H 'Authorization: Bearer {secret}' "
        f"http://{settings.host}:{settings.port}/api/v1/audit-events\n{bar}\n\n"
    )
    sys.stderr.flush()


@app.command()
def demo(
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Keep an existing warehouse.")
    ] = False,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (GNOMON_DATA_DIR).")] = None,
    scale: Annotated[float, typer.Option(help="Size factor (1.0 ≈ 60k orders).")] = 1.0,
) -> None:
    """Build the deterministic demo warehouse (three years up to today) in the data dir."""
    from gnomon.demo import build_warehouse
    from gnomon.demo.setup import warehouse_path

    settings = _settings(data_dir=data_dir)
    path = warehouse_path(settings)
    if if_missing and path.exists():
        typer.echo(f"demo warehouse present: {path}")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    info = build_warehouse(path, scale=scale)
    counts = ", ".join(f"{k} {v:,}" for k, v in info.row_counts.items())
    typer.echo(f"demo warehouse built at {path} (up to {info.today}): {counts}")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "heads",
) -> None:
    """Apply store migrations up to REVISION."""
    from gnomon.store import migrate
    from gnomon.store.db import Store

    settings = _settings()
    if settings.is_embedded_store:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(settings.resolved_database_url)
    migrate.upgrade(store.engine, revision)
    typer.echo(f"store at revision {', '.join(sorted(migrate.current_revisions(store.engine)))}")
    store.dispose()


def main() -> None:
    app()
