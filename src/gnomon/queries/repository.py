"""Every SQL statement of query history, and running system-topic SQL on the store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from gnomon.store.tables_semantic import query_history as t
from gnomon.util import as_utc


def record(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(t).values(**values))


def record_many(session: Session, entries: list[dict[str, Any]]) -> None:
    if entries:
        session.execute(insert(t), entries)


def list_history(
    session: Session, org_id: str, *, user_id: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    cond = [t.c.org_id == org_id]
    if user_id is not None:
        cond.append(t.c.user_id == user_id)
    total = session.execute(select(func.count()).select_from(t).where(*cond)).scalar_one()
    rows = session.execute(
        select(t).where(*cond).order_by(t.c.id.desc()).offset(offset).limit(limit)
    ).mappings()
    out = []
    for r in rows:
        row = dict(r)
        row["created_at"] = as_utc(row["created_at"])
        out.append(row)
    return out, int(total)


def run_compiled(session: Session, sql: str, max_rows: int) -> tuple[list[tuple[Any, ...]], bool]:
    """Run compiler output against the store (system topics). The SQL comes from the compiler
    with the org filter injected as an access predicate, never from user text."""
    result = session.connection().exec_driver_sql(sql)
    rows = [tuple(r) for r in result.fetchmany(max_rows + 1)]
    return rows[:max_rows], len(rows) > max_rows
