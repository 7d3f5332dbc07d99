"""Connections, the semantic model (+ versions) and the Query API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from gnomon.client.core import AsyncCore, SyncCore
from gnomon.client.models import Connection, Model, ModelVersion
from gnomon.client.resources.base import (
    AsyncCreatable,
    AsyncDeletable,
    AsyncGettable,
    AsyncListable,
    AsyncUpdatable,
    Body,
    Creatable,
    Deletable,
    Gettable,
    Listable,
    Updatable,
    merge_body,
)
from gnomon.client.results import (
    ArrowBatches,
    AsyncArrowBatches,
    QueryResult,
    _require,
    arrow_from_ipc,
)

__all__ = [
    "AsyncConnections",
    "AsyncModelResource",
    "AsyncQueries",
    "Connections",
    "ModelResource",
    "Queries",
]

ARROW = "application/vnd.apache.arrow.stream"
CSV = "text/csv"


class Connections(
    Listable[Connection],
    Gettable[Connection],
    Creatable[Connection],
    Updatable[Connection],
    Deletable[Connection],
):
    def __init__(self, core: SyncCore) -> None:
        super().__init__(core, "/connections", Connection)

    def test(self, connection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._core.data("POST", f"{self._item(connection_id)}/test")
        return result


class AsyncConnections(
    AsyncListable[Connection],
    AsyncGettable[Connection],
    AsyncCreatable[Connection],
    AsyncUpdatable[Connection],
    AsyncDeletable[Connection],
):
    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core, "/connections", Connection)

    async def test(self, connection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._core.data("POST", f"{self._item(connection_id)}/test")
        return result


def _model_path(model_id: str | None) -> str:
    # `/model` is the organization's default model; `/models/{id}` any other.
    return f"/models/{model_id}" if model_id else "/model"


def _versions(raw: Any) -> list[ModelVersion]:
    return [ModelVersion.model_validate(v) for v in (raw or [])]


class ModelResource:
    """``/model`` (the default model) and ``/models/{id}``: get, update (the seed's PUT),
    validate, versions, restore."""

    def __init__(self, core: SyncCore) -> None:
        self._core = core

    def get(self, model_id: str | None = None) -> Model:
        return Model.model_validate(self._core.data("GET", _model_path(model_id)))

    def create(self, body: Body | None = None, /, **fields: Any) -> Model:
        return Model.model_validate(
            self._core.data("POST", "/models", json=merge_body(body, fields))
        )

    def update(
        self, body: Body | None = None, /, *, model_id: str | None = None, **fields: Any
    ) -> Model:
        """PUT: the seed's ``updateCustomerTopics`` body, or ``{"files": {...}}``."""
        raw = self._core.data("PUT", _model_path(model_id), json=merge_body(body, fields))
        return Model.model_validate(raw)

    def validate(
        self, body: Body | None = None, /, *, model_id: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Check a proposed model without saving: ``{"valid", "issues", "broken_content"}``."""
        result: dict[str, Any] = self._core.data(
            "POST", f"{_model_path(model_id)}/validate", json=merge_body(body, fields)
        )
        return result

    def versions(self, model_id: str | None = None) -> list[ModelVersion]:
        return _versions(self._core.data("GET", f"{_model_path(model_id)}/versions"))

    def restore(self, version: int, model_id: str | None = None) -> Model:
        raw = self._core.data("POST", f"{_model_path(model_id)}/versions/{version}/restore")
        return Model.model_validate(raw)

    def list(self) -> list[Model]:
        return [Model.model_validate(m) for m in self._core.data("GET", "/models") or []]


class AsyncModelResource:
    def __init__(self, core: AsyncCore) -> None:
        self._core = core

    async def get(self, model_id: str | None = None) -> Model:
        return Model.model_validate(await self._core.data("GET", _model_path(model_id)))

    async def create(self, body: Body | None = None, /, **fields: Any) -> Model:
        raw = await self._core.data("POST", "/models", json=merge_body(body, fields))
        return Model.model_validate(raw)

    async def update(
        self, body: Body | None = None, /, *, model_id: str | None = None, **fields: Any
    ) -> Model:
        raw = await self._core.data("PUT", _model_path(model_id), json=merge_body(body, fields))
        return Model.model_validate(raw)

    async def validate(
        self, body: Body | None = None, /, *, model_id: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._core.data(
            "POST", f"{_model_path(model_id)}/validate", json=merge_body(body, fields)
        )
        return result

    async def versions(self, model_id: str | None = None) -> list[ModelVersion]:
        return _versions(await self._core.data("GET", f"{_model_path(model_id)}/versions"))

    async def restore(self, version: int, model_id: str | None = None) -> Model:
        raw = await self._core.data("POST", f"{_model_path(model_id)}/versions/{version}/restore")
        return Model.model_validate(raw)

    async def list(self) -> list[Model]:
        return [Model.model_validate(m) for m in await self._core.data("GET", "/models") or []]


class Queries:
    """``POST /queries/run`` with the seed's body (``topic``, ``dimensions``, ``measures``,
    ``filters``, ``sorts``, ``limit``, ``name``…)."""

    path = "/queries/run"

    def __init__(self, core: SyncCore) -> None:
        self._core = core

    def run(self, body: Body | None = None, /, **fields: Any) -> QueryResult:
        response = self._core.request("POST", self.path, json=merge_body(body, fields))
        return QueryResult.from_body(response.json())

    def run_csv(self, body: Body | None = None, /, **fields: Any) -> str:
        response = self._core.request(
            "POST", self.path, json=merge_body(body, fields), headers={"Accept": CSV}
        )
        return response.text

    def run_arrow(self, body: Body | None = None, /, **fields: Any) -> Any:
        """A ``pyarrow.Table`` read from the server's Arrow IPC stream (needs pyarrow)."""
        response = self._core.request(
            "POST", self.path, json=merge_body(body, fields), headers={"Accept": ARROW}
        )
        return arrow_from_ipc(response.content)

    @contextmanager
    def stream_arrow(self, body: Body | None = None, /, **fields: Any) -> Iterator[ArrowBatches]:
        """Record batches (``pyarrow.RecordBatch``) of the server's Arrow IPC stream, decoded as
        they arrive, so memory stays bounded by one batch however large the result::

            with gn.queries.stream_arrow(topic="usage_metrics", ...) as batches:
                for batch in batches:
                    ...

        ``batches.schema`` is set once the first message has arrived.
        """
        _require("pyarrow", "queries.stream_arrow()")
        with self._core.stream(
            "POST", self.path, json=merge_body(body, fields), headers={"Accept": ARROW}
        ) as response:
            yield ArrowBatches(response.iter_bytes())


class AsyncQueries:
    path = "/queries/run"

    def __init__(self, core: AsyncCore) -> None:
        self._core = core

    async def run(self, body: Body | None = None, /, **fields: Any) -> QueryResult:
        response = await self._core.request("POST", self.path, json=merge_body(body, fields))
        return QueryResult.from_body(response.json())

    async def run_csv(self, body: Body | None = None, /, **fields: Any) -> str:
        response = await self._core.request(
            "POST", self.path, json=merge_body(body, fields), headers={"Accept": CSV}
        )
        return response.text

    async def run_arrow(self, body: Body | None = None, /, **fields: Any) -> Any:
        response = await self._core.request(
            "POST", self.path, json=merge_body(body, fields), headers={"Accept": ARROW}
        )
        return arrow_from_ipc(response.content)

    @asynccontextmanager
    async def stream_arrow(
        self, body: Body | None = None, /, **fields: Any
    ) -> AsyncIterator[AsyncArrowBatches]:
        """See :meth:`Queries.stream_arrow`; iterate with ``async for``."""
        _require("pyarrow", "queries.stream_arrow()")
        async with self._core.stream(
            "POST", self.path, json=merge_body(body, fields), headers={"Accept": ARROW}
        ) as response:
            yield AsyncArrowBatches(response.aiter_bytes())
