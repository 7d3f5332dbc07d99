"""Event types owned by the webhooks domain, including the query-performance feed.

``query.slow_execution`` and ``query.error`` are declared here (with their data models, which
are the contract with receivers and the basis of filter applicability) and emitted by the Query
API. The models are exported so that the emitter builds exactly the declared shape:

    events.emit(session, principal, Event("query.slow_execution", "query", query_id,
        SlowQueryData(execution_time=41.2, threshold_s=30, topic="orders",
                      user=QueryUser(id=u, email=e), sql_hash=h).model_dump(mode="json")))
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gnomon.events import register

QueryErrorType = Literal[
    "timeout", "permission_denied", "invalid_query", "database_error", "rate_limited"
]
QUERY_ERROR_TYPES: tuple[str, ...] = (
    "timeout",
    "permission_denied",
    "invalid_query",
    "database_error",
    "rate_limited",
)


class QueryUser(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    email: str | None = None


class SlowQueryData(BaseModel):
    model_config = ConfigDict(extra="allow")
    execution_time: float = Field(description="Seconds the query ran.")
    threshold_s: float | None = Field(None, description="The organization's threshold then.")
    topic: str | None = None
    user: QueryUser | None = None
    sql_hash: str = Field(description="SHA-256 of the SQL text sent to the database.")
    query_name: str | None = Field(None, description="The query's name, when it has one.")
    connection: str | None = None


class QueryErrorData(BaseModel):
    model_config = ConfigDict(extra="allow")
    error_type: QueryErrorType
    message: str
    topic: str | None = None
    user: QueryUser | None = None
    sql_hash: str | None = None
    query_name: str | None = None
    connection: str | None = None


class WebhookRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    url: str


class WebhookData(BaseModel):
    model_config = ConfigDict(extra="allow")
    webhook: WebhookRef


class WebhookTestData(BaseModel):
    webhook: WebhookRef
    message: str


class WebhookDisabledData(BaseModel):
    webhook: WebhookRef
    reason: str
    consecutive_failures: int
    last_status_code: int | None = None


class WebhookSettingsData(BaseModel):
    settings: dict[str, Any]


register(
    "query.slow_execution",
    "A query ran at least the organization's slow-query threshold (default 30 s).",
    SlowQueryData,
)
register(
    "query.error",
    "A query failed; `error_type` is one of timeout, permission_denied, invalid_query, "
    "database_error, rate_limited.",
    QueryErrorData,
)
register("webhook.created", "A webhook subscription was created.", WebhookData)
register("webhook.updated", "A webhook subscription was changed.", WebhookData)
register("webhook.deleted", "A webhook subscription was deleted.", WebhookData)
register("webhook.secret_rotated", "A webhook's signing secret was rotated.", WebhookData)
register(
    "webhook.test",
    "A test event, sent to one webhook on request (POST /webhooks/{id}/test).",
    WebhookTestData,
)
register(
    "webhook.disabled",
    "gnomon disabled a webhook: the receiver answered 410 Gone or failed too often in a row.",
    WebhookDisabledData,
)
register(
    "webhook.settings_updated",
    "The organization's webhook settings (slow-query threshold) changed.",
    WebhookSettingsData,
)
