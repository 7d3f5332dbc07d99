"""Audit log I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Actor(BaseModel):
    type: str = Field(description="`user`, `api_key` or `system`.")
    id: str | None
    label: str | None


class Target(BaseModel):
    type: str | None
    id: str | None


class AuditEvent(BaseModel):
    id: str
    seq: int
    action: str = Field(description="The event type, e.g. `user.updated`.")
    occurred_at: datetime
    actor: Actor
    target: Target
    data: dict[str, Any]
    changes: dict[str, Any] | None = Field(None, description="Before/after of every changed field.")
    change_log: dict[str, Any] | None = Field(
        None, description="What the client said about the change (the seed's `change_log`)."
    )
    request_id: str | None
    client_ip: str | None
    user_agent: str | None
    hash: str
    prev_hash: str


class ChainBreak(BaseModel):
    seq: int
    event_id: str | None
    reason: str


class ChainVerification(BaseModel):
    ok: bool
    checked: int
    head_seq: int
    first_broken: ChainBreak | None
