"""Organization I/O."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from gnomon.apikeys.schemas import ApiKeyWithSecret


class Organization(BaseModel):
    id: str
    name: str
    slug: str
    created_at: datetime


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$",
        description="URL-safe unique name; derived from `name` when omitted.",
    )


class OrganizationCreated(BaseModel):
    organization: Organization
    api_key: ApiKeyWithSecret = Field(description="The first admin key; its secret is shown once.")
