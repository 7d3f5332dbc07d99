"""The demo organization's content: the ``main_db`` connection and the default model."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from gnomon.config import Settings
from gnomon.connections import service as connections
from gnomon.demo.bundle import model_files
from gnomon.modeling import service as modeling

CONNECTION_NAME = "main_db"
MODEL_NAME = "demo"


def warehouse_path(settings: Settings) -> Path:
    return (settings.data_dir / "demo" / "warehouse.duckdb").resolve()


def install(session: Session, settings: Settings, org_id: str) -> None:
    """Bind the demo warehouse to an organization: connection ``main_db`` and its default
    model (topics named as in the seed). The warehouse itself is built by ``gnomon demo``."""
    conn = connections.create_system(
        session,
        org_id,
        name=CONNECTION_NAME,
        dialect="duckdb",
        database=str(warehouse_path(settings)),
    )
    modeling.insert_model(
        session,
        org_id,
        name=MODEL_NAME,
        connection_id=conn["id"],
        files=model_files(),
        is_default=True,
    )
