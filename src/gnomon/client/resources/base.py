"""Generic resource operations over the API conventions (DESIGN.md §2).

An API area is a thin class: its path, its model, and the operation mixins it supports
(list/iter, get, create, update = PATCH, replace = PUT, delete). Bodies are accepted as a
mapping (a seed body pasted as it is), as keyword fields, or both (keywords win), because
scripts ported from the seed already hold dicts while new code reads better with keywords.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from gnomon.client.core import AsyncCore, SyncCore
from gnomon.client.pagination import Page

M = TypeVar("M", bound=BaseModel)

Body = Mapping[str, Any]

__all__ = [
    "AsyncCreatable",
    "AsyncDeletable",
    "AsyncGettable",
    "AsyncListable",
    "AsyncReplaceable",
    "AsyncResource",
    "AsyncUpdatable",
    "Body",
    "Creatable",
    "Deletable",
    "Gettable",
    "Listable",
    "Replaceable",
    "SyncResource",
    "Updatable",
    "merge_body",
]


def merge_body(body: Body | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    return {**dict(body or {}), **fields}


def _list_params(
    page: int | None, per_page: int | None, sort: str | None, filters: Mapping[str, Any]
) -> dict[str, Any]:
    params: dict[str, Any] = {"page": page, "per_page": per_page, "sort": sort}
    for key, value in filters.items():
        # Booleans as the server's query parser expects them, not Python's "True".
        params[key] = str(value).lower() if isinstance(value, bool) else value
    return params


class SyncResource(Generic[M]):
    def __init__(self, core: SyncCore, path: str, model: type[M]) -> None:
        self._core = core
        self.path = path
        self.model = model

    def _parse(self, raw: Any) -> M:
        return self.model.model_validate(raw)

    def _item(self, item_id: str) -> str:
        return f"{self.path}/{item_id}"


class Listable(SyncResource[M]):
    def list(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        sort: str | None = None,
        **filters: Any,
    ) -> Page[M]:
        """One page; ``filters`` become query parameters."""
        return self._core.page(self.path, _list_params(page, per_page, sort, filters), self._parse)

    def iter(self, *, per_page: int = 200, sort: str | None = None, **filters: Any) -> Iterator[M]:
        """Every item, following ``links.next`` page by page."""
        params = _list_params(None, per_page, sort, filters)
        return self._core.iterate(self.path, params, self._parse)


class Gettable(SyncResource[M]):
    def get(self, item_id: str) -> M:
        return self._parse(self._core.data("GET", self._item(item_id)))


class Creatable(SyncResource[M]):
    def create(
        self, body: Body | None = None, /, *, idempotency_key: str | None = None, **fields: Any
    ) -> M:
        """POST; retried safely with an automatic (or the given) ``Idempotency-Key``."""
        raw = self._core.data(
            "POST", self.path, json=merge_body(body, fields), idempotency_key=idempotency_key
        )
        return self._parse(raw)


class Updatable(SyncResource[M]):
    def update(self, item_id: str, body: Body | None = None, /, **fields: Any) -> M:
        """PATCH: only the given fields change."""
        return self._parse(
            self._core.data("PATCH", self._item(item_id), json=merge_body(body, fields))
        )


class Replaceable(SyncResource[M]):
    def replace(self, item_id: str, body: Body | None = None, /, **fields: Any) -> M:
        """PUT: the seed's full update (``updateUser``/``updateUserRole``)."""
        return self._parse(
            self._core.data("PUT", self._item(item_id), json=merge_body(body, fields))
        )


class Deletable(SyncResource[M]):
    def delete(self, item_id: str) -> None:
        self._core.request("DELETE", self._item(item_id))


class AsyncResource(Generic[M]):
    def __init__(self, core: AsyncCore, path: str, model: type[M]) -> None:
        self._core = core
        self.path = path
        self.model = model

    def _parse(self, raw: Any) -> M:
        return self.model.model_validate(raw)

    def _item(self, item_id: str) -> str:
        return f"{self.path}/{item_id}"


class AsyncListable(AsyncResource[M]):
    async def list(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        sort: str | None = None,
        **filters: Any,
    ) -> Page[M]:
        params = _list_params(page, per_page, sort, filters)
        return await self._core.page(self.path, params, self._parse)

    def iter(
        self, *, per_page: int = 200, sort: str | None = None, **filters: Any
    ) -> AsyncIterator[M]:
        params = _list_params(None, per_page, sort, filters)
        return self._core.iterate(self.path, params, self._parse)


class AsyncGettable(AsyncResource[M]):
    async def get(self, item_id: str) -> M:
        return self._parse(await self._core.data("GET", self._item(item_id)))


class AsyncCreatable(AsyncResource[M]):
    async def create(
        self, body: Body | None = None, /, *, idempotency_key: str | None = None, **fields: Any
    ) -> M:
        raw = await self._core.data(
            "POST", self.path, json=merge_body(body, fields), idempotency_key=idempotency_key
        )
        return self._parse(raw)


class AsyncUpdatable(AsyncResource[M]):
    async def update(self, item_id: str, body: Body | None = None, /, **fields: Any) -> M:
        raw = await self._core.data("PATCH", self._item(item_id), json=merge_body(body, fields))
        return self._parse(raw)


class AsyncReplaceable(AsyncResource[M]):
    async def replace(self, item_id: str, body: Body | None = None, /, **fields: Any) -> M:
        raw = await self._core.data("PUT", self._item(item_id), json=merge_body(body, fields))
        return self._parse(raw)


class AsyncDeletable(AsyncResource[M]):
    async def delete(self, item_id: str) -> None:
        await self._core.request("DELETE", self._item(item_id))
