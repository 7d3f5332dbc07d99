"""Every SQL statement of webhook subscriptions and webhook settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from gnomon.store.prepared import PreparedSelect
from gnomon.store.tables_webhooks import (
    webhook_attempts,
    webhook_deliveries,
    webhook_settings,
    webhooks,
)
from gnomon.util import as_utc

_TIME_COLUMNS = (
    "created_at",
    "updated_at",
    "disabled_at",
    "previous_secret_expires_at",
    "next_attempt_at",
    "locked_until",
    "completed_at",
    "started_at",
)
SORTABLE = {"created_at": webhooks.c.created_at, "name": webhooks.c.name}


def row_dict(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(mapping)
    for col in _TIME_COLUMNS:
        if col in out:
            out[col] = as_utc(out[col])
    return out


def insert_webhook(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(webhooks).values(**values))


def get_webhook(session: Session, org_id: str, webhook_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(webhooks).where(webhooks.c.org_id == org_id, webhooks.c.id == webhook_id)
        )
        .mappings()
        .one_or_none()
    )
    return row_dict(row) if row is not None else None


def list_webhooks(
    session: Session,
    org_id: str,
    *,
    enabled: bool | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    cond = [webhooks.c.org_id == org_id]
    if enabled is not None:
        cond.append(webhooks.c.enabled.is_(enabled))
    total = session.execute(select(func.count()).select_from(webhooks).where(*cond)).scalar_one()
    col = SORTABLE[sort]
    order = [col.desc() if descending else col.asc(), webhooks.c.id.asc()]
    rows = session.execute(
        select(webhooks).where(*cond).order_by(*order).offset(offset).limit(limit)
    ).mappings()
    return [row_dict(r) for r in rows], int(total)


def update_webhook(
    session: Session, org_id: str, webhook_id: str, values: Mapping[str, Any]
) -> None:
    session.execute(
        update(webhooks)
        .where(webhooks.c.org_id == org_id, webhooks.c.id == webhook_id)
        .values(**values)
    )


def delete_webhook(session: Session, org_id: str, webhook_id: str) -> None:
    """The subscription with its delivery log (the audit log keeps the events themselves)."""
    pks = select(webhook_deliveries.c.id).where(
        webhook_deliveries.c.org_id == org_id, webhook_deliveries.c.webhook_id == webhook_id
    )
    session.execute(
        delete(webhook_attempts).where(
            webhook_attempts.c.org_id == org_id, webhook_attempts.c.delivery_pk.in_(pks)
        )
    )
    session.execute(
        delete(webhook_deliveries).where(
            webhook_deliveries.c.org_id == org_id, webhook_deliveries.c.webhook_id == webhook_id
        )
    )
    session.execute(
        delete(webhooks).where(webhooks.c.org_id == org_id, webhooks.c.id == webhook_id)
    )


# Every event looks the subscriptions up, every query execution the settings: prepared reads
# (gnomon.store.prepared).
_ENABLED = PreparedSelect(
    select(webhooks.c.id, webhooks.c.events, webhooks.c.filters)
    .where(webhooks.c.org_id == bindparam("org_id"), webhooks.c.enabled.is_(True))
    .order_by(webhooks.c.created_at, webhooks.c.id)
)
_SETTINGS = PreparedSelect(
    select(webhook_settings).where(webhook_settings.c.org_id == bindparam("org_id")),
    remember=True,
)


def enabled_subscriptions(session: Session, org_id: str) -> list[dict[str, Any]]:
    """What the outbox needs to fan an event out: id, event patterns and filters."""
    return _ENABLED.all(session, {"org_id": org_id})


def get_settings(session: Session, org_id: str) -> dict[str, Any] | None:
    row = _SETTINGS.one_or_none(session, {"org_id": org_id})
    return row_dict(row) if row is not None else None


def put_settings(session: Session, org_id: str, values: Mapping[str, Any]) -> None:
    result = session.execute(
        update(webhook_settings).where(webhook_settings.c.org_id == org_id).values(**values)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(insert(webhook_settings).values(org_id=org_id, **values))
