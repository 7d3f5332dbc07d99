"""Every SQL statement of the audit log."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from gnomon.audit.chain import GENESIS, HASHED_FIELDS, link_hash
from gnomon.events import Event
from gnomon.principal import Principal
from gnomon.store.prepared import PreparedSelect, PreparedStatement
from gnomon.store.tables import event_heads, events
from gnomon.util import as_utc, utcnow


def _json_safe(value: Any) -> Any:
    # Round-trip through JSON so the stored value, and therefore the hash recomputed from it
    # later, is exactly what was hashed at write time.
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str))


def init_chain(session: Session, org_id: str) -> None:
    """Create the chain head for a new organization (before its first event)."""
    session.execute(insert(event_heads).values(org_id=org_id, last_seq=0, last_hash=GENESIS))


# Every change appends one record: prepared statements (gnomon.store.prepared).
# Row lock on PostgreSQL; on SQLite the write transaction already holds the database lock.
_HEAD_FOR_UPDATE = PreparedSelect(
    select(event_heads.c.last_seq, event_heads.c.last_hash)
    .where(event_heads.c.org_id == bindparam("org_id"))
    .with_for_update()
)
_INSERT = PreparedStatement.insert(events, [*HASHED_FIELDS, "prev_hash", "hash"])
_ADVANCE_HEAD = PreparedStatement(
    update(event_heads)
    .where(event_heads.c.org_id == bindparam("org_id"))
    .values(
        last_seq=bindparam("new_seq", type_=event_heads.c.last_seq.type),
        last_hash=bindparam("new_hash", type_=event_heads.c.last_hash.type),
    )
)


def append_event(session: Session, principal: Principal, event: Event) -> str:
    org_id = principal.org_id
    head = _HEAD_FOR_UPDATE.one_or_none(session, {"org_id": org_id})
    if head is None:
        init_chain(session, org_id)
        last_seq, last_hash = 0, GENESIS
    else:
        last_seq, last_hash = head["last_seq"], head["last_hash"]
    record: dict[str, Any] = {
        "org_id": org_id,
        "seq": last_seq + 1,
        "event_id": "evt_" + uuid.uuid4().hex,
        "type": event.type,
        "occurred_at": utcnow(),
        "actor_type": principal.actor_type,
        "actor_id": principal.actor_id,
        "actor_label": principal.label,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "data": _json_safe(dict(event.data)),
        "changes": _json_safe(dict(event.changes) if event.changes is not None else None),
        "change_log": _json_safe(dict(event.change_log) if event.change_log is not None else None),
        "request_id": principal.request.request_id,
        "client_ip": principal.request.client_ip,
        "user_agent": (principal.request.user_agent or None) and principal.request.user_agent[:500],
    }
    record["prev_hash"] = last_hash
    record["hash"] = link_hash(last_hash, record)
    _INSERT.execute(session, record)
    _ADVANCE_HEAD.execute(
        session, {"org_id": org_id, "new_seq": record["seq"], "new_hash": record["hash"]}
    )
    return str(record["event_id"])


@dataclass(frozen=True)
class EventFilter:
    actor_id: str | None = None
    action: str | None = None  # exact type, or a prefix ending in ".*"
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _conditions(org_id: str, f: EventFilter) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = [events.c.org_id == org_id]
    if f.actor_id:
        cond.append(events.c.actor_id == f.actor_id)
    if f.action:
        if f.action.endswith(".*"):
            cond.append(events.c.type.startswith(f.action[:-1], autoescape=True))
        else:
            cond.append(events.c.type == f.action)
    if f.target_type:
        cond.append(events.c.target_type == f.target_type)
    if f.target_id:
        cond.append(events.c.target_id == f.target_id)
    if f.since:
        cond.append(events.c.occurred_at >= f.since)
    if f.until:
        cond.append(events.c.occurred_at < f.until)
    return cond


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(mapping)
    out["occurred_at"] = as_utc(out["occurred_at"])
    return out


def list_events(
    session: Session, org_id: str, f: EventFilter, *, descending: bool, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    cond = _conditions(org_id, f)
    total = session.execute(select(func.count()).select_from(events).where(*cond)).scalar_one()
    order = events.c.seq.desc() if descending else events.c.seq.asc()
    rows = session.execute(
        select(events).where(*cond).order_by(order).offset(offset).limit(limit)
    ).mappings()
    return [_row(r) for r in rows], int(total)


def iter_events(
    session: Session, org_id: str, f: EventFilter | None = None, *, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """All matching events in chain order, fetched in batches (for export and verification)."""
    cond = _conditions(org_id, f or EventFilter())
    last_seq = 0
    while True:
        rows = session.execute(
            select(events)
            .where(*cond, events.c.seq > last_seq)
            .order_by(events.c.seq.asc())
            .limit(batch)
        ).mappings()
        chunk = [_row(r) for r in rows]
        if not chunk:
            return
        yield from chunk
        last_seq = chunk[-1]["seq"]


def get_event(session: Session, org_id: str, event_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(events).where(events.c.org_id == org_id, events.c.event_id == event_id)
        )
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None


def chain_head(session: Session, org_id: str) -> tuple[int, str] | None:
    row = session.execute(
        select(event_heads.c.last_seq, event_heads.c.last_hash).where(
            event_heads.c.org_id == org_id
        )
    ).one_or_none()
    return (int(row.last_seq), str(row.last_hash)) if row is not None else None
