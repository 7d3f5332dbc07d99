"""Large Arrow streams from a live server: every row arrives, and a client that leaves mid-stream
costs the server nothing lasting (the query is closed, later streams are whole)."""

from __future__ import annotations

import http.client
import json
import time

import pyarrow.ipc
from tests.client.servers import BOOTSTRAP_TOKEN, RestartableServer

ARROW = "application/vnd.apache.arrow.stream"
ROWS = 2_000_000


def _open(live: RestartableServer, sql: str) -> tuple[http.client.HTTPConnection, object]:
    host, port = live.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request(
        "POST",
        "/api/v1/queries/sql",
        body=json.dumps({"connection": "main_db", "sql": sql}),
        headers={
            "Authorization": f"Bearer {BOOTSTRAP_TOKEN}",
            "Content-Type": "application/json",
            "Accept": ARROW,
        },
    )
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("content-type") == ARROW
    return conn, response


def test_a_large_stream_arrives_whole_in_order(live: RestartableServer) -> None:
    conn, response = _open(live, f"select i, i * 2 as j from range({ROWS}) t(i) order by i")
    expected = 0
    batches = 0
    for batch in pyarrow.ipc.open_stream(response):
        column = batch.column("i").to_pylist()
        assert column == list(range(expected, expected + len(column)))
        expected += len(column)
        batches += 1
    conn.close()
    assert expected == ROWS
    assert batches > 1  # streamed in several batches, not one materialised table


def test_a_client_leaving_mid_stream_does_not_break_later_streams(
    live: RestartableServer,
) -> None:
    log_before = len(live.log())
    for _ in range(3):
        conn, response = _open(live, "select i from range(50000000) t(i)")
        reader = pyarrow.ipc.open_stream(response)
        assert reader.read_next_batch().num_rows > 0
        conn.sock.close()  # type: ignore[union-attr]  # leave without reading the rest
        conn.close()
    # The abandoned queries end (their cursors are closed on the server's side) and the server
    # keeps answering streams whole.
    deadline = time.monotonic() + 10
    conn, response = _open(live, f"select i from range({ROWS}) t(i)")
    rows = sum(batch.num_rows for batch in pyarrow.ipc.open_stream(response))
    conn.close()
    assert rows == ROWS
    assert time.monotonic() < deadline
    new_log = live.log()[log_before:]
    assert "Traceback" not in new_log, new_log[-3000:]
