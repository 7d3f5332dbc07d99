"""Every SQL statement of idempotency records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gnomon.store.tables import idempotency_keys as t
from gnomon.util import as_utc, utcnow

# An in-progress record older than this belongs to a request that died; a retry may proceed.
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Stored:
    request_hash: str
    state: str
    status: int | None
    content_type: str | None
    body: bytes | None
    headers: dict[str, str]
    created_at: datetime


def claim(
    session: Session, scope: str, key: str, method: str, path: str, request_hash: str, ttl_s: int
) -> Stored | None:
    """Insert an in-progress record; return the existing one instead if the key is taken."""
    now = utcnow()
    row = session.execute(select(t).where(t.c.scope == scope, t.c.key == key)).mappings().first()
    if row is not None:
        expires = as_utc(row["expires_at"])
        created = as_utc(row["created_at"])
        assert expires is not None
        assert created is not None
        stale = row["state"] == "in_progress" and now - created > STALE_AFTER
        if expires > now and not stale:
            return Stored(
                request_hash=row["request_hash"],
                state=row["state"],
                status=row["response_status"],
                content_type=row["response_content_type"],
                body=row["response_body"],
                headers=json.loads(row["response_headers"] or "{}"),
                created_at=created,
            )
        session.execute(delete(t).where(t.c.id == row["id"]))
    try:
        with session.begin_nested():
            session.execute(
                insert(t).values(
                    scope=scope,
                    key=key,
                    method=method,
                    path=path[:2000],
                    request_hash=request_hash,
                    state="in_progress",
                    created_at=now,
                    expires_at=now + timedelta(seconds=ttl_s),
                )
            )
    except IntegrityError:
        # Someone claimed it between our read and insert: report it as in progress.
        return Stored(request_hash, "in_progress", None, None, None, {}, now)
    return None


def complete(
    session: Session,
    scope: str,
    key: str,
    status: int,
    content_type: str | None,
    body: bytes,
    headers: dict[str, str],
) -> None:
    session.execute(
        update(t)
        .where(t.c.scope == scope, t.c.key == key)
        .values(
            state="done",
            response_status=status,
            response_content_type=content_type,
            response_body=body,
            response_headers=json.dumps(headers),
        )
    )


def release(session: Session, scope: str, key: str) -> None:
    session.execute(delete(t).where(t.c.scope == scope, t.c.key == key))


def purge_expired(session: Session) -> int:
    result = session.execute(delete(t).where(t.c.expires_at < utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
