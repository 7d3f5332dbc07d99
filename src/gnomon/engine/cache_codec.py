"""The byte format of a cached result in Redis: JSON with type tags, no pickle.

Layout: ``b"GQC1"``, then three big-endian uint32 lengths (header, rows, data JSON), then the
three parts. The header is JSON (columns, created_at, truncated, duration_ms). Rows are a JSON
array of arrays in which JSON-native values stand for themselves and every other value is a
one-key object naming its type (``{"$dec": "1.50"}``, ``{"$date": "2024-01-31"}`` …), so the
rows come back with the same Python types. The data part is the ready ``data`` JSON, stored as
is so that a hit never re-encodes it; rows are only decoded if someone reads them.

Unlike pickle, decoding never runs code, so a shared Redis that someone else can write to cannot
be turned into code execution in the API process.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import struct
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from gnomon.engine.base import Column

MAGIC: Final = b"GQC1"
_LENGTHS = struct.Struct(">III")


def _float_tag(value: float) -> Any:
    return value if math.isfinite(value) else {"$float": repr(value)}


_ENCODERS: Final[dict[type, Callable[[Any], Any]]] = {
    float: _float_tag,
    Decimal: lambda v: {"$dec": str(v)},
    dt.date: lambda v: {"$date": v.isoformat()},
    dt.datetime: lambda v: {"$ts": v.isoformat()},
    dt.time: lambda v: {"$time": v.isoformat()},
    dt.timedelta: lambda v: {"$td": [v.days, v.seconds, v.microseconds]},
    uuid.UUID: lambda v: {"$uuid": str(v)},
    bytes: lambda v: {"$b64": base64.b64encode(v).decode("ascii")},
    tuple: lambda v: {"$tuple": [encode_value(x) for x in v]},
    list: lambda v: [encode_value(x) for x in v],
    dict: lambda v: {"$map": [[encode_value(k), encode_value(x)] for k, x in v.items()]},
}

_DECODERS: Final[dict[str, Callable[[Any], Any]]] = {
    "$float": float,
    "$dec": Decimal,
    "$date": dt.date.fromisoformat,
    "$ts": dt.datetime.fromisoformat,
    "$time": dt.time.fromisoformat,
    "$td": lambda v: dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "$uuid": uuid.UUID,
    "$b64": base64.b64decode,
    "$tuple": lambda v: tuple(decode_value(x) for x in v),
    "$map": lambda v: {decode_value(k): decode_value(x) for k, x in v},
}

_PLAIN: Final = frozenset({str, int, bool, type(None)})


def encode_value(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        # Anything unusual is kept as text: a cache must never fail a query that succeeded.
        return str(value)
    return encoder(value)


def decode_value(value: Any) -> Any:
    if type(value) is dict:
        ((tag, payload),) = value.items()
        return _DECODERS[tag](payload)
    if type(value) is list:
        return [decode_value(x) for x in value]
    return value


def encode_rows(rows: list[tuple[Any, ...]]) -> bytes:
    plain = _PLAIN
    return json.dumps(
        [[v if type(v) in plain else encode_value(v) for v in row] for row in rows],
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    ).encode()


def decode_rows(data: bytes) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for row in json.loads(data):
        if any(type(v) in (dict, list) for v in row):
            out.append(tuple(decode_value(v) for v in row))
        else:
            out.append(tuple(row))
    return out


def pack(
    *,
    columns: list[Column],
    rows_json: bytes,
    created_at: float,
    truncated: bool,
    duration_ms: float,
    data_json: bytes | None,
) -> bytes:
    header = json.dumps(
        {
            "columns": [[c.name, c.type] for c in columns],
            "created_at": created_at,
            "truncated": truncated,
            "duration_ms": duration_ms,
            "has_data": data_json is not None,
        },
        separators=(",", ":"),
    ).encode()
    data = data_json or b""
    return MAGIC + _LENGTHS.pack(len(header), len(rows_json), len(data)) + header + rows_json + data


def unpack(blob: bytes) -> tuple[dict[str, Any], bytes, bytes | None]:
    """(header, rows JSON, data JSON or None); ValueError on anything not written by pack."""
    if blob[:4] != MAGIC:
        raise ValueError("not a gnomon cached result")
    start = 4 + _LENGTHS.size
    header_len, rows_len, data_len = _LENGTHS.unpack(blob[4:start])
    header_end = start + header_len
    rows_end = header_end + rows_len
    header: dict[str, Any] = json.loads(blob[start:header_end])
    data = blob[rows_end : rows_end + data_len] if header.get("has_data") else None
    return header, blob[header_end:rows_end], data
