"""Every SQL statement of the webhook outbox: enqueue, claim, complete, and the delivery log.

Claiming is the one query that spans organizations: a worker serves every tenant. Everything a
worker writes afterwards is keyed by the claimed row's ``org_id`` and its claim token, so a
worker whose claim expired (and was taken over) cannot overwrite the new owner's result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from gnomon.store.tables_webhooks import webhook_attempts, webhook_deliveries, webhooks
from gnomon.webhooks.repository import row_dict

OPEN_STATUSES = ("pending", "delivering")
_d = webhook_deliveries


def insert_deliveries(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(insert(_d), [dict(r) for r in rows])


def any_due(session: Session, *, now: datetime) -> bool:
    """Whether :func:`claim_due` may find anything: a read, without the write lock a claim
    takes. It over-approximates (a due delivery of a disabled webhook, or one waiting behind an
    earlier delivery of its resource, counts), so an idle worker only claims when it may."""
    pending = select(_d.c.id).where(_d.c.status == "pending", _d.c.next_attempt_at <= now)
    expired = select(_d.c.id).where(_d.c.status == "delivering", _d.c.locked_until < now)
    return any(session.execute(stmt.limit(1)).first() is not None for stmt in (pending, expired))


def claim_due(
    session: Session,
    *,
    now: datetime,
    limit: int,
    token: str,
    lease_until: datetime,
    skip_locked: bool,
) -> list[dict[str, Any]]:
    """Claim up to ``limit`` due deliveries for one worker until ``lease_until``.

    Due: pending and scheduled at or before ``now``, or claimed by a worker whose lease ran out
    (it crashed or hung). Never a delivery that has an earlier open delivery of the same webhook
    and resource, so that events of one resource reach a receiver in order.

    On PostgreSQL the candidates are locked ``FOR UPDATE SKIP LOCKED`` (concurrent workers take
    disjoint sets without waiting); on SQLite the caller's ``BEGIN IMMEDIATE`` transaction holds
    the single write lock, which serialises claims across processes.
    """
    earlier = _d.alias("earlier")
    earlier_open = (
        select(earlier.c.id)
        .where(
            earlier.c.webhook_id == _d.c.webhook_id,
            earlier.c.ordering_key == _d.c.ordering_key,
            earlier.c.id < _d.c.id,
            earlier.c.status.in_(OPEN_STATUSES),
        )
        .exists()
    )
    # Two index-ordered scans instead of one OR: with `status = 'pending' ORDER BY
    # next_attempt_at` the (status, next_attempt_at) index yields rows in order and the LIMIT
    # stops the scan early, so a claim costs the same with ten or ten thousand queued.
    scans = [
        (
            and_(_d.c.status == "delivering", _d.c.locked_until < now),
            _d.c.locked_until,
        ),
        (
            and_(_d.c.status == "pending", _d.c.next_attempt_at <= now),
            _d.c.next_attempt_at,
        ),
    ]
    ids: list[int] = []
    for due, order in scans:
        if len(ids) >= limit:
            break
        stmt = (
            select(_d.c.id)
            .join(webhooks, webhooks.c.id == _d.c.webhook_id)
            .where(due, webhooks.c.enabled.is_(True), ~earlier_open)
            .order_by(order, _d.c.id)
            .limit(limit - len(ids))
        )
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True, of=_d)
        ids.extend(session.execute(stmt).scalars())
    if not ids:
        return []
    session.execute(
        update(_d)
        .where(_d.c.id.in_(ids))
        .values(status="delivering", locked_by=token, locked_until=lease_until)
    )
    rows = session.execute(
        select(
            _d.c.id,
            _d.c.delivery_id,
            _d.c.org_id,
            _d.c.webhook_id,
            _d.c.message_id,
            _d.c.event_type,
            _d.c.payload,
            _d.c.attempts,
            webhooks.c.name.label("webhook_name"),
            webhooks.c.url,
            webhooks.c.secret_enc,
            webhooks.c.previous_secret_enc,
            webhooks.c.previous_secret_expires_at,
            webhooks.c.retry_policy,
        )
        .join(webhooks, webhooks.c.id == _d.c.webhook_id)
        .where(_d.c.id.in_(ids))
        .order_by(_d.c.id)
    ).mappings()
    return [row_dict(r) for r in rows]


def still_held(session: Session, pks: Sequence[int], token: str) -> set[int]:
    """Which of ``pks`` this worker still holds; locked on PostgreSQL until the transaction
    ends, so that the outcomes written next cannot race a worker that takes them over."""
    if not pks:
        return set()
    stmt = select(_d.c.id).where(
        _d.c.id.in_(list(pks)), _d.c.locked_by == token, _d.c.status == "delivering"
    )
    return {int(pk) for pk in session.execute(stmt.with_for_update()).scalars()}


def complete_many(session: Session, token: str, outcomes: Sequence[Mapping[str, Any]]) -> None:
    """``complete`` for many deliveries in one executemany per set of columns written.

    Each mapping has ``org_id``, ``pk`` and the column values; the claim-token condition stays,
    so a row lost to another worker is left alone exactly as ``complete`` would.
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for o in outcomes:
        columns = tuple(sorted(k for k in o if k not in ("org_id", "pk")))
        params = {f"v_{k}": o[k] for k in columns}
        params.update(b_org_id=o["org_id"], b_pk=o["pk"], b_token=token)
        groups.setdefault(columns, []).append(params)
    for columns, params_list in groups.items():
        stmt = (
            update(_d)
            .where(
                _d.c.org_id == bindparam("b_org_id"),
                _d.c.id == bindparam("b_pk"),
                _d.c.locked_by == bindparam("b_token"),
                _d.c.status == "delivering",
            )
            .values({k: bindparam(f"v_{k}") for k in columns})
        )
        session.execute(stmt, params_list)


def insert_attempts(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(insert(webhook_attempts), [dict(r) for r in rows])


def failure_counts(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """``consecutive_failures`` of each (org_id, webhook_id), locked on PostgreSQL so that the
    absolute value written back by ``set_failures`` cannot lose another worker's update."""
    out: dict[tuple[str, str], int] = {}
    for org_id, webhook_id in keys:
        value = session.execute(
            select(webhooks.c.consecutive_failures)
            .where(webhooks.c.org_id == org_id, webhooks.c.id == webhook_id)
            .with_for_update()
        ).scalar()
        out[(org_id, webhook_id)] = int(value or 0)
    return out


def set_failures(session: Session, org_id: str, webhook_id: str, value: int) -> None:
    session.execute(
        update(webhooks)
        .where(webhooks.c.org_id == org_id, webhooks.c.id == webhook_id)
        .values(consecutive_failures=value)
    )


def disable(session: Session, org_id: str, webhook_id: str, reason: str, now: datetime) -> bool:
    """Disable an enabled webhook; False when it was already disabled (or is gone)."""
    result = session.execute(
        update(webhooks)
        .where(
            webhooks.c.org_id == org_id,
            webhooks.c.id == webhook_id,
            webhooks.c.enabled.is_(True),
        )
        .values(enabled=False, disabled_reason=reason[:500], disabled_at=now, updated_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def list_deliveries(
    session: Session,
    org_id: str,
    webhook_id: str,
    *,
    status: str | None,
    event_type: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    cond = [_d.c.org_id == org_id, _d.c.webhook_id == webhook_id]
    if status is not None:
        cond.append(_d.c.status == status)
    if event_type is not None:
        cond.append(_d.c.event_type == event_type)
    total = session.execute(select(func.count()).select_from(_d).where(*cond)).scalar_one()
    rows = session.execute(
        select(_d).where(*cond).order_by(_d.c.id.desc()).offset(offset).limit(limit)
    ).mappings()
    return [row_dict(r) for r in rows], int(total)


def attempts_of(
    session: Session, org_id: str, delivery_pks: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {pk: [] for pk in delivery_pks}
    if not delivery_pks:
        return out
    rows = session.execute(
        select(webhook_attempts)
        .where(
            webhook_attempts.c.org_id == org_id,
            webhook_attempts.c.delivery_pk.in_(list(delivery_pks)),
        )
        .order_by(webhook_attempts.c.delivery_pk, webhook_attempts.c.attempt)
    ).mappings()
    for r in rows:
        out[int(r["delivery_pk"])].append(row_dict(r))
    return out


def get_delivery(
    session: Session, org_id: str, webhook_id: str, delivery_id: str
) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(_d).where(
                _d.c.org_id == org_id,
                _d.c.webhook_id == webhook_id,
                _d.c.delivery_id == delivery_id,
            )
        )
        .mappings()
        .one_or_none()
    )
    return row_dict(row) if row is not None else None


def get_delivery_by_pk(session: Session, org_id: str, pk: int) -> dict[str, Any] | None:
    row = (
        session.execute(select(_d).where(_d.c.org_id == org_id, _d.c.id == pk))
        .mappings()
        .one_or_none()
    )
    return row_dict(row) if row is not None else None
