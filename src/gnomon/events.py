"""Typed domain events.

A service describes a change as an :class:`Event` and calls :func:`emit` inside the same
transaction as the change itself. The record lands in the ``events`` table, which is both the
audit log (hash-chained per organization) and the source the webhook outbox is filled from, so a
change and its event commit or roll back together.

Every event type is declared in :data:`CATALOG` with the JSON Schema of its ``data``; emitting an
undeclared type is a programming error and fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from gnomon.principal import Principal


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    data_schema: dict[str, Any]


CATALOG: dict[str, EventType] = {}

# Called after an event is written, inside the same transaction (the webhook outbox hooks in
# here), so that emitters need not know who listens.
_listeners: list[Callable[[Session, Principal, str, Event], None]] = []


def register(name: str, description: str, data_model: type[BaseModel] | None = None) -> None:
    """Declare an event type; its data schema is published in the event catalog."""
    schema: dict[str, Any] = (
        data_model.model_json_schema() if data_model is not None else {"type": "object"}
    )
    CATALOG[name] = EventType(name=name, description=description, data_schema=schema)


def add_listener(listener: Callable[[Session, Principal, str, Event], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


@dataclass(frozen=True)
class Event:
    type: str
    target_type: str | None = None
    target_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    # {"field": {"before": …, "after": …}} for updates.
    changes: Mapping[str, Any] | None = None
    # A client-supplied description of the change (the seed's ``change_log``).
    change_log: Mapping[str, Any] | None = None


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Field-level before/after of what changed between two snapshots."""
    keys = sorted(set(before) | set(after))
    return {
        k: {"before": before.get(k), "after": after.get(k)}
        for k in keys
        if before.get(k) != after.get(k)
    }


def emit(session: Session, principal: Principal, event: Event) -> str:
    """Write ``event`` into the caller's transaction; returns the event id."""
    # Imported here: the audit repository imports this module's types.
    from gnomon.audit import repository

    if event.type not in CATALOG:
        raise KeyError(f"event type {event.type!r} is not declared in gnomon.events.CATALOG")
    event_id = repository.append_event(session, principal, event)
    for listener in _listeners:
        listener(session, principal, event_id, event)
    return event_id


class _OrgData(BaseModel):
    model_config = ConfigDict(extra="allow")
    organization: dict[str, Any]


class _KeyData(BaseModel):
    model_config = ConfigDict(extra="allow")
    api_key: dict[str, Any]


register("organization.created", "An organization was created.", _OrgData)
register("organization.deleted", "An organization was deleted.", _OrgData)
register("api_key.created", "An API key was created.", _KeyData)
register("api_key.updated", "An API key was renamed, enabled, disabled or re-dated.", _KeyData)
register("api_key.rotated", "An API key's secret was replaced.", _KeyData)
register("api_key.revoked", "An API key was revoked.", _KeyData)
