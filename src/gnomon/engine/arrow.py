"""Python rows → Arrow, for results that do not come out of the database as Arrow already.

DuckDB hands out Arrow natively; SQLite, PostgreSQL, MySQL and cached results only have Python
rows. The Arrow type of each column follows its gnomon type, refined by the values of the
first batch (so an integer column stays ``int64`` and a DECIMAL(12,2) stays a decimal); later
batches are converted to that same schema because an IPC stream has exactly one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Final

import pyarrow as pa

from gnomon.engine.base import Column
from gnomon.engine.types import BOOLEAN, DATE, NUMBER, TIMESTAMP
from gnomon.engine.values import to_text
from gnomon.errors import QueryError

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_DECIMAL_MAX_PRECISION = 38


def _number_type(values: Sequence[Any]) -> pa.DataType:
    kinds = {type(v) for v in values if v is not None}
    if not kinds or float in kinds or not kinds <= {int, bool, Decimal}:
        return pa.float64()
    if Decimal not in kinds:
        fits = all(v is None or _INT64_MIN <= v <= _INT64_MAX for v in values)
        return pa.int64() if fits else pa.float64()
    scale = 0
    whole_digits = 1
    for v in values:
        if isinstance(v, Decimal):
            if not v.is_finite():
                return pa.float64()
            exponent = v.as_tuple().exponent
            assert isinstance(exponent, int)
            scale = max(scale, -exponent)
            whole_digits = max(whole_digits, v.adjusted() + 1)
        elif isinstance(v, int):
            whole_digits = max(whole_digits, len(str(abs(v))))
    if whole_digits + scale > _DECIMAL_MAX_PRECISION:
        return pa.float64()
    return pa.decimal128(_DECIMAL_MAX_PRECISION, scale)


def _timestamp_type(values: Sequence[Any]) -> pa.DataType:
    aware = any(isinstance(v, dt.datetime) and v.tzinfo is not None for v in values)
    return pa.timestamp("us", tz="UTC") if aware else pa.timestamp("us")


def _string_type(values: Sequence[Any]) -> pa.DataType:
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {bytes, bytearray, memoryview}:
        return pa.binary()
    return pa.string()


_TYPE_RULES: Final[dict[str, Callable[[Sequence[Any]], pa.DataType]]] = {
    NUMBER: _number_type,
    BOOLEAN: lambda _values: pa.bool_(),
    DATE: lambda _values: pa.date32(),
    TIMESTAMP: _timestamp_type,
}


def arrow_type_for(gnomon_type: str, values: Sequence[Any]) -> pa.DataType:
    """The Arrow type for a column of ``gnomon_type`` holding (a first batch of) ``values``."""
    return _TYPE_RULES.get(gnomon_type, _string_type)(values)


def _coerce(value: Any, target: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_string(target):
        return value if isinstance(value, str) else to_text(value)
    if pa.types.is_floating(target):
        return float(value)
    if pa.types.is_decimal(target):
        quantum = Decimal(1).scaleb(-target.scale)
        return Decimal(value).quantize(quantum, rounding=ROUND_HALF_EVEN)
    if pa.types.is_integer(target):
        if float(value).is_integer():
            return int(value)
        raise ValueError(f"{value!r} is not an integer")
    if pa.types.is_boolean(target):
        return bool(value)
    if pa.types.is_timestamp(target) and isinstance(value, dt.datetime):
        if target.tz is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value
    if pa.types.is_binary(target) and isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError)


def column_array(name: str, values: Sequence[Any], target: pa.DataType) -> pa.Array:
    """``values`` as an Arrow array of ``target``; values of a neighbouring Python type are
    converted (Decimal → float, int → decimal, anything → text) rather than failing."""
    try:
        return pa.array(values, type=target)
    except _CONVERSION_ERRORS:
        pass
    try:
        return pa.array([_coerce(v, target) for v in values], type=target)
    except _CONVERSION_ERRORS as exc:
        raise QueryError(
            f"Column {name!r} holds values that do not fit its type {target}: {exc}",
            error_type="database_error",
        ) from exc


def schema_for(columns: Sequence[Column], rows: Sequence[tuple[Any, ...]]) -> pa.Schema:
    """The Arrow schema for ``columns``, refined by the values in ``rows``."""
    by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    fields = [
        pa.field(column.name, arrow_type_for(column.type, values))
        for column, values in zip(columns, by_column, strict=True)
    ]
    return pa.schema(fields)


def rows_to_batch(
    columns: Sequence[Column], rows: Sequence[tuple[Any, ...]], schema: pa.Schema | None = None
) -> pa.RecordBatch:
    """One record batch of ``rows``; ``schema`` (from the first batch) keeps later ones alike."""
    if schema is None:
        schema = schema_for(columns, rows)
    by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    arrays = [
        column_array(fld.name, values, fld.type)
        for fld, values in zip(schema, by_column, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
