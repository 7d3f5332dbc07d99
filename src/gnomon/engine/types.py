"""Mapping from database and Python value types to gnomon's five column types.

gnomon reports every result column as one of ``string``, ``number``, ``boolean``, ``date`` or
``timestamp`` (what a chart, a formatter or a spreadsheet needs to know). Each driver describes
columns differently (DuckDB type ids, PostgreSQL type OIDs, MySQL protocol field codes, SQLite
nothing at all), so the mappings are tables keyed by the sqlglot dialect name; anything a table
does not know is reported as ``string``, which every client can display.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

STRING: Final = "string"
NUMBER: Final = "number"
BOOLEAN: Final = "boolean"
DATE: Final = "date"
TIMESTAMP: Final = "timestamp"
GNOMON_TYPES: Final = frozenset({STRING, NUMBER, BOOLEAN, DATE, TIMESTAMP})

# DuckDBPyType.id values (DuckDB 1.x/2.x spell them in lower case).
DUCKDB_TYPES: Final[Mapping[str, str]] = {
    **dict.fromkeys(
        [
            "tinyint",
            "smallint",
            "integer",
            "bigint",
            "hugeint",
            "utinyint",
            "usmallint",
            "uinteger",
            "ubigint",
            "uhugeint",
            "float",
            "double",
            "decimal",
            "bignum",
        ],
        NUMBER,
    ),
    "boolean": BOOLEAN,
    "date": DATE,
    **dict.fromkeys(
        [
            "timestamp",
            "timestamp_s",
            "timestamp_ms",
            "timestamp_ns",
            "timestamp with time zone",
        ],
        TIMESTAMP,
    ),
}

# PostgreSQL type OIDs (pg_type.oid; stable across server versions).
POSTGRES_TYPES: Final[Mapping[int, str]] = {
    16: BOOLEAN,  # bool
    20: NUMBER,  # int8
    21: NUMBER,  # int2
    23: NUMBER,  # int4
    26: NUMBER,  # oid
    700: NUMBER,  # float4
    701: NUMBER,  # float8
    790: NUMBER,  # money
    1700: NUMBER,  # numeric
    1082: DATE,  # date
    1114: TIMESTAMP,  # timestamp
    1184: TIMESTAMP,  # timestamptz
}

# MySQL/MariaDB protocol field types (pymysql.constants.FIELD_TYPE). MySQL has no boolean on
# the wire: BOOL columns arrive as TINY and are reported as numbers (0/1).
MYSQL_TYPES: Final[Mapping[int, str]] = {
    0: NUMBER,  # DECIMAL
    1: NUMBER,  # TINY
    2: NUMBER,  # SHORT
    3: NUMBER,  # LONG
    4: NUMBER,  # FLOAT
    5: NUMBER,  # DOUBLE
    8: NUMBER,  # LONGLONG
    9: NUMBER,  # INT24
    13: NUMBER,  # YEAR
    246: NUMBER,  # NEWDECIMAL
    10: DATE,  # DATE
    14: DATE,  # NEWDATE
    7: TIMESTAMP,  # TIMESTAMP
    12: TIMESTAMP,  # DATETIME
}

TYPE_CODES: Final[Mapping[str, Mapping[Any, str]]] = {
    "duckdb": DUCKDB_TYPES,
    "postgres": POSTGRES_TYPES,
    "mysql": MYSQL_TYPES,
}

# Python value types as drivers return them; used where the driver reports no column types
# (SQLite) and for results that only exist as rows (cached results, hand-built results).
PYTHON_TYPES: Final[Mapping[type, str]] = {
    bool: BOOLEAN,
    int: NUMBER,
    float: NUMBER,
    Decimal: NUMBER,
    str: STRING,
    bytes: STRING,
    uuid.UUID: STRING,
    dt.date: DATE,
    dt.datetime: TIMESTAMP,
}


def type_from_code(dialect: str, code: Any) -> str:
    """The gnomon type for a driver's column type code; ``string`` when unknown."""
    table = TYPE_CODES.get(dialect, {})
    return table.get(code, STRING)


def type_from_values(values: Iterable[Any]) -> str:
    """The gnomon type of a column known only by its values (first non-null value decides).

    A column of only NULLs is a ``string``: it has to be something, and text is what every
    client can show.
    """
    for value in values:
        if value is not None:
            return PYTHON_TYPES.get(type(value), STRING)
    return STRING
