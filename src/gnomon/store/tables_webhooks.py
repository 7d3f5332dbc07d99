"""Webhook tables: subscriptions, the delivery outbox (which is also the delivery log), the
attempts made for each delivery, and per-organization webhook settings.

The outbox row is written in the same transaction as the event it carries (see
``gnomon.webhooks.outbox``), so a committed change always has its deliveries queued and a rolled
back change never does.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from gnomon.store.tables import AutoId, metadata


def _ts(name: str, *, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=True),
    Column("url", String(2000), nullable=False),
    Column("events", JSON, nullable=False),
    Column("filters", JSON, nullable=False),
    Column("retry_policy", JSON, nullable=False),
    # Encrypted with gnomon.crypto.SecretBox; the context binds it to the webhook's id.
    Column("secret_enc", Text, nullable=False),
    # The secret replaced by the last rotation: deliveries are signed with both until then.
    Column("previous_secret_enc", Text, nullable=True),
    _ts("previous_secret_expires_at"),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", String(500), nullable=True),
    _ts("disabled_at"),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("created_by", String(64), nullable=True),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    Index("ix_webhooks_org", "org_id", "created_at"),
)

# One row per (webhook, event): the outbox the worker claims from, and the delivery log.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("delivery_id", String(40), nullable=False, unique=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("webhook_id", String(36), ForeignKey("webhooks.id"), nullable=False),
    # The `webhook-id` header: the same for every attempt and for manual redeliveries, so
    # receivers can drop duplicates.
    Column("message_id", String(40), nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("event_type", String(100), nullable=False),
    # "<target_type>:<target_id>": deliveries with the same key go out in id order.
    Column("ordering_key", String(200), nullable=True),
    # The exact JSON body that is signed and sent.
    Column("payload", Text, nullable=False),
    # pending | delivering | succeeded | failed
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    _ts("next_attempt_at", nullable=False),
    # The claim: who holds it and until when (a crashed worker's claim simply expires).
    Column("locked_by", String(40), nullable=True),
    _ts("locked_until"),
    Column("last_status_code", Integer, nullable=True),
    Column("last_latency_ms", Float, nullable=True),
    Column("last_response", Text, nullable=True),
    Column("last_error", Text, nullable=True),
    _ts("created_at", nullable=False),
    _ts("completed_at"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_order", "webhook_id", "ordering_key", "id"),
    Index("ix_webhook_deliveries_org_hook", "org_id", "webhook_id", "id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("delivery_pk", BigInteger, ForeignKey("webhook_deliveries.id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    _ts("started_at", nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Float, nullable=False),
    Column("response_excerpt", Text, nullable=True),
    Column("error", Text, nullable=True),
    # success | failure | gone | refused
    Column("outcome", String(20), nullable=False),
    Index("ix_webhook_attempts_delivery", "delivery_pk", "attempt"),
)

webhook_settings = Table(
    "webhook_settings",
    metadata,
    Column("org_id", String(36), ForeignKey("organizations.id"), primary_key=True),
    Column("slow_query_threshold_s", Float, nullable=False),
    _ts("updated_at", nullable=False),
)
