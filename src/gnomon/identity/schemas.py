"""Identity I/O: users, groups, user attributes, whoami."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from gnomon.policy import ConnectionRole, OrgRole

AttributeType = Literal["string", "number", "boolean", "date"]
Scalar = str | int | float | bool
AttributeValue = Scalar | list[Scalar] | None

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"

_ATTRS_DOC = (
    "User attribute values by attribute name (each must be defined under /user-attributes); "
    "a list for multi-valued attributes; null removes the value."
)
_ROLES_DOC = 'Connection role by connection name, e.g. {"main_db": "QUERIER"}.'
_GROUPS_DOC = "Group names (each must exist)."
_CHANGE_LOG_DOC = "A description of the change; stored in the audit record as given."


class User(BaseModel):
    id: str
    email: str
    name: str
    org_role: OrgRole
    active: bool
    external_id: str | None
    user_attributes: dict[str, Any] = Field(description="The user's own values.")
    connection_roles: dict[str, ConnectionRole] = Field(description="The user's own grants.")
    groups: list[str]
    created_at: datetime
    updated_at: datetime


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN)
    name: str = Field("", max_length=200)
    org_role: OrgRole = "MEMBER"
    active: StrictBool = True
    external_id: str | None = Field(None, max_length=255)
    user_attributes: dict[str, AttributeValue] = Field(default_factory=dict, description=_ATTRS_DOC)
    connection_roles: dict[str, ConnectionRole] = Field(
        default_factory=dict, description=_ROLES_DOC
    )
    groups: list[str] = Field(default_factory=list, max_length=1000, description=_GROUPS_DOC)


MAX_BATCH = 1000


class UserBatch(BaseModel):
    """Many users to create in one request (``POST /api/v1/users/batch``)."""

    model_config = ConfigDict(extra="forbid")
    users: list[UserCreate] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="Each item is the body of `POST /api/v1/users`; each is created or refused "
        "on its own.",
    )


class BatchItemError(BaseModel):
    error: str
    message: str
    details: list[dict[str, Any]]


class UserBatchItem(BaseModel):
    """The outcome of one item: ``status`` 201 with the user, or an error status and body."""

    index: int
    status: int
    data: User | None = None
    error: BatchItemError | None = None


class BatchMeta(BaseModel):
    total: int
    created: int
    failed: int


class UserBatchResult(BaseModel):
    data: list[UserBatchItem]
    meta: BatchMeta
    links: dict[str, str] = Field(default_factory=dict)


class UserReplace(BaseModel):
    """PUT: every field given replaces the stored one as a whole; omitted fields stay."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(None, min_length=3, max_length=320, pattern=EMAIL_PATTERN)
    name: str | None = Field(None, max_length=200)
    org_role: OrgRole | None = None
    active: StrictBool | None = None
    external_id: str | None = Field(None, max_length=255)
    user_attributes: dict[str, AttributeValue] | None = Field(None, description=_ATTRS_DOC)
    connection_roles: dict[str, ConnectionRole] | None = Field(None, description=_ROLES_DOC)
    groups: list[str] | None = Field(None, max_length=1000, description=_GROUPS_DOC)
    change_log: dict[str, Any] | None = Field(None, description=_CHANGE_LOG_DOC)


class UserPatch(BaseModel):
    """PATCH: like PUT, except that ``user_attributes`` and ``connection_roles`` are merged key
    by key (null removes one key)."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(None, min_length=3, max_length=320, pattern=EMAIL_PATTERN)
    name: str | None = Field(None, max_length=200)
    org_role: OrgRole | None = None
    active: StrictBool | None = None
    external_id: str | None = Field(None, max_length=255)
    user_attributes: dict[str, AttributeValue] | None = Field(None, description=_ATTRS_DOC)
    connection_roles: dict[str, ConnectionRole | None] | None = Field(None, description=_ROLES_DOC)
    groups: list[str] | None = Field(None, max_length=1000, description=_GROUPS_DOC)
    change_log: dict[str, Any] | None = Field(None, description=_CHANGE_LOG_DOC)


class GroupMember(BaseModel):
    id: str
    email: str
    name: str


class Group(BaseModel):
    id: str
    name: str
    description: str | None
    external_id: str | None
    members: list[GroupMember]
    user_attributes: dict[str, Any]
    connection_roles: dict[str, ConnectionRole]
    created_at: datetime
    updated_at: datetime


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    external_id: str | None = Field(None, max_length=255)
    members: list[str] = Field(default_factory=list, max_length=10000, description="User ids.")
    user_attributes: dict[str, AttributeValue] = Field(default_factory=dict, description=_ATTRS_DOC)
    connection_roles: dict[str, ConnectionRole] = Field(
        default_factory=dict, description=_ROLES_DOC
    )


class GroupPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    external_id: str | None = Field(None, max_length=255)
    members: list[str] | None = Field(
        None, max_length=10000, description="User ids; replaces the member list."
    )
    add_members: list[str] | None = Field(None, max_length=10000)
    remove_members: list[str] | None = Field(None, max_length=10000)
    user_attributes: dict[str, AttributeValue] | None = Field(None, description=_ATTRS_DOC)
    connection_roles: dict[str, ConnectionRole | None] | None = Field(None, description=_ROLES_DOC)


class UserAttribute(BaseModel):
    id: str
    name: str
    label: str
    type: AttributeType
    multiple: bool
    default_value: Any
    description: str | None
    created_at: datetime
    updated_at: datetime


class UserAttributeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    label: str | None = Field(None, max_length=200)
    type: AttributeType = "string"
    multiple: StrictBool = False
    default_value: AttributeValue = None
    description: str | None = Field(None, max_length=2000)


class UserAttributePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(None, min_length=1, max_length=200)
    multiple: StrictBool | None = None
    default_value: AttributeValue = None
    description: str | None = Field(None, max_length=2000)


class ConnectionAccess(BaseModel):
    role: ConnectionRole
    permissions: list[str]


class WhoAmI(BaseModel):
    org_id: str
    kind: str
    user_id: str | None
    key_id: str | None
    is_org_admin: bool
    org_role: OrgRole
    label: str
    email: str | None
    name: str | None
    groups: list[str]
    permissions: list[str] = Field(description="Organization-wide permissions.")
    connections: dict[str, ConnectionAccess] = Field(
        description="Effective role (highest of the user's and its groups') per connection."
    )
    user_attributes: dict[str, list[str]] = Field(
        description="Effective attribute values, as access filters see them."
    )
