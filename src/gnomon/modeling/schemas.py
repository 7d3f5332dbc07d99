"""Model management I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator


class TopicSummary(BaseModel):
    name: str
    label: str | None
    base_view: str
    enabled: bool


class Model(BaseModel):
    id: str
    name: str
    connection: str
    dialect: str
    is_default: bool
    version: int
    topics: list[TopicSummary]
    settings: dict[str, Any]
    files: dict[str, str]
    updated_at: datetime


class ModelCreate(BaseModel):
    """A new model: a name, the connection it is bound to, and its content as ``files`` or as a
    combined document (``views``, ``relationships``, ``topics``, settings)."""

    model_config = ConfigDict(extra="allow")
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")
    connection: str = Field(min_length=1, max_length=100)


class ModelVersion(BaseModel):
    version: int
    author: str | None
    message: str | None
    diff: dict[str, Any]
    created_at: datetime


class ModelValidation(BaseModel):
    valid: bool
    issues: list[dict[str, Any]]
    topics: list[str]
    broken_content: list[dict[str, Any]] = Field(default_factory=list)


WeekDay = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
SqlDialect = Literal[
    "duckdb", "sqlite", "postgres", "mysql", "snowflake", "bigquery", "trino", "spark", "clickhouse"
]


class ModelUpdate(BaseModel):
    """What ``PUT /model`` accepts: any of these keys; the ones named are replaced.

    ``topics`` as a list of names enables exactly those topics; as an object it defines them.
    ``files`` replaces the whole model and cannot be combined with other parts.
    """

    model_config = ConfigDict(extra="forbid")
    files: dict[str, str] | None = None
    views: dict[str, Any] | None = None
    relationships: list[Any] | None = None
    topics: list[str] | dict[str, Any] | None = None
    default_topic_access_filters: list[dict[str, Any]] | None = None
    ai_chat_topics: list[str] | None = None
    caching_policy: dict[str, Any] | None = None
    cache_policies: dict[str, Any] | None = None
    default_cache_policy: str | None = None
    week_start_day: WeekDay | None = None
    enabled_topics: list[str] | None = None
    timezone: str | None = Field(None, description="IANA name, e.g. `Europe/Paris`.")
    dialect: SqlDialect | None = Field(None, description="The dialect `sql:` snippets are in.")
    message: str | None = Field(None, max_length=1000, description="Kept with the new version.")
    change_log: dict[str, Any] | None = Field(None, description="Copied into the audit record.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in available_timezones():
            raise ValueError(f"unknown timezone {value!r}; use an IANA name like Europe/Paris")
        return value
