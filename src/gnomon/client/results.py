"""Query results: rows as dicts, or Arrow / pandas when those libraries are installed.

pyarrow and pandas are optional for the SDK (it needs only httpx and pydantic), so they are
imported when a conversion is asked for, and a missing one says which package to install.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from gnomon.client.arrow_stream import ArrowStreamDecoder

__all__ = [
    "ArrowBatches",
    "AsyncArrowBatches",
    "MissingDependencyError",
    "QueryResult",
    "arrow_from_ipc",
]


class MissingDependencyError(ImportError):
    """An optional package (pyarrow, pandas) is needed for this conversion."""


def _require(module: str, purpose: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the {module!r} package: pip install {module}"
        ) from exc


# Query API field type → pyarrow type factory and its arguments.
_ARROW_TYPES: dict[str, tuple[Any, ...]] = {
    "date": ("date32",),
    "timestamp": ("timestamp", "us"),
    "datetime": ("timestamp", "us"),
    "number": ("float64",),
    "integer": ("int64",),
    "boolean": ("bool_",),
    "string": ("string",),
}


@dataclass(frozen=True)
class QueryResult:
    """``POST /queries/run``'s answer: ``rows`` keyed by the names asked for, plus ``meta``
    (``fields`` with types, ``sql``, ``cache_hit``, ``duration_ms``, ``row_count``, ``name``)."""

    rows: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Any) -> QueryResult:
        if not isinstance(body, dict):
            return cls(rows=[], meta={})
        rows = body.get("data") or []
        return cls(rows=list(rows), meta=dict(body.get("meta") or {}))

    @property
    def fields(self) -> list[dict[str, Any]]:
        return list(self.meta.get("fields") or [])

    @property
    def columns(self) -> list[str]:
        """Column names in the server's order (falls back to the first row's keys)."""
        names = [f["name"] for f in self.fields if "name" in f]
        return names or (list(self.rows[0]) if self.rows else [])

    @property
    def sql(self) -> str | None:
        value = self.meta.get("sql")
        return value if isinstance(value, str) else None

    @property
    def name(self) -> str | None:
        value = self.meta.get("name")
        return value if isinstance(value, str) else None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` with the columns in the server's order, typed by ``meta.fields``
        (JSON carries dates as text; the field type says they are dates)."""
        pa = _require("pyarrow", "QueryResult.to_arrow()")
        types = {f.get("name"): f.get("type") for f in self.fields}
        arrays = []
        for name in self.columns:
            array = pa.array([row.get(name) for row in self.rows])
            target = _ARROW_TYPES.get(str(types.get(name)))
            if target is not None:
                # On failure keep what JSON gave; a lossy guess would be worse.
                with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    array = array.cast(getattr(pa, target[0])(*target[1:]))
            arrays.append(array)
        return pa.Table.from_arrays(arrays, names=self.columns)

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` (through Arrow, so types match ``to_arrow``)."""
        _require("pandas", "QueryResult.to_pandas()")
        return self.to_arrow().to_pandas()


def arrow_from_ipc(payload: bytes) -> Any:
    """Read an Arrow IPC stream (``Accept: application/vnd.apache.arrow.stream``) into a Table."""
    pa = _require("pyarrow", "Arrow results")
    ipc = importlib.import_module("pyarrow.ipc")
    return ipc.open_stream(pa.py_buffer(payload)).read_all()


class _Batches:
    def __init__(self) -> None:
        self._decoder = ArrowStreamDecoder()

    @property
    def schema(self) -> Any:
        """The stream's schema, once its first message has arrived."""
        return self._decoder.schema


class ArrowBatches(_Batches):
    """The record batches of an Arrow IPC stream whose bytes arrive as ``chunks``."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks

    def __iter__(self) -> Iterator[Any]:
        for chunk in self._chunks:
            yield from self._decoder.feed(chunk)
        self._decoder.close()

    def read_all(self) -> Any:
        """The rest of the stream as one ``pyarrow.Table``."""
        pa = _require("pyarrow", "Arrow results")
        batches = list(self)
        return pa.Table.from_batches(batches, schema=self._decoder.schema)


class AsyncArrowBatches(_Batches):
    """:class:`ArrowBatches` over an async byte stream (``async for``)."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for chunk in self._chunks:
            for batch in self._decoder.feed(chunk):
                yield batch
        self._decoder.close()
