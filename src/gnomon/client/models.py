"""Typed views of what the API returns.

Every model allows extra keys (``extra="allow"``): a newer server that adds a field must not
break an older SDK, and the extra values stay reachable as attributes and in ``model_dump()``.
Only the fields a script is likely to branch on are declared; they are optional where the
server may omit them. Models are frozen: a returned object is a snapshot of the server's state,
and editing it locally would suggest a change that was never sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ApiKey",
    "ApiKeyWithSecret",
    "AuditEvent",
    "Connection",
    "Document",
    "Folder",
    "Group",
    "Model",
    "ModelVersion",
    "Organization",
    "OrganizationCreated",
    "Resource",
    "User",
    "UserAttribute",
    "UserBatchItem",
    "Webhook",
    "WebhookDelivery",
    "WhoAmI",
]


class Resource(BaseModel):
    """Base of every returned object."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Organization(Resource):
    id: str
    name: str
    slug: str | None = None
    created_at: datetime | None = None


class ApiKey(Resource):
    id: str
    name: str
    kind: str
    prefix: str | None = None
    user_id: str | None = None
    scopes: list[str] = Field(default_factory=list)
    enabled: bool = True
    status: str | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyWithSecret(ApiKey):
    secret: str


class OrganizationCreated(Resource):
    organization: Organization
    api_key: ApiKeyWithSecret


class AuditEvent(Resource):
    id: str
    seq: int
    action: str
    occurred_at: datetime
    actor: dict[str, Any] = Field(default_factory=dict)
    target: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    changes: dict[str, Any] | None = None
    change_log: dict[str, Any] | None = None
    request_id: str | None = None


class WhoAmI(Resource):
    org_id: str
    kind: str
    user_id: str | None = None
    key_id: str | None = None
    is_org_admin: bool = False
    org_role: str | None = None
    email: str | None = None
    groups: list[str] = Field(default_factory=list)


class User(Resource):
    id: str
    email: str
    name: str | None = None
    active: bool = True
    org_role: str | None = None
    user_attributes: dict[str, Any] = Field(default_factory=dict)
    connection_roles: dict[str, str] = Field(default_factory=dict)
    groups: list[str] = Field(default_factory=list, description="Group names.")
    external_id: str | None = None


class UserBatchItem(Resource):
    """One item of ``users.create_many``: ``status`` 201 with ``data``, or an error status with
    ``error`` (``{"error", "message", "details"}``, the body that item alone would have got)."""

    index: int
    status: int
    data: User | None = None
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == 201


class Group(Resource):
    id: str
    name: str
    description: str | None = None
    members: list[dict[str, Any]] = Field(default_factory=list)
    user_attributes: dict[str, Any] = Field(default_factory=dict)
    connection_roles: dict[str, str] = Field(default_factory=dict)


class UserAttribute(Resource):
    id: str | None = None
    name: str
    type: str | None = None
    label: str | None = None
    multiple: bool | None = None
    default_value: Any = None


class Folder(Resource):
    id: str
    path: str
    name: str | None = None
    description: str | None = None
    parent_id: str | None = None


class Document(Resource):
    id: str
    name: str
    identifier: str | None = None
    description: str | None = None
    folder: dict[str, Any] | None = None
    tiles: list[dict[str, Any]] = Field(default_factory=list)
    version: int | None = None


class Connection(Resource):
    id: str
    name: str
    dialect: str | None = None


class Model(Resource):
    """The organization's semantic model (or one of its models)."""

    id: str | None = None
    name: str | None = None
    version: int | str | None = None
    connection: str | None = None
    files: dict[str, str] = Field(default_factory=dict)


class ModelVersion(Resource):
    id: str | None = None
    version: int | str | None = None
    created_at: datetime | None = None


class Webhook(Resource):
    id: str
    name: str | None = None
    url: str
    events: list[str] = Field(default_factory=list)
    enabled: bool = True
    secret: str | None = None


class WebhookDelivery(Resource):
    id: str
    status: str | None = None
    attempts: int | None = None
    status_code: int | None = None
