"""Connection I/O. Passwords are write-only: accepted, encrypted, never returned."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Dialect = Literal["duckdb", "postgres", "mysql", "sqlite"]
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$"
# No control characters (a NUL byte is not a valid path or host name on any platform).
TEXT_PATTERN = r"^[^\x00-\x1f]*$"


class Connection(BaseModel):
    id: str
    name: str
    dialect: Dialect
    host: str | None
    port: int | None
    database: str | None = Field(description="Database name; for DuckDB/SQLite the file path.")
    username: str | None
    has_password: bool
    schema_: str | None = Field(alias="schema", serialization_alias="schema")
    query_timeout_s: float
    max_rows: int
    version: int
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(populate_by_name=True)


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(pattern=NAME_PATTERN)
    dialect: Dialect
    host: str | None = Field(None, max_length=255, pattern=TEXT_PATTERN)
    port: int | None = Field(None, ge=1, le=65535)
    database: str | None = Field(None, max_length=1000, pattern=TEXT_PATTERN)
    username: str | None = Field(None, max_length=255, pattern=TEXT_PATTERN)
    password: str | None = Field(None, max_length=1000)
    schema_: str | None = Field(None, alias="schema", max_length=255)
    query_timeout_s: float = Field(300.0, gt=0, le=86_400)
    max_rows: int = Field(100_000, ge=1, le=10_000_000)


class ConnectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str | None = Field(None, pattern=NAME_PATTERN)
    host: str | None = Field(None, max_length=255, pattern=TEXT_PATTERN)
    port: int | None = Field(None, ge=1, le=65535)
    database: str | None = Field(None, max_length=1000, pattern=TEXT_PATTERN)
    username: str | None = Field(None, max_length=255, pattern=TEXT_PATTERN)
    password: str | None = Field(None, max_length=1000)
    schema_: str | None = Field(None, alias="schema", max_length=255)
    query_timeout_s: float | None = Field(None, gt=0, le=86_400)
    max_rows: int | None = Field(None, ge=1, le=10_000_000)


class ConnectionTest(BaseModel):
    ok: bool
    duration_ms: float
    message: str
