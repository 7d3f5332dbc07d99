"""`gnomon serve | db upgrade | demo | …`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gnomon.config import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="gnomon: API-first BI.")
db_app = typer.Typer(no_args_is_help=True, help="Metadata store management.")
app.add_typer(db_app, name="db")


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
    uvicorn.run(application, host=settings.host, port=settings.port, log_config=None)


def _print_first_key(org: str, secret: str, settings: Settings) -> None:
    bar = "=" * 72
    sys.stderr.write(
        f"\n{bar}\nCreated organization {org!r}. Its admin API key (shown once, store it now):\n\n"
        f"    {secret}\n\nTry: curl -H 'Authorization: Bearer {secret}' "
        f"http://{settings.host}:{settings.port}/api/v1/audit-events\n{bar}\n\n"
    )
    sys.stderr.flush()


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply store migrations up to REVISION."""
    from gnomon.store import migrate
    from gnomon.store.db import Store

    settings = _settings()
    if settings.is_embedded_store:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(settings.resolved_database_url)
    migrate.upgrade(store.engine, revision)
    typer.echo(f"store at revision {migrate.current_revision(store.engine)}")
    store.dispose()


def main() -> None:
    app()
