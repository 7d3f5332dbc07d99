"""Reading the audit log and verifying its hash chain."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from gnomon import policy
from gnomon.audit import repository as repo
from gnomon.audit.chain import GENESIS, link_hash
from gnomon.audit.schemas import Actor, AuditEvent, ChainBreak, ChainVerification, Target
from gnomon.errors import NotFound
from gnomon.principal import Principal

CSV_COLUMNS = (
    "id",
    "seq",
    "action",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "target_type",
    "target_id",
    "request_id",
    "client_ip",
    "user_agent",
    "data",
    "changes",
    "change_log",
    "hash",
)


def to_schema(row: dict[str, Any]) -> AuditEvent:
    return AuditEvent(
        id=row["event_id"],
        seq=row["seq"],
        action=row["type"],
        occurred_at=row["occurred_at"],
        actor=Actor(type=row["actor_type"], id=row["actor_id"], label=row["actor_label"]),
        target=Target(type=row["target_type"], id=row["target_id"]),
        data=row["data"] or {},
        changes=row["changes"],
        change_log=row["change_log"],
        request_id=row["request_id"],
        client_ip=row["client_ip"],
        user_agent=row["user_agent"],
        hash=row["hash"],
        prev_hash=row["prev_hash"],
    )


def list_events(
    session: Session,
    principal: Principal,
    f: repo.EventFilter,
    *,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[AuditEvent], int]:
    policy.require_org_admin(principal, "reading the audit log")
    rows, total = repo.list_events(
        session, principal.org_id, f, descending=descending, offset=offset, limit=limit
    )
    return [to_schema(r) for r in rows], total


def get_event(session: Session, principal: Principal, event_id: str) -> AuditEvent:
    policy.require_org_admin(principal, "reading the audit log")
    row = repo.get_event(session, principal.org_id, event_id)
    if row is None:
        raise NotFound(f"audit event {event_id} not found")
    return to_schema(row)


def export_csv(session: Session, principal: Principal, f: repo.EventFilter) -> Iterator[str]:
    """Every matching record, oldest first, as CSV text chunks."""
    policy.require_org_admin(principal, "exporting the audit log")

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_COLUMNS)
        for row in repo.iter_events(session, principal.org_id, f):
            writer.writerow(
                [
                    row["event_id"],
                    row["seq"],
                    row["type"],
                    row["occurred_at"].isoformat(),
                    row["actor_type"],
                    row["actor_id"] or "",
                    row["actor_label"] or "",
                    row["target_type"] or "",
                    row["target_id"] or "",
                    row["request_id"] or "",
                    row["client_ip"] or "",
                    row["user_agent"] or "",
                    json.dumps(row["data"], sort_keys=True),
                    json.dumps(row["changes"], sort_keys=True) if row["changes"] else "",
                    json.dumps(row["change_log"], sort_keys=True) if row["change_log"] else "",
                    row["hash"],
                ]
            )
            if buf.tell() > 64 * 1024:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    return rows()


def verify(session: Session, principal: Principal) -> ChainVerification:
    """Recompute the organization's chain; report the first record that does not fit.

    Catches edited rows (hash mismatch), deleted or inserted rows (sequence gap or wrong
    ``prev_hash``) and a truncated tail (the head no longer matches the last record).
    """
    policy.require_org_admin(principal, "verifying the audit log")
    prev = GENESIS
    expected_seq = 1
    checked = 0
    head = repo.chain_head(session, principal.org_id)
    head_seq = head[0] if head else 0
    for row in repo.iter_events(session, principal.org_id):
        checked += 1
        problem = None
        if row["seq"] != expected_seq:
            problem = f"sequence gap: expected {expected_seq}, found {row['seq']}"
        elif row["prev_hash"] != prev:
            problem = "prev_hash does not match the previous record's hash"
        elif link_hash(prev, row) != row["hash"]:
            problem = "record content does not match its hash (edited)"
        if problem:
            return ChainVerification(
                ok=False,
                checked=checked,
                head_seq=head_seq,
                first_broken=ChainBreak(seq=row["seq"], event_id=row["event_id"], reason=problem),
            )
        prev = row["hash"]
        expected_seq += 1
    if head is not None and (head[0] != expected_seq - 1 or head[1] != prev):
        return ChainVerification(
            ok=False,
            checked=checked,
            head_seq=head_seq,
            first_broken=ChainBreak(
                seq=expected_seq, event_id=None, reason="records missing at the end of the chain"
            ),
        )
    return ChainVerification(ok=True, checked=checked, head_seq=head_seq, first_broken=None)
