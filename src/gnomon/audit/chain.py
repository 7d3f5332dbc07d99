"""The audit hash chain: each record's hash covers its content and the previous hash.

Kept apart from the repository so that writing and verifying use the very same canonical form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The columns the hash covers, in a fixed order. Adding one is a new chain version.
HASHED_FIELDS = (
    "org_id",
    "seq",
    "event_id",
    "type",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "target_type",
    "target_id",
    "data",
    "changes",
    "change_log",
    "request_id",
    "client_ip",
    "user_agent",
)


def _canonical_time(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(record: Mapping[str, Any]) -> bytes:
    payload = {}
    for name in HASHED_FIELDS:
        value = record.get(name)
        if isinstance(value, datetime):
            value = _canonical_time(value)
        payload[name] = value
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def link_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(record)).hexdigest()
