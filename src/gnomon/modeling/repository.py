"""Every SQL statement of models and model versions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from gnomon.store.prepared import PreparedSelect
from gnomon.store.tables_semantic import connections, model_versions, models
from gnomon.util import as_utc


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(mapping)
    for key in ("created_at", "updated_at"):
        if key in out:
            out[key] = as_utc(out[key])
    return out


# Everything but the files: those are only read when the model is not already loaded in memory,
# which keeps the per-query lookup small.
_WITH_CONNECTION = select(
    *(c for c in models.c if c.name != "files"),
    connections.c.name.label("connection_name"),
    connections.c.dialect.label("dialect"),
).join(connections, connections.c.id == models.c.connection_id)


# Every query and tile looks its model up: prepared statements (see gnomon.store.prepared).
_BY_ID = PreparedSelect(
    _WITH_CONNECTION.where(
        models.c.org_id == bindparam("org_id"), models.c.id == bindparam("model_id")
    ),
    remember=True,
)
_DEFAULT = PreparedSelect(
    _WITH_CONNECTION.where(
        models.c.org_id == bindparam("org_id"), models.c.is_default.is_(True)
    ).limit(1),
    remember=True,
)
_FOR_CONNECTION = PreparedSelect(
    _WITH_CONNECTION.where(
        models.c.org_id == bindparam("org_id"), connections.c.name == bindparam("connection")
    )
    .order_by(models.c.is_default.desc(), models.c.created_at)
    .limit(1),
    remember=True,
)


def insert_model(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(models).values(**values))


def insert_version(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(model_versions).values(**values))


def get(session: Session, org_id: str, model_id: str) -> dict[str, Any] | None:
    row = _BY_ID.one_or_none(session, {"org_id": org_id, "model_id": model_id})
    return _row(row) if row is not None else None


def get_files(session: Session, org_id: str, model_id: str) -> dict[str, str]:
    files = session.execute(
        select(models.c.files).where(models.c.org_id == org_id, models.c.id == model_id)
    ).scalar_one()
    return dict(files)


def get_default(session: Session, org_id: str) -> dict[str, Any] | None:
    row = _DEFAULT.one_or_none(session, {"org_id": org_id})
    return _row(row) if row is not None else None


def get_for_connection(
    session: Session, org_id: str, connection_name: str
) -> dict[str, Any] | None:
    row = _FOR_CONNECTION.one_or_none(session, {"org_id": org_id, "connection": connection_name})
    return _row(row) if row is not None else None


def get_by_name(session: Session, org_id: str, name: str) -> dict[str, Any] | None:
    row = (
        session.execute(_WITH_CONNECTION.where(models.c.org_id == org_id, models.c.name == name))
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None


def list_models(
    session: Session, org_id: str, *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    total = session.execute(
        select(func.count()).select_from(models).where(models.c.org_id == org_id)
    ).scalar_one()
    rows = session.execute(
        _WITH_CONNECTION.where(models.c.org_id == org_id)
        .order_by(models.c.is_default.desc(), models.c.name)
        .offset(offset)
        .limit(limit)
    ).mappings()
    return [_row(r) for r in rows], int(total)


def advance(
    session: Session,
    org_id: str,
    model_id: str,
    *,
    expected_version: int,
    values: Mapping[str, Any],
) -> bool:
    """Move a model to a new version only if nobody else did first (optimistic lock)."""
    result = session.execute(
        update(models)
        .where(
            models.c.org_id == org_id,
            models.c.id == model_id,
            models.c.version == expected_version,
        )
        .values(**values)
    )
    return bool(getattr(result, "rowcount", 0))


def list_versions(
    session: Session, org_id: str, model_id: str, *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    cond = (model_versions.c.org_id == org_id, model_versions.c.model_id == model_id)
    total = session.execute(
        select(func.count()).select_from(model_versions).where(*cond)
    ).scalar_one()
    rows = session.execute(
        select(model_versions)
        .where(*cond)
        .order_by(model_versions.c.version.desc())
        .offset(offset)
        .limit(limit)
    ).mappings()
    return [_row(r) for r in rows], int(total)


def get_version(
    session: Session, org_id: str, model_id: str, version: int
) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(model_versions).where(
                model_versions.c.org_id == org_id,
                model_versions.c.model_id == model_id,
                model_versions.c.version == version,
            )
        )
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None


def delete_model(session: Session, org_id: str, model_id: str) -> None:
    from sqlalchemy import delete

    session.execute(
        delete(model_versions).where(
            model_versions.c.org_id == org_id, model_versions.c.model_id == model_id
        )
    )
    session.execute(delete(models).where(models.c.org_id == org_id, models.c.id == model_id))
