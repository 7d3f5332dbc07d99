"""Arrow results read as they arrive: the SDK's stream decoder and ``queries.stream_arrow``."""

from __future__ import annotations

import asyncio

import pyarrow as pa
import pyarrow.ipc
import pytest
from tests.client.servers import BOOTSTRAP_TOKEN, RestartableServer

from gnomon.client import AsyncGnomon, Gnomon, ValidationError
from gnomon.client.arrow_stream import ArrowStreamDecoder
from gnomon.client.results import ArrowBatches


def _stream(batches: list[pa.RecordBatch], schema: pa.Schema) -> bytes:
    sink = pa.BufferOutputStream()
    with pyarrow.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


SCHEMA = pa.schema(
    [
        ("i", pa.int64()),
        ("name", pa.string()),
        ("tier", pa.dictionary(pa.int8(), pa.string())),
        ("x", pa.float64()),
    ]
)


def _batches(n: int, rows: int) -> list[pa.RecordBatch]:
    out = []
    for b in range(n):
        ids = list(range(b * rows, (b + 1) * rows))
        out.append(
            pa.record_batch(
                [
                    pa.array(ids, pa.int64()),
                    pa.array([f"n{i}" if i % 5 else None for i in ids]),
                    pa.array(["basic", "pro", "enterprise"] * (rows // 3) + ["pro"] * (rows % 3))
                    .dictionary_encode()
                    .cast(pa.dictionary(pa.int8(), pa.string())),
                    pa.array([i * 0.5 for i in ids]),
                ],
                schema=SCHEMA,
            )
        )
    return out


@pytest.mark.parametrize("piece", [1, 7, 64, 4096, 1 << 30])
def test_any_chunking_gives_the_same_batches(piece: int) -> None:
    sent = _batches(5, 300)
    data = _stream(sent, SCHEMA)
    decoder = ArrowStreamDecoder()
    got = [batch for chunk in _pieces(data, piece) for batch in decoder.feed(chunk)]
    decoder.close()
    assert decoder.done
    assert decoder.schema == SCHEMA
    assert [b.num_rows for b in got] == [300] * 5
    assert pa.Table.from_batches(got).equals(pa.Table.from_batches(sent))


def test_each_batch_is_handed_out_as_soon_as_it_is_complete() -> None:
    sent = _batches(3, 100)
    data = _stream(sent, SCHEMA)
    decoder = ArrowStreamDecoder()
    counts = [len(decoder.feed(chunk)) for chunk in _pieces(data, 1)]
    # Three batches, each returned by the feed that completed it (not all at the end).
    assert sum(counts) == 3
    assert counts[-1] == 0  # the last feed is the end-of-stream marker
    firsts = [i for i, c in enumerate(counts) if c]
    assert firsts[0] < len(data) // 2


def test_an_empty_result_has_a_schema_and_no_batches() -> None:
    decoder = ArrowStreamDecoder()
    assert decoder.feed(_stream([], SCHEMA)) == []
    decoder.close()
    assert decoder.schema == SCHEMA


def test_a_cut_off_stream_is_an_error_not_a_short_result() -> None:
    data = _stream(_batches(2, 50), SCHEMA)
    batches = ArrowBatches(iter(_pieces(data[:-20], 100)))
    with pytest.raises(ValueError, match="ended before"):
        list(batches)


def test_bytes_that_are_not_an_arrow_stream_are_refused() -> None:
    with pytest.raises(ValueError, match="not an Arrow IPC stream"):
        ArrowStreamDecoder().feed(b'{"error": "not arrow"}')
    garbage_header = b"\xff\xff\xff\xff" + (16).to_bytes(4, "little") + b"\xf0" * 16
    with pytest.raises(ValueError, match="malformed Arrow IPC message header"):
        ArrowStreamDecoder().feed(garbage_header)


QUERY = {
    "topic": "usage_metrics",
    "dimensions": ["customer_id"],
    "measures": ["active_users_count"],
    "sorts": ["customer_id"],
}


def test_stream_arrow_matches_run_arrow(demo: Gnomon) -> None:
    whole = demo.queries.run_arrow(QUERY)
    with demo.queries.stream_arrow(QUERY) as batches:
        streamed = batches.read_all()
        assert batches.schema == whole.schema
    assert streamed.num_rows == whole.num_rows > 0
    assert streamed.equals(whole)


def test_stream_arrow_raises_the_api_error_before_any_batch(demo: Gnomon) -> None:
    with (
        pytest.raises(ValidationError) as info,
        demo.queries.stream_arrow(topic="usage_metrics", measures=["no_such_measure"]),
    ):
        pass
    assert info.value.details


def test_async_stream_arrow(live: RestartableServer, demo: Gnomon) -> None:
    whole = demo.queries.run_arrow(QUERY)

    async def scenario() -> pa.Table:
        async with (
            AsyncGnomon(live.url, BOOTSTRAP_TOKEN) as agn,
            agn.queries.stream_arrow(QUERY) as batches,
        ):
            got = [batch async for batch in batches]
        return pa.Table.from_batches(got, schema=whole.schema)

    assert asyncio.run(scenario()).equals(whole)


PLAIN = pa.schema([("i", pa.int64()), ("s", pa.string()), ("l", pa.list_(pa.int32()))])


@pytest.mark.parametrize("piece", [1, 13, 65536, 1 << 30])
def test_streams_without_dictionaries_decode_in_place(piece: int) -> None:
    sent = [
        pa.record_batch(
            [
                pa.array(range(k * 1000, (k + 1) * 1000), pa.int64()),
                pa.array([str(i) for i in range(1000)]),
                pa.array([[i, i + 1] for i in range(1000)], pa.list_(pa.int32())),
            ],
            schema=PLAIN,
        )
        for k in range(4)
    ]
    decoder = ArrowStreamDecoder()
    got = [b for chunk in _pieces(_stream(sent, PLAIN), piece) for b in decoder.feed(chunk)]
    decoder.close()
    assert pa.Table.from_batches(got).equals(pa.Table.from_batches(sent))
