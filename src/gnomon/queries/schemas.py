"""Query API I/O (DESIGN.md §5): the seed's body as written, plus gnomon's options."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from gnomon.semantic import SortSpec

# The fields of a query body that decide its SQL (the rest say how to run it). A set, as
# pydantic's ``include`` wants; never changed.
SEMANTIC_FIELDS = {"topic", "dimensions", "measures", "filters", "sorts", "limit", "timezone"}


class QueryRun(BaseModel):
    # Frozen: the direct route shares one validated body among the requests that send the
    # same bytes (gnomon.api.direct).
    model_config = ConfigDict(extra="forbid", frozen=True)
    topic: str = Field(min_length=1, max_length=200)
    dimensions: list[str] = Field(default_factory=list, max_length=100)
    measures: list[str] = Field(default_factory=list, max_length=100)
    filters: dict[str, Any] = Field(default_factory=dict)
    sorts: list[SortSpec | str] = Field(default_factory=list, max_length=50)
    limit: int | None = Field(None, ge=1, le=1_000_000)
    timezone: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=200, description="Echoed back in `meta.name`.")
    model_id: str | None = Field(None, max_length=64)
    connection: str | None = Field(None, max_length=100)
    user_id: str | None = Field(
        None, max_length=64, description="Run as this user (organization keys only)."
    )
    cache: Literal["normal", "refresh", "bypass"] = "normal"
    plan_only: StrictBool = Field(False, description="Return the SQL and plan without running.")

    def semantic_request(self) -> dict[str, Any]:
        return self.model_dump(include=SEMANTIC_FIELDS, exclude_none=True)


class FieldInfo(BaseModel):
    name: str
    type: str
    label: str | None
    format: str | None


class QueryMeta(BaseModel):
    fields: list[FieldInfo]
    sql: str
    cache_hit: bool
    duration_ms: float
    row_count: int
    truncated: bool = False
    name: str | None = None
    topic: str
    model_id: str | None = None
    plan: dict[str, Any] | None = None


class QueryResult(BaseModel):
    data: list[dict[str, Any]]
    meta: QueryMeta


class SqlRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connection: str = Field(min_length=1, max_length=100)
    sql: str = Field(min_length=1, max_length=100_000)
    limit: int | None = Field(None, ge=1, le=1_000_000)
    name: str | None = Field(None, max_length=200)


class HistoryEntry(BaseModel):
    id: int
    created_at: Any
    user_id: str | None
    user: str | None
    topic: str | None
    name: str | None
    fields: list[str]
    sql_hash: str | None
    duration_ms: float
    row_count: int
    cache_hit: bool
    status: str
    error_type: str | None
