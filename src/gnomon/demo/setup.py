"""The demo organization's content: the ``main_db`` connection and the default model."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from gnomon.config import Settings
from gnomon.connections import service as connections
from gnomon.demo.bundle import model_files
from gnomon.identity import attributes_service as attributes
from gnomon.identity.schemas import AttributeType, UserAttributeCreate
from gnomon.modeling import service as modeling
from gnomon.principal import Principal

CONNECTION_NAME = "main_db"
DEMO_ATTRIBUTES: tuple[tuple[str, AttributeType, str], ...] = (
    ("customer_id", "number", "Customer"),
    ("subscription_tier", "string", "Subscription tier"),
)
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
    # The attributes the seed's access filters bind to (updateCustomerTopics).
    system = Principal.system(org_id, label="demo setup")
    for name, kind, label in DEMO_ATTRIBUTES:
        attributes.create(session, system, UserAttributeCreate(name=name, type=kind, label=label))
