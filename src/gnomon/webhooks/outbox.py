"""Filling the outbox: every event, in the transaction that emits it, becomes one delivery per
matching subscription.

Registered as a listener of :mod:`gnomon.events`, so no emitter knows about webhooks, and a
change, its audit record and its deliveries commit (or roll back) together: the worker can then
deliver at least once without ever sending an event whose change did not happen.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from gnomon import events
from gnomon.principal import Principal
from gnomon.util import utcnow
from gnomon.webhooks import filters
from gnomon.webhooks import repository as repo
from gnomon.webhooks import repository_deliveries as outbox_repo

# Sent only to the one webhook they concern, never fanned out to `*` subscribers.
DIRECT_ONLY = frozenset({"webhook.test"})


def new_delivery_id() -> str:
    return "dlv_" + uuid.uuid4().hex


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


def webhook_data(event: events.Event) -> dict[str, Any]:
    """The ``data`` a receiver gets: the event's data plus ``changes``/``change_log``, so that
    the seed's handler finds ``data.user`` and ``data.changes``."""
    data = dict(event.data)
    if event.changes is not None:
        data.setdefault("changes", dict(event.changes))
    if event.change_log is not None:
        data.setdefault("change_log", dict(event.change_log))
    return data


def build_payload(
    event_id: str, event_type: str, org_id: str, data: Mapping[str, Any], when: datetime
) -> str:
    """The exact JSON body sent (and signed): ``type`` and ``event_type`` carry the same name;
    the latter is what the seed's receiver reads."""
    body = {
        "id": event_id,
        "type": event_type,
        "event_type": event_type,
        "timestamp": when.isoformat().replace("+00:00", "Z"),
        "org_id": org_id,
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)


def ordering_key(event: events.Event) -> str | None:
    if event.target_id is None:
        return None
    return f"{event.target_type or ''}:{event.target_id}"[:200]


def delivery_row(
    *,
    org_id: str,
    webhook_id: str,
    event_id: str,
    event_type: str,
    key: str | None,
    payload: str,
    now: datetime,
    message_id: str | None = None,
) -> dict[str, Any]:
    return {
        "delivery_id": new_delivery_id(),
        "org_id": org_id,
        "webhook_id": webhook_id,
        "message_id": message_id or new_message_id(),
        "event_id": event_id,
        "event_type": event_type,
        "ordering_key": key,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


@lru_cache(maxsize=1024)
def _conditions(filters_json: str) -> tuple[filters.Condition, ...]:
    # Filters were validated when saved; compiling is cached by their canonical JSON.
    conditions, _issues = filters.compile_filters(json.loads(filters_json))
    return conditions


def subscribed(sub: Mapping[str, Any], event_type: str, data: Mapping[str, Any]) -> bool:
    """Whether a subscription (its ``events`` and ``filters``) selects this event."""
    if not any(filters.pattern_matches(p, event_type) for p in sub["events"] or []):
        return False
    conditions = _conditions(json.dumps(sub["filters"] or {}, sort_keys=True))
    return filters.matches(conditions, data, filters.declared_fields_of(event_type))


def on_event(session: Session, principal: Principal, event_id: str, event: events.Event) -> None:
    if event.type in DIRECT_ONLY:
        return
    subs = repo.enabled_subscriptions(session, principal.org_id)
    if not subs:
        return
    data = webhook_data(event)
    now = utcnow()
    payload: str | None = None
    rows = []
    for sub in subs:
        if not subscribed(sub, event.type, data):
            continue
        payload = payload or build_payload(event_id, event.type, principal.org_id, data, now)
        rows.append(
            delivery_row(
                org_id=principal.org_id,
                webhook_id=sub["id"],
                event_id=event_id,
                event_type=event.type,
                key=ordering_key(event),
                payload=payload,
                now=now,
            )
        )
    outbox_repo.insert_deliveries(session, rows)


events.add_listener(on_event)
