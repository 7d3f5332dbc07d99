"""API key I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

KeyKind = Literal["organization", "personal"]
KeyStatus = Literal["active", "disabled", "expired", "revoked"]


class ApiKey(BaseModel):
    id: str
    name: str
    kind: KeyKind
    prefix: str = Field(description="The key's public id, the part before the secret.")
    user_id: str | None
    scopes: list[str]
    enabled: bool
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    rotated_at: datetime | None
    status: KeyStatus


class ApiKeyWithSecret(ApiKey):
    secret: str = Field(description="Shown once; store it now. gnomon keeps only a hash.")


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: KeyKind = Field(
        "personal",
        description="`organization` keys act as an org admin; `personal` keys act as a user.",
    )
    user_id: str | None = Field(
        None, description="Owner of a personal key; defaults to the calling user."
    )
    expires_at: datetime | None = None
    scopes: list[str] = Field(default_factory=list, max_length=50)


class ApiKeyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    enabled: StrictBool | None = None
    expires_at: datetime | None = None
