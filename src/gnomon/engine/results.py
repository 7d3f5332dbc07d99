"""Result encoders: JSON records, CSV and Arrow IPC streams.

All three render values the same way (see :mod:`gnomon.engine.values`). CSV and Arrow are
produced as iterators of byte chunks so that the API can stream a large export without holding
it in memory twice.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson
import pyarrow as pa

from gnomon.engine.arrow import rows_to_batch
from gnomon.engine.base import Column, QueryResult
from gnomon.engine.values import JSON_NATIVE, to_json_value, to_text

CSV_CHUNK_ROWS = 2048


def _keys(columns: Sequence[Column], names: Sequence[str] | None) -> list[str]:
    keys = [c.name for c in columns] if names is None else list(names)
    if len(keys) != len(columns):
        raise ValueError(f"{len(keys)} names given for {len(columns)} columns")
    return keys


def rows_to_json_records(
    columns: Sequence[Column],
    rows: Iterable[tuple[Any, ...]],
    names: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Rows as JSON-safe dicts keyed by ``names`` (default: the column names).

    Decimal becomes int when integral, else float; NaN/Infinity become None; dates and times
    ISO 8601; bytes base64. When two names are equal the later column wins.
    """
    keys = _keys(columns, names)
    native = JSON_NATIVE
    convert = to_json_value
    return [
        dict(zip(keys, [v if type(v) in native else convert(v) for v in row], strict=True))
        for row in rows
    ]


def rows_to_json_bytes(
    columns: Sequence[Column],
    rows: Iterable[tuple[Any, ...]],
    names: Sequence[str] | None = None,
) -> bytes:
    """The JSON array of :func:`rows_to_json_records`, encoded once (UTF-8, compact).

    The query cache stores these bytes next to the rows so that a cache hit can splice them
    into the response instead of converting and encoding every value again.

    orjson encodes what it knows natively the way :func:`to_json_value` would (strings, numbers,
    NaN as null, ISO 8601 dates and times, UUIDs, lists) and hands everything else to it (Decimal,
    bytes, timedelta …), about three times as fast as converting every value in Python first.
    What orjson refuses (an integer beyond 64 bits, a time with a zone, a non-string key) is
    encoded by the standard library from the converted records.
    """
    keys = _keys(columns, names)
    rows = rows if isinstance(rows, Sequence) else list(rows)
    try:
        return orjson.dumps(
            [dict(zip(keys, row, strict=True)) for row in rows], default=to_json_value
        )
    except orjson.JSONEncodeError:
        records = rows_to_json_records(columns, rows, names)
        return json.dumps(
            records, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode()


def iter_csv(
    columns: Sequence[Column],
    rows: Iterable[tuple[Any, ...]],
    names: Sequence[str] | None = None,
) -> Iterator[bytes]:
    """RFC 4180 CSV (CRLF line ends, fields quoted when needed), UTF-8, header first; yielded
    in chunks of a few thousand rows. NULL is an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_keys(columns, names))
    text = to_text
    pending = 0
    for row in rows:
        writer.writerow([v if type(v) is str else text(v) for v in row])
        pending += 1
        if pending >= CSV_CHUNK_ROWS:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    tail = buffer.getvalue()
    if tail:
        yield tail.encode()


class _ChunkSink:
    """A file-like sink for the Arrow IPC writer that hands its bytes out as they come."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        return len(chunk)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


_END_OF_STREAM = b"\xff\xff\xff\xff\x00\x00\x00\x00"


def iter_arrow_ipc(
    schema_batches: Iterable[pa.RecordBatch] | pa.RecordBatchReader,
    schema: pa.Schema | None = None,
) -> Iterator[bytes | memoryview]:
    """An Arrow IPC *stream* (readable with ``pyarrow.ipc.open_stream``), one chunk per batch.

    Only one batch is held at a time. The schema comes from ``schema``, else from the source's
    ``schema`` attribute (an :class:`~gnomon.engine.base.ArrowStream` or a RecordBatchReader),
    else from the first batch; an empty source with no known schema gives an empty-schema
    stream.
    """
    schema = schema or getattr(schema_batches, "schema", None)
    iterator = iter(schema_batches)
    first: pa.RecordBatch | None = None
    if schema is None:
        first = next(iterator, None)
        schema = first.schema if first is not None else pa.schema([])
    if any(pa.types.is_dictionary(f.type) for f in schema):
        # Dictionary columns need their dictionaries sent as messages of their own: the
        # stream writer does that.
        yield from _written_stream(schema, first, iterator)
        return
    # Each message is serialised straight into one buffer (schema, then one per batch, then the
    # end-of-stream marker): the same bytes pyarrow's stream writer produces, without a Python
    # file object collecting its many small writes.
    # Views of Arrow's own buffers (a view keeps its buffer alive): copying each message into a
    # bytes object cost as much as a tenth of a large export.
    yield schema.serialize().to_pybytes()
    if first is not None:
        yield memoryview(first.serialize())
    for batch in iterator:
        yield memoryview(batch.serialize())
    yield _END_OF_STREAM


def _written_stream(
    schema: pa.Schema, first: pa.RecordBatch | None, rest: Iterator[pa.RecordBatch]
) -> Iterator[bytes]:
    sink = _ChunkSink()
    writer = pa.ipc.new_stream(sink, schema)
    yield sink.drain()
    for batch in [first] if first is not None else []:
        writer.write_batch(batch)
        yield sink.drain()
    for batch in rest:
        writer.write_batch(batch)
        yield sink.drain()
    writer.close()
    yield sink.drain()


def result_to_arrow(result: QueryResult) -> pa.Table:
    """A materialised result (e.g. from the cache) as an Arrow table typed by its columns."""
    batch = rows_to_batch(result.columns, result.rows)
    return pa.Table.from_batches([batch], schema=batch.schema)
