"""API key rules: who may create, see, change and revoke which keys; authentication."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gnomon import crypto, events, policy
from gnomon.apikeys import repository as repo
from gnomon.apikeys.schemas import ApiKey, ApiKeyCreate, ApiKeyUpdate, ApiKeyWithSecret, KeyStatus
from gnomon.errors import Conflict, Invalid, Issue, NotFound, Unauthenticated
from gnomon.identity import repository as users_repo
from gnomon.principal import Principal, RequestMeta
from gnomon.store.memo import remembered
from gnomon.util import new_id, utcnow


def lookup_id(secret: str) -> str:
    """The public id a presented secret is looked up by.

    gnomon's own keys carry it (``gnm_<id>_<secret>``); a key supplied from outside
    (``GNOMON_BOOTSTRAP_TOKEN``) gets one derived from its hash.
    """
    return crypto.parse_api_key(secret) or "h" + hashlib.sha256(secret.encode()).hexdigest()[:15]


def _status(row: dict[str, Any], now: datetime) -> KeyStatus:
    if row["revoked_at"] is not None:
        return "revoked"
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return "expired"
    return "active" if row["enabled"] else "disabled"


def to_schema(row: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        prefix=row["key_id"],
        user_id=row["user_id"],
        scopes=list(row["scopes"] or []),
        enabled=bool(row["enabled"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
        rotated_at=row["rotated_at"],
        status=_status(row, utcnow()),
    )


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return to_schema(row).model_dump(mode="json")


def create_key_record(
    session: Session,
    *,
    org_id: str,
    name: str,
    kind: str,
    user_id: str | None,
    created_by: str | None,
    expires_at: datetime | None = None,
    scopes: list[str] | None = None,
    secret: str | None = None,
) -> tuple[dict[str, Any], str]:
    """Insert a key; returns the stored row and the secret (shown once, never stored)."""
    if secret is None:
        secret, key_id, secret_hash = crypto.new_api_key()
    else:
        key_id, secret_hash = lookup_id(secret), crypto.hash_api_key(secret)
    row = {
        "id": new_id(),
        "org_id": org_id,
        "key_id": key_id,
        "secret_hash": secret_hash,
        "name": name,
        "kind": kind,
        "user_id": user_id,
        "scopes": scopes or [],
        "enabled": True,
        "created_by": created_by,
        "created_at": utcnow(),
        "expires_at": expires_at,
        "last_used_at": None,
        "revoked_at": None,
        "rotated_at": None,
    }
    repo.insert_key(session, row)
    return row, secret


def create(session: Session, principal: Principal, body: ApiKeyCreate) -> ApiKeyWithSecret:
    issues: list[Issue] = []
    user_id = body.user_id
    if body.kind == "organization":
        policy.require_org_admin(principal, "creating an organization key")
        if user_id is not None:
            issues.append(
                Issue("organization keys belong to no user", ("user_id",), hint="omit user_id")
            )
    else:
        if user_id is None:
            user_id = principal.user_id
        if user_id is None:
            issues.append(
                Issue(
                    "a personal key needs an owner",
                    ("user_id",),
                    code="missing",
                    hint="give the id of the user the key acts as",
                )
            )
        else:
            policy.require_self_or_admin(principal, user_id, "creating a key for another user")
            user = users_repo.get_user(session, principal.org_id, user_id)
            if user is None:
                issues.append(Issue(f"user {user_id} not found", ("user_id",), code="not_found"))
            elif not user["active"]:
                issues.append(Issue(f"user {user_id} is deactivated", ("user_id",)))
    if body.expires_at is not None and _aware(body.expires_at) <= utcnow():
        issues.append(Issue("expires_at is in the past", ("expires_at",)))
    if issues:
        raise Invalid("cannot create the API key", issues)
    row, secret = create_key_record(
        session,
        org_id=principal.org_id,
        name=body.name,
        kind=body.kind,
        user_id=user_id if body.kind == "personal" else None,
        created_by=principal.actor_id,
        expires_at=_aware(body.expires_at) if body.expires_at else None,
        scopes=body.scopes,
    )
    events.emit(
        session,
        principal,
        events.Event("api_key.created", "api_key", row["id"], {"api_key": _snapshot(row)}),
    )
    return ApiKeyWithSecret(**to_schema(row).model_dump(), secret=secret)


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _visible(session: Session, principal: Principal, key_db_id: str) -> dict[str, Any]:
    row = repo.get_key(session, principal.org_id, key_db_id)
    # A revoked key is gone for the API (its row stays, for the audit trail).
    if (
        row is None
        or row["revoked_at"] is not None
        or (not principal.is_org_admin and row["user_id"] != principal.user_id)
    ):
        raise NotFound(f"API key {key_db_id} not found")
    return row


def _not_the_calling_key(principal: Principal, key_db_id: str, action: str) -> None:
    # A key cannot switch itself off: a script (or a leaked copy of the key) must not be able
    # to lock its owner out. Use another key of the organization or user.
    if principal.key_id == key_db_id:
        raise Conflict(
            f"cannot {action} the key this request is authenticated with; use another key"
        )


def list_keys(
    session: Session,
    principal: Principal,
    *,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[ApiKey], int]:
    owner = None if principal.is_org_admin else (principal.user_id or "")
    rows, total = repo.list_keys(
        session,
        principal.org_id,
        user_id=owner,
        sort=sort,
        descending=descending,
        offset=offset,
        limit=limit,
    )
    return [to_schema(r) for r in rows], total


def get(session: Session, principal: Principal, key_db_id: str) -> ApiKey:
    return to_schema(_visible(session, principal, key_db_id))


def update(session: Session, principal: Principal, key_db_id: str, body: ApiKeyUpdate) -> ApiKey:
    row = _visible(session, principal, key_db_id)
    values = body.model_dump(exclude_unset=True)
    if values.get("enabled") is False or "expires_at" in values:
        _not_the_calling_key(principal, key_db_id, "disable or re-date")
    if "name" in values and values["name"] is None:
        raise Invalid("name cannot be null", [Issue("name cannot be null", ("name",))])
    if "enabled" in values and values["enabled"] is None:
        raise Invalid("enabled cannot be null", [Issue("enabled cannot be null", ("enabled",))])
    if values.get("expires_at") is not None:
        values["expires_at"] = _aware(values["expires_at"])
    if not values:
        return to_schema(row)
    before = _snapshot(row)
    repo.update_key(session, principal.org_id, key_db_id, values)
    after_row = {**row, **values}
    after = _snapshot(after_row)
    events.emit(
        session,
        principal,
        events.Event(
            "api_key.updated",
            "api_key",
            key_db_id,
            {"api_key": after},
            changes=events.diff(before, after),
        ),
    )
    return to_schema(after_row)


def rotate(session: Session, principal: Principal, key_db_id: str) -> ApiKeyWithSecret:
    row = _visible(session, principal, key_db_id)
    _not_the_calling_key(principal, key_db_id, "rotate")
    secret, key_id, secret_hash = crypto.new_api_key()
    values = {"key_id": key_id, "secret_hash": secret_hash, "rotated_at": utcnow()}
    repo.update_key(session, principal.org_id, key_db_id, values)
    new_row = {**row, **values}
    events.emit(
        session,
        principal,
        events.Event("api_key.rotated", "api_key", key_db_id, {"api_key": _snapshot(new_row)}),
    )
    return ApiKeyWithSecret(**to_schema(new_row).model_dump(), secret=secret)


def revoke(session: Session, principal: Principal, key_db_id: str) -> None:
    row = _visible(session, principal, key_db_id)
    _not_the_calling_key(principal, key_db_id, "revoke")
    values = {"revoked_at": utcnow(), "enabled": False}
    repo.update_key(session, principal.org_id, key_db_id, values)
    events.emit(
        session,
        principal,
        events.Event(
            "api_key.revoked", "api_key", key_db_id, {"api_key": _snapshot({**row, **values})}
        ),
    )


@dataclass(frozen=True)
class _Grant:
    """What a verified key grants while the store is unchanged: its principal (without the
    request) and the two times compared with the clock on every request."""

    principal: Principal
    expires_at: datetime | None
    last_used_at: datetime | None


def _grant(bind: Engine | Session, secret: str, digest: str, now: datetime) -> _Grant:
    row = repo.find_for_authentication(bind, lookup_id(secret))
    if row is None or not hmac.compare_digest(row["secret_hash"], digest):
        raise Unauthenticated("invalid API key")
    status = _status(row, now)
    if status != "active":
        raise Unauthenticated(f"API key is {status}")
    if row["org_deleted_at"] is not None:
        raise Unauthenticated("the key's organization was deleted")
    if row["kind"] == "personal" and not row["user_active"]:
        raise Unauthenticated("the key's user is deactivated")
    if row["kind"] == "organization":
        principal = Principal(
            org_id=row["org_id"],
            kind="organization",
            is_org_admin=True,
            label=f"key:{row['name']}",
            key_id=row["id"],
            scopes=frozenset(row["scopes"] or []),
        )
    else:
        principal = Principal(
            org_id=row["org_id"],
            kind="personal",
            is_org_admin=row["user_org_role"] == "ORG_ADMIN",
            label=row["user_email"] or row["user_id"],
            key_id=row["id"],
            user_id=row["user_id"],
            scopes=frozenset(row["scopes"] or []),
        )
    return _Grant(principal, row["expires_at"], row["last_used_at"])


def authenticate(
    engine: Engine, secret: str, meta: RequestMeta, *, touch_resolution_s: int
) -> tuple[Principal, bool]:
    """Resolve a presented secret to a principal.

    Returns the principal and whether ``last_used_at`` is due for an update (done by the
    caller in a separate write, so that authentication itself stays a read).

    On the embedded store's event-loop engine a verified key is remembered by its hash until
    the store changes (gnomon.store.memo): a revoked or disabled key, a deleted organization or
    a deactivated user is a commit, seen by the next request. Expiry needs no commit, so it is
    compared with the clock on every request.
    """
    digest = crypto.hash_api_key(secret)
    now = utcnow()
    grant = remembered(engine, ("api key", digest), lambda bind: _grant(bind, secret, digest, now))
    if grant.expires_at is not None and grant.expires_at <= now:
        raise Unauthenticated("API key is expired")
    last = grant.last_used_at
    due = last is None or now - last >= timedelta(seconds=touch_resolution_s)
    return replace(grant.principal, request=meta), due


def touch(session: Session, key_db_id: str) -> None:
    repo.touch_last_used(session, key_db_id, utcnow())
