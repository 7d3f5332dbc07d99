"""The content event types (registered at import) and a helper to emit them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from gnomon import events
from gnomon.principal import Principal


class _DocumentData(BaseModel):
    model_config = ConfigDict(extra="allow")
    document: dict[str, Any]


class _FolderData(BaseModel):
    model_config = ConfigDict(extra="allow")
    folder: dict[str, Any]


class _PermissionsData(BaseModel):
    model_config = ConfigDict(extra="allow")
    resource_type: str
    resource_id: str
    permissions: dict[str, str]


for _name, _text in {
    "document.created": "A document (dashboard) was created or imported.",
    "document.updated": "A document's definition, tiles or filters changed.",
    "document.deleted": "A document was moved to the trash.",
    "document.moved": "A document was moved to another folder.",
    "document.restored": "A document was restored from the trash.",
}.items():
    events.register(_name, _text, _DocumentData)

for _name, _text in {
    "folder.created": "A folder was created.",
    "folder.updated": "A folder was renamed or its description changed.",
    "folder.moved": "A folder was moved under another parent.",
    "folder.deleted": "A folder was deleted (its documents went to the trash).",
}.items():
    events.register(_name, _text, _FolderData)

events.register(
    "permissions.changed", "The grants on a folder or document changed.", _PermissionsData
)


def emit(
    session: Session,
    principal: Principal,
    type_: str,
    target_type: str,
    target_id: str,
    data: Mapping[str, Any],
    *,
    changes: Mapping[str, Any] | None = None,
) -> None:
    events.emit(
        session,
        principal,
        events.Event(type_, target_type, target_id, dict(data), changes=changes),
    )
