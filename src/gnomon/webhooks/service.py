"""Webhook rules: who may manage subscriptions, what a valid subscription is, secrets (shown
once, encrypted at rest, rotated with an overlap), the delivery log, redelivery and tests."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from gnomon import events, policy
from gnomon.crypto import SecretBox
from gnomon.errors import Conflict, Invalid, Issue, NotFound
from gnomon.principal import Principal
from gnomon.util import new_id, utcnow
from gnomon.webhooks import catalog as _catalog  # noqa: F401  (registers the event types)
from gnomon.webhooks import filters, outbox, signing
from gnomon.webhooks import repository as repo
from gnomon.webhooks import repository_deliveries as outbox_repo
from gnomon.webhooks.safety import HostPolicy, check_url
from gnomon.webhooks.schemas import (
    Delivery,
    DeliveryAttempt,
    EventTypeInfo,
    RetryPolicy,
    SecretRotation,
    Webhook,
    WebhookCreate,
    WebhookSettings,
    WebhookUpdate,
    WebhookWithSecret,
)

DEFAULT_SLOW_QUERY_THRESHOLD_S = 30.0
_PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")


@dataclass(frozen=True)
class WebhookContext:
    """What the service needs from the deployment: the secret box and the SSRF host policy."""

    box: SecretBox
    hosts: HostPolicy


def secret_context(webhook_id: str) -> str:
    return f"webhook:{webhook_id}:secret"


def to_schema(row: dict[str, Any]) -> Webhook:
    return Webhook(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        url=row["url"],
        events=list(row["events"]),
        filters=dict(row["filters"] or {}),
        retry_policy=RetryPolicy(**(row["retry_policy"] or {})),
        enabled=bool(row["enabled"]),
        disabled_reason=row["disabled_reason"],
        disabled_at=row["disabled_at"],
        consecutive_failures=int(row["consecutive_failures"] or 0),
        previous_secret_expires_at=row["previous_secret_expires_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return to_schema(row).model_dump(mode="json")


def _event_issues(patterns: Sequence[str]) -> list[Issue]:
    issues: list[Issue] = []
    known = sorted(events.CATALOG)
    for i, pattern in enumerate(patterns):
        path: tuple[str | int, ...] = ("events", i)
        if not _PATTERN.match(pattern):
            issues.append(
                Issue(
                    f"{pattern!r} is not an event type or pattern",
                    path,
                    hint="e.g. `user.created`, `user.*` or `*`",
                )
            )
        elif not any(filters.pattern_matches(pattern, name) for name in known):
            close = difflib.get_close_matches(pattern, known, n=3)
            issues.append(
                Issue(
                    f"no event type matches {pattern!r}",
                    path,
                    code="unknown_event_type",
                    hint=(
                        f"did you mean {', '.join(close)}?"
                        if close
                        else "GET /api/v1/webhooks/event-types lists them"
                    ),
                )
            )
    return issues


def _filter_issues(value: dict[str, Any]) -> list[Issue]:
    _conditions, issues = filters.compile_filters(value)
    return issues


def _dedupe(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _visible(session: Session, principal: Principal, webhook_id: str) -> dict[str, Any]:
    policy.require_org_admin(principal, "managing webhooks")
    row = repo.get_webhook(session, principal.org_id, webhook_id)
    if row is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return row


def create(
    session: Session, principal: Principal, ctx: WebhookContext, body: WebhookCreate
) -> WebhookWithSecret:
    policy.require_org_admin(principal, "managing webhooks")
    issues = check_url(body.url, ctx.hosts)
    issues += _event_issues(body.events)
    issues += _filter_issues(body.filters)
    if body.secret is not None:
        issues += signing.check_secret(body.secret, ("secret",))
    if issues:
        raise Invalid("cannot create the webhook", issues)
    secret = body.secret or signing.generate_secret()
    webhook_id = new_id()
    now = utcnow()
    row: dict[str, Any] = {
        "id": webhook_id,
        "org_id": principal.org_id,
        "name": body.name,
        "description": body.description,
        "url": body.url,
        "events": _dedupe(body.events),
        "filters": body.filters,
        "retry_policy": body.retry_policy.model_dump(mode="json"),
        "secret_enc": ctx.box.encrypt(secret, context=secret_context(webhook_id)),
        "previous_secret_enc": None,
        "previous_secret_expires_at": None,
        "enabled": body.enabled,
        "disabled_reason": None if body.enabled else "created disabled",
        "disabled_at": None if body.enabled else now,
        "consecutive_failures": 0,
        "created_by": principal.actor_id,
        "created_at": now,
        "updated_at": now,
    }
    repo.insert_webhook(session, row)
    events.emit(
        session,
        principal,
        events.Event("webhook.created", "webhook", webhook_id, {"webhook": _snapshot(row)}),
    )
    return WebhookWithSecret(**to_schema(row).model_dump(), secret=secret)


def list_webhooks(
    session: Session,
    principal: Principal,
    *,
    enabled: bool | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[Webhook], int]:
    policy.require_org_admin(principal, "managing webhooks")
    rows, total = repo.list_webhooks(
        session,
        principal.org_id,
        enabled=enabled,
        sort=sort,
        descending=descending,
        offset=offset,
        limit=limit,
    )
    return [to_schema(r) for r in rows], total


def get(session: Session, principal: Principal, webhook_id: str) -> Webhook:
    return to_schema(_visible(session, principal, webhook_id))


def update(
    session: Session,
    principal: Principal,
    ctx: WebhookContext,
    webhook_id: str,
    body: WebhookUpdate,
) -> Webhook:
    row = _visible(session, principal, webhook_id)
    values = body.model_dump(exclude_unset=True)
    issues: list[Issue] = []
    for name in ("name", "url", "events", "filters", "retry_policy", "enabled"):
        if name in values and values[name] is None:
            issues.append(Issue(f"{name} cannot be null", (name,), hint=f"omit {name}"))
    if values.get("url") is not None:
        issues += check_url(values["url"], ctx.hosts)
    if values.get("events") is not None:
        issues += _event_issues(values["events"])
        values["events"] = _dedupe(values["events"])
    if values.get("filters") is not None:
        issues += _filter_issues(values["filters"])
    if issues:
        raise Invalid("cannot update the webhook", issues)
    now = utcnow()
    if "enabled" in values and bool(values["enabled"]) != bool(row["enabled"]):
        if values["enabled"]:
            values.update(consecutive_failures=0, disabled_reason=None, disabled_at=None)
        else:
            values.update(disabled_reason="disabled by a user", disabled_at=now)
    if not values:
        return to_schema(row)
    values["updated_at"] = now
    before = _snapshot(row)
    repo.update_webhook(session, principal.org_id, webhook_id, values)
    after_row = {**row, **values}
    after = _snapshot(after_row)
    events.emit(
        session,
        principal,
        events.Event(
            "webhook.updated",
            "webhook",
            webhook_id,
            {"webhook": after},
            changes=events.diff(
                {k: v for k, v in before.items() if k != "updated_at"},
                {k: v for k, v in after.items() if k != "updated_at"},
            ),
        ),
    )
    return to_schema(after_row)


def delete(session: Session, principal: Principal, webhook_id: str) -> None:
    row = _visible(session, principal, webhook_id)
    # Deleted first, so that a `webhook.*` subscription does not get its own deletion queued.
    repo.delete_webhook(session, principal.org_id, webhook_id)
    events.emit(
        session,
        principal,
        events.Event("webhook.deleted", "webhook", webhook_id, {"webhook": _snapshot(row)}),
    )


def rotate_secret(
    session: Session,
    principal: Principal,
    ctx: WebhookContext,
    webhook_id: str,
    body: SecretRotation,
) -> WebhookWithSecret:
    row = _visible(session, principal, webhook_id)
    if body.secret is not None:
        issues = signing.check_secret(body.secret, ("secret",))
        if issues:
            raise Invalid("cannot rotate the secret", issues)
    secret = body.secret or signing.generate_secret()
    now = utcnow()
    overlap = body.overlap_seconds > 0
    values: dict[str, Any] = {
        "secret_enc": ctx.box.encrypt(secret, context=secret_context(webhook_id)),
        "previous_secret_enc": row["secret_enc"] if overlap else None,
        "previous_secret_expires_at": (
            now + timedelta(seconds=body.overlap_seconds) if overlap else None
        ),
        "updated_at": now,
    }
    repo.update_webhook(session, principal.org_id, webhook_id, values)
    new_row = {**row, **values}
    events.emit(
        session,
        principal,
        events.Event(
            "webhook.secret_rotated", "webhook", webhook_id, {"webhook": _snapshot(new_row)}
        ),
    )
    return WebhookWithSecret(**to_schema(new_row).model_dump(), secret=secret)


def _ref(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "url": row["url"]}


def delivery_schema(row: dict[str, Any], attempts: list[dict[str, Any]]) -> Delivery:
    terminal = row["status"] in {"succeeded", "failed"}
    return Delivery(
        id=row["delivery_id"],
        webhook_id=row["webhook_id"],
        message_id=row["message_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        status=row["status"],
        attempts=int(row["attempts"]),
        next_attempt_at=None if terminal else row["next_attempt_at"],
        last_status_code=row["last_status_code"],
        last_latency_ms=row["last_latency_ms"],
        last_response_excerpt=row["last_response"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        completed_at=row["completed_at"],
        attempt_log=[
            DeliveryAttempt(
                attempt=a["attempt"],
                started_at=a["started_at"],
                status_code=a["status_code"],
                latency_ms=a["latency_ms"],
                response_excerpt=a["response_excerpt"],
                error=a["error"],
                outcome=a["outcome"],
            )
            for a in attempts
        ],
    )


def _enqueue_one(session: Session, row: dict[str, Any]) -> Delivery:
    outbox_repo.insert_deliveries(session, [row])
    stored = outbox_repo.get_delivery(session, row["org_id"], row["webhook_id"], row["delivery_id"])
    assert stored is not None
    return delivery_schema(stored, [])


def send_test(session: Session, principal: Principal, webhook_id: str) -> Delivery:
    """Queue a ``webhook.test`` event for this webhook only."""
    row = _visible(session, principal, webhook_id)
    if not row["enabled"]:
        raise Conflict(f"webhook {webhook_id} is disabled; enable it before testing")
    event = events.Event(
        "webhook.test",
        "webhook",
        webhook_id,
        {"webhook": _ref(row), "message": "This is a test event from gnomon."},
    )
    event_id = events.emit(session, principal, event)
    now = utcnow()
    payload = outbox.build_payload(
        event_id, event.type, principal.org_id, outbox.webhook_data(event), now
    )
    return _enqueue_one(
        session,
        outbox.delivery_row(
            org_id=principal.org_id,
            webhook_id=webhook_id,
            event_id=event_id,
            event_type=event.type,
            key=None,
            payload=payload,
            now=now,
        ),
    )


def list_deliveries(
    session: Session,
    principal: Principal,
    webhook_id: str,
    *,
    status: str | None,
    event_type: str | None,
    offset: int,
    limit: int,
) -> tuple[list[Delivery], int]:
    _visible(session, principal, webhook_id)
    rows, total = outbox_repo.list_deliveries(
        session,
        principal.org_id,
        webhook_id,
        status=status,
        event_type=event_type,
        offset=offset,
        limit=limit,
    )
    attempts = outbox_repo.attempts_of(session, principal.org_id, [int(r["id"]) for r in rows])
    return [delivery_schema(r, attempts[int(r["id"])]) for r in rows], total


def redeliver(
    session: Session, principal: Principal, webhook_id: str, delivery_id: str
) -> Delivery:
    """Queue the same message again (same ``webhook-id``, same body) as a new delivery."""
    _visible(session, principal, webhook_id)
    original = outbox_repo.get_delivery(session, principal.org_id, webhook_id, delivery_id)
    if original is None:
        raise NotFound(f"delivery {delivery_id} not found")
    if original["status"] in outbox_repo.OPEN_STATUSES:
        raise Conflict(f"delivery {delivery_id} is still queued ({original['status']})")
    return _enqueue_one(
        session,
        outbox.delivery_row(
            org_id=principal.org_id,
            webhook_id=webhook_id,
            event_id=original["event_id"],
            event_type=original["event_type"],
            key=original["ordering_key"],
            payload=original["payload"],
            now=utcnow(),
            message_id=original["message_id"],
        ),
    )


def event_types() -> list[EventTypeInfo]:
    return [
        EventTypeInfo(name=t.name, description=t.description, data_schema=t.data_schema)
        for t in sorted(events.CATALOG.values(), key=lambda t: t.name)
    ]


def slow_query_threshold(session: Session, org_id: str) -> float:
    """The organization's slow-query threshold in seconds (default 30): the Query API emits
    ``query.slow_execution`` for queries running at least this long."""
    row = repo.get_settings(session, org_id)
    return float(row["slow_query_threshold_s"]) if row else DEFAULT_SLOW_QUERY_THRESHOLD_S


def get_settings(session: Session, principal: Principal) -> WebhookSettings:
    return WebhookSettings(slow_query_threshold_s=slow_query_threshold(session, principal.org_id))


def put_settings(session: Session, principal: Principal, body: WebhookSettings) -> WebhookSettings:
    policy.require_org_admin(principal, "changing webhook settings")
    before = get_settings(session, principal).model_dump()
    repo.put_settings(
        session,
        principal.org_id,
        {"slow_query_threshold_s": body.slow_query_threshold_s, "updated_at": utcnow()},
    )
    after = body.model_dump()
    if before != after:
        events.emit(
            session,
            principal,
            events.Event(
                "webhook.settings_updated",
                "organization",
                principal.org_id,
                {"settings": after},
                changes=events.diff(before, after),
            ),
        )
    return body
