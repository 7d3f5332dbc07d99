"""Folders and documents (dashboards), with export/import between instances."""

from __future__ import annotations

from typing import Any

from gnomon.client.core import AsyncCore, SyncCore
from gnomon.client.models import Document, Folder
from gnomon.client.resources.base import (
    AsyncCreatable,
    AsyncDeletable,
    AsyncGettable,
    AsyncListable,
    AsyncReplaceable,
    AsyncUpdatable,
    Body,
    Creatable,
    Deletable,
    Gettable,
    Listable,
    Replaceable,
    Updatable,
    merge_body,
)

__all__ = ["AsyncDocuments", "AsyncFolders", "Documents", "Folders"]


class Folders(
    Listable[Folder], Gettable[Folder], Creatable[Folder], Updatable[Folder], Deletable[Folder]
):
    """``/folders``: created by ``path`` (missing ancestors are created)."""

    def __init__(self, core: SyncCore) -> None:
        super().__init__(core, "/folders", Folder)

    def export(self, folder_id: str) -> dict[str, Any]:
        """Every document under the folder as one bundle."""
        result: dict[str, Any] = self._core.data("GET", f"{self._item(folder_id)}/export")
        return result

    def import_(self, bundle: Body, /, **options: Any) -> dict[str, Any]:
        """Import a folder bundle; options: ``folder`` (target path), ``connection_mapping``,
        ``topic_mapping``, ``validation_mode``, ``dry_run``, ``on_conflict``."""
        body = {"bundle": dict(bundle), **options}
        result: dict[str, Any] = self._core.data("POST", f"{self.path}/import", json=body)
        return result

    def find_by_path(self, path: str) -> Folder | None:
        """The folder at exactly ``path`` (``/Customers/Acme``), or None."""
        wanted = "/" + path.strip("/")
        return next((f for f in self.iter(path=wanted) if f.path.rstrip("/") == wanted), None)


class AsyncFolders(
    AsyncListable[Folder],
    AsyncGettable[Folder],
    AsyncCreatable[Folder],
    AsyncUpdatable[Folder],
    AsyncDeletable[Folder],
):
    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core, "/folders", Folder)

    async def export(self, folder_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._core.data("GET", f"{self._item(folder_id)}/export")
        return result

    async def import_(self, bundle: Body, /, **options: Any) -> dict[str, Any]:
        body = {"bundle": dict(bundle), **options}
        result: dict[str, Any] = await self._core.data("POST", f"{self.path}/import", json=body)
        return result


class Documents(
    Listable[Document],
    Gettable[Document],
    Creatable[Document],
    Updatable[Document],
    Replaceable[Document],
    Deletable[Document],
):
    """``/documents``: the seed's ``createCustomerDashboard`` body works as ``create(body)``."""

    def __init__(self, core: SyncCore) -> None:
        super().__init__(core, "/documents", Document)

    def export(self, document_id: str) -> dict[str, Any]:
        """A self-contained bundle (``dashboard``, ``workbook_model``, …) for ``import_``."""
        result: dict[str, Any] = self._core.data("GET", f"{self._item(document_id)}/export")
        return result

    def import_(self, bundle: Body | None = None, /, **fields: Any) -> dict[str, Any]:
        """The seed's ``deployDashboard`` step 3; add ``connection_mapping``, ``topic_mapping``,
        ``folder``, ``dry_run``, ``on_conflict`` as keywords."""
        result: dict[str, Any] = self._core.data(
            "POST", f"{self.path}/import", json=merge_body(bundle, fields)
        )
        return result

    def run(self, document_id: str, body: Body | None = None, /, **fields: Any) -> dict[str, Any]:
        """Every tile's result with the dashboard's filters (+ overrides)."""
        result: dict[str, Any] = self._core.data(
            "POST", f"{self._item(document_id)}/run", json=merge_body(body, fields)
        )
        return result


class AsyncDocuments(
    AsyncListable[Document],
    AsyncGettable[Document],
    AsyncCreatable[Document],
    AsyncUpdatable[Document],
    AsyncReplaceable[Document],
    AsyncDeletable[Document],
):
    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core, "/documents", Document)

    async def export(self, document_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._core.data("GET", f"{self._item(document_id)}/export")
        return result

    async def import_(self, bundle: Body | None = None, /, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._core.data(
            "POST", f"{self.path}/import", json=merge_body(bundle, fields)
        )
        return result

    async def run(
        self, document_id: str, body: Body | None = None, /, **fields: Any
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._core.data(
            "POST", f"{self._item(document_id)}/run", json=merge_body(body, fields)
        )
        return result
