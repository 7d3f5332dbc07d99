"""Webhook I/O. The create body accepts the seed's ``configureWebhooks`` entries as written."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

BackoffStrategy = Literal["exponential", "linear", "fixed"]
DeliveryStatus = Literal["pending", "delivering", "succeeded", "failed"]
AttemptOutcome = Literal["success", "failure", "gone", "refused"]


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_retries: int = Field(5, ge=0, le=25, description="Retries after the first attempt.")
    backoff_strategy: BackoffStrategy = Field(
        "exponential",
        description=(
            "Delay before retry n: exponential `initial_delay·2^(n-1)`, linear "
            "`initial_delay·n`, fixed `initial_delay`; ±20 % jitter, at most one day."
        ),
    )
    initial_delay: float = Field(5.0, ge=0, le=86_400, description="Seconds.")


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000, description="http(s) URL of the receiver.")
    events: list[str] = Field(
        min_length=1,
        max_length=100,
        description="Event types; `user.*` matches a family, `*` everything.",
    )
    filters: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            'Payload filters: a list means one of (`{"error_type": ["timeout"]}`), an '
            'operator object compares (`{"execution_time": {"gte": 30}}`), keys AND together.'
        ),
    )
    secret: str | None = Field(
        None,
        max_length=256,
        description="Signing secret; omit to have one generated (shown once in the response).",
    )
    retry_policy: RetryPolicy = Field(default_factory=lambda: RetryPolicy())
    enabled: StrictBool = True
    description: str | None = Field(None, max_length=2000)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    url: str | None = Field(None, min_length=1, max_length=2000)
    events: list[str] | None = Field(None, min_length=1, max_length=100)
    filters: dict[str, Any] | None = None
    retry_policy: RetryPolicy | None = None
    enabled: StrictBool | None = Field(None, description="Re-enabling resets the failure count.")
    description: str | None = Field(None, max_length=2000)


class Webhook(BaseModel):
    id: str
    name: str
    description: str | None
    url: str
    events: list[str]
    filters: dict[str, Any]
    retry_policy: RetryPolicy
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    consecutive_failures: int
    previous_secret_expires_at: datetime | None = Field(
        description="While set, deliveries carry signatures with the old and the new secret."
    )
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(Webhook):
    secret: str = Field(
        description="Shown once; gnomon keeps it encrypted and never shows it again."
    )


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    secret: str | None = Field(None, max_length=256, description="Omit to have one generated.")
    overlap_seconds: int = Field(
        86_400,
        ge=0,
        le=7 * 86_400,
        description="How long the old secret keeps signing too (both signatures are sent).",
    )


class DeliveryAttempt(BaseModel):
    attempt: int
    started_at: datetime
    status_code: int | None
    latency_ms: float
    response_excerpt: str | None
    error: str | None
    outcome: AttemptOutcome


class Delivery(BaseModel):
    id: str
    webhook_id: str
    message_id: str = Field(description="The `webhook-id` header; the same on every attempt.")
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="When the next attempt is due.")
    last_status_code: int | None
    last_latency_ms: float | None
    last_response_excerpt: str | None
    last_error: str | None
    created_at: datetime
    completed_at: datetime | None
    attempt_log: list[DeliveryAttempt]


class EventTypeInfo(BaseModel):
    name: str
    description: str
    data_schema: dict[str, Any] = Field(description="JSON Schema of the event's `data`.")


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slow_query_threshold_s: float = Field(
        30.0,
        gt=0,
        le=86_400,
        description="Queries running at least this long emit `query.slow_execution`.",
    )
