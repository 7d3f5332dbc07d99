from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from decimal import Decimal

import pyarrow as pa
import pyarrow.ipc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gnomon.engine import (
    Column,
    ConnectionSpec,
    QueryResult,
    create_engine,
    iter_arrow_ipc,
    iter_csv,
    result_to_arrow,
    rows_to_json_bytes,
    rows_to_json_records,
)
from gnomon.engine.values import to_json_value

COLUMNS = [
    Column("amount", "number"),
    Column("day", "date"),
    Column("at", "timestamp"),
    Column("label", "string"),
    Column("raw", "string"),
]
ROWS = [
    (
        Decimal("12.50"),
        dt.date(2024, 3, 1),
        dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.UTC),
        'say "hi", ok',
        b"\x00\x01",
    ),
    (None, None, None, None, None),
    (Decimal("7"), dt.date(2024, 3, 2), dt.datetime(2024, 3, 2, 0, 0, tzinfo=dt.UTC), "é", b""),
]


def test_json_records_are_json_safe() -> None:
    records = rows_to_json_records(COLUMNS, ROWS, names=["a", "d", "t", "l", "r"])

    assert records[0] == {
        "a": 12.5,
        "d": "2024-03-01",
        "t": "2024-03-01T12:30:00+00:00",
        "l": 'say "hi", ok',
        "r": "AAE=",
    }
    assert records[1] == dict.fromkeys(["a", "d", "t", "l", "r"])
    assert records[2]["a"] == 7
    assert isinstance(records[2]["a"], int)
    json.dumps(records, allow_nan=False)


def test_json_handles_nan_uuid_interval_and_nested_values() -> None:
    columns = [Column(n, "string") for n in ("f", "u", "i", "nested")]
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    rows = [
        (float("nan"), ident, dt.timedelta(days=1, hours=2, seconds=3.5), {"k": [Decimal("1.5")]})
    ]

    (record,) = rows_to_json_records(columns, rows)

    assert record == {
        "f": None,
        "u": str(ident),
        "i": "P1DT2H3.5S",
        "nested": {"k": [1.5]},
    }


def test_json_bytes_match_records() -> None:
    encoded = rows_to_json_bytes(COLUMNS, ROWS)

    assert json.loads(encoded) == rows_to_json_records(COLUMNS, ROWS)


def _canonical(encoded: bytes | str) -> str:
    """JSON text that tells 7 from 7.0 and ignores spacing and number spelling (1e16 / 1e+16)."""
    return json.dumps(json.loads(encoded), sort_keys=True)


def _reference(columns: list[Column], rows: list[tuple[object, ...]]) -> str:
    """The standard library's encoding of the converted records: what the fast path must equal."""
    return json.dumps(rows_to_json_records(columns, rows), allow_nan=False)


EVERY_KIND = [
    Decimal("7"),
    Decimal("-0.125"),
    Decimal("NaN"),
    Decimal("1E+30"),
    1.5,
    1e16,
    float("inf"),
    float("nan"),
    -(2**63),
    True,
    None,
    "é\u2028\x00",
    dt.date(1, 1, 1),
    dt.datetime(2024, 3, 1, 12, 30, 0, 1500),
    dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    dt.time(23, 59, 59, 999999),
    dt.timedelta(days=-1, seconds=1),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    b"\xff\x00",
    [Decimal("1.5"), dt.date(2024, 1, 1), None],
    {"k": {"n": Decimal("2")}},
]


@pytest.mark.parametrize("value", EVERY_KIND, ids=repr)
def test_json_bytes_encode_every_kind_of_value_like_the_records(value: object) -> None:
    columns = [Column("v", "string")]
    rows = [(value,)]

    assert _canonical(rows_to_json_bytes(columns, rows)) == _canonical(_reference(columns, rows))


@pytest.mark.parametrize(
    "value",
    [2**70, dt.time(12, 0, tzinfo=dt.UTC), {1: "integer key"}],
    ids=["int beyond 64 bits", "time with a zone", "non-string key"],
)
def test_json_bytes_fall_back_for_what_orjson_refuses(value: object) -> None:
    columns = [Column("v", "string"), Column("d", "number")]
    rows = [(value, Decimal("1.5"))]

    assert _canonical(rows_to_json_bytes(columns, rows)) == _canonical(_reference(columns, rows))


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.decimals(allow_nan=True), st.floats(), st.integers()),
            st.one_of(st.none(), st.text(), st.dates(), st.datetimes(), st.binary(max_size=8)),
        ),
        max_size=20,
    )
)
def test_json_bytes_equal_the_records_for_any_rows(rows: list[tuple[object, object]]) -> None:
    columns = [Column("n", "number"), Column("s", "string")]

    assert _canonical(rows_to_json_bytes(columns, rows)) == _canonical(_reference(columns, rows))


def test_names_must_match_columns() -> None:
    with pytest.raises(ValueError, match="names"):
        rows_to_json_records(COLUMNS, ROWS, names=["only_one"])


def test_csv_is_rfc4180() -> None:
    text = b"".join(iter_csv(COLUMNS, ROWS)).decode()

    assert text.split("\r\n")[0] == "amount,day,at,label,raw"
    assert '"say ""hi"", ok"' in text
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[1] == ["12.50", "2024-03-01", "2024-03-01T12:30:00+00:00", 'say "hi", ok', "AAE="]
    assert parsed[2] == ["", "", "", "", ""]
    assert parsed[3][3] == "é"


def test_csv_streams_in_chunks() -> None:
    columns = [Column("n", "number")]
    chunks = list(iter_csv(columns, ((i,) for i in range(5000))))

    assert len(chunks) > 1
    assert b"".join(chunks).count(b"\r\n") == 5001


def test_result_to_arrow_types_dates_decimals_and_nulls() -> None:
    table = result_to_arrow(QueryResult(COLUMNS, ROWS, truncated=False, duration_ms=1.0))

    assert table.schema.field("amount").type == pa.decimal128(38, 2)
    assert table.schema.field("day").type == pa.date32()
    assert table.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("raw").type == pa.binary()
    assert table.column("amount").to_pylist() == [Decimal("12.50"), None, Decimal("7.00")]
    assert table.column("day").null_count == 1


def test_arrow_ipc_stream_round_trips() -> None:
    table = result_to_arrow(QueryResult(COLUMNS, ROWS, truncated=False, duration_ms=1.0))

    data = b"".join(iter_arrow_ipc(table.to_batches(max_chunksize=1)))
    read = pyarrow.ipc.open_stream(data).read_all()

    assert read.equals(table)
    assert read.num_rows == 3


def test_arrow_ipc_of_duckdb_stream_has_one_chunk_per_batch() -> None:
    engine = create_engine(ConnectionSpec("duckdb"))
    try:
        stream = engine.stream_arrow(
            "select i, (i / 4)::decimal(10,2) as q, date '2024-01-01' + (i % 30)::int as d "
            "from range(200000) t(i)",
            batch_rows=50_000,
        )
        chunks = list(iter_arrow_ipc(stream))
    finally:
        engine.close()
    read = pyarrow.ipc.open_stream(b"".join(chunks)).read_all()

    assert read.num_rows == 200_000
    assert len(chunks) >= 4 + 2  # schema, ≥4 batches, end-of-stream marker
    assert max(len(c) for c in chunks) < 200_000 * 24  # never the whole result in one chunk
    assert read.column("q")[4].as_py() == Decimal("1.00")


def test_arrow_ipc_of_empty_source_with_schema() -> None:
    schema = pa.schema([pa.field("x", pa.int64())])

    data = b"".join(iter_arrow_ipc(iter([]), schema=schema))

    assert pyarrow.ipc.open_stream(data).read_all().schema == schema


def test_arrow_stream_keeps_dictionary_columns_readable() -> None:
    import io

    import pyarrow as pa
    import pyarrow.ipc

    from gnomon.engine import iter_arrow_ipc

    colours = pa.array(["red", "blue", "red"]).dictionary_encode()
    batch = pa.record_batch([colours, pa.array([1, 2, 3])], names=["colour", "n"])
    data = b"".join(iter_arrow_ipc([batch, batch]))
    table = pyarrow.ipc.open_stream(io.BytesIO(data)).read_all()
    assert table.num_rows == 6
    assert table.column("colour").to_pylist() == ["red", "blue", "red"] * 2


def test_arrow_stream_bytes_match_pyarrows_writer() -> None:
    import pyarrow as pa
    import pyarrow.ipc

    from gnomon.engine import iter_arrow_ipc

    batch = pa.record_batch([pa.array([1, None, 3]), pa.array(["a", "b", None])], names=["i", "s"])
    sink = pa.BufferOutputStream()
    with pyarrow.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
        writer.write_batch(batch)
    assert b"".join(iter_arrow_ipc([batch, batch])) == sink.getvalue().to_pybytes()


def _decimal_rule(value: Decimal) -> int | float | None:
    """What a decimal becomes in JSON: null when not finite, an integer when whole, else the
    nearest float."""
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


DECIMALS = [
    Decimal(text)
    for text in (
        *("0", "-0", "2.000", "1.50", "-0.125", "1E+30", "12345678901234567890"),
        *("0.99999999999999999999", "9007199254740993", "1E+400", "1.5E+400", "1E-400"),
        *("NaN", "-NaN", "sNaN", "Infinity", "-Infinity"),
    )
]


@pytest.mark.parametrize("value", DECIMALS, ids=str)
def test_decimals_become_json_numbers_by_the_rule(value: Decimal) -> None:
    converted = to_json_value(value)
    expected = _decimal_rule(value)
    assert type(converted) is type(expected)
    assert converted == expected


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_any_decimal_becomes_a_json_number_by_the_rule(value: Decimal) -> None:
    converted = to_json_value(value)
    expected = _decimal_rule(value)
    assert type(converted) is type(expected)
    assert converted == expected
