"""End-to-end Query API figures on TPC-H SF1 in DuckDB (not a test; prints numbers).

* ``POST /api/v1/queries/run`` over HTTP (cache bypassed) vs DuckDB running the same SQL
  directly, in this process, the two runs alternating: median times and their ratio
  (goal ≤ 1.05), with a 95 % bootstrap interval of that ratio (how far this machine's noise
  alone could move it), and the median time around DuckDB (the HTTP round trip minus the
  server's own ``meta.duration_ms``), which the machine's noise moves far less;
* a cache hit over HTTP: p50 / p95 latency (goal p50 < 2 ms).

Requests are timed with a minimal HTTP/1.1 client on one keep-alive socket (it writes the
request and reads the response by its ``Content-Length``, as compiled clients do), so that the
figures are the server's rather than a client library's. Python's ``http.client`` parses
response headers with the ``email`` package and adds 0.1 to 0.4 ms per request here, ``httpx``
about a millisecond: the Q1 ratio is also printed as measured through ``http.client``, and the
cache hit through all three.

* an Arrow IPC stream of 10M rows through ``/api/v1/queries/sql`` vs DuckDB's own Arrow export
  in this process, alternating (5 runs each, medians): rows/s and their ratio (goal ≥ 0.5), and
  the server's peak memory. The stream is read batch by batch by pyarrow straight from
  ``http.client``'s response; the same stream read through ``httpx`` and the SDK's decoder
  (``queries.stream_arrow``; httpx parses the chunked body in Python, 64 KiB at a time, on the
  same two cores as the server) is printed beside it.

Data comes from the PyPI package ``tpchgen-cli`` (DuckDB's tpch extension cannot be downloaded
offline). Run: ``make bench`` or ``.venv/bin/python bench/bench_query.py [--scale 1]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow.ipc

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from tests.live import live_server  # noqa: E402

from gnomon.client.results import ArrowBatches  # noqa: E402

TOKEN = "bench-token-0123456789abcdef0123456789"
TABLES = ("lineitem", "orders", "customer", "nation")
_Q1: dict[str, Any] = {
    "topic": "tpch",
    "dimensions": ["returnflag", "linestatus"],
    "measures": ["sum_qty", "sum_base_price", "revenue", "avg_disc", "line_count"],
    "filters": {"shipdate": {"lte": "1998-09-02"}},
}
QUERIES: dict[str, dict[str, Any]] = {
    "pricing_summary (Q1-like)": _Q1,
    "revenue_by_nation_year (Q5-like, fan-out safe)": {
        "topic": "tpch",
        "dimensions": ["nation", "orderdate_year"],
        "measures": ["revenue", "order_count"],
        "filters": {"segment": "BUILDING"},
    },
}
ARROW = "application/vnd.apache.arrow.stream"
WARMUP_RUNS = 20
ARROW_SQL = "select i, i * 2 as j, i % 97 as k, i * 0.5 as x from range(10000000) t(i)"


def build_tpch(data: Path, scale: float) -> Path:
    db = data / f"tpch-sf{scale:g}.duckdb"
    if db.exists():
        return db
    raw = data / f"tpch-sf{scale:g}-parquet"
    gen = Path(sys.executable).with_name("tpchgen-cli")
    subprocess.run(
        [
            str(gen),
            "parquet",
            "-s",
            str(scale),
            f"--tables={','.join(TABLES)}",
            f"--output-dir={raw}",
        ],
        check=True,
    )
    con = duckdb.connect(str(db))
    for table in TABLES:
        con.execute(f"create table {table} as select * from read_parquet('{raw}/{table}.parquet')")
    con.close()
    return db


def _timed_ms(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _alternating(a, b, runs: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Times of ``a`` and ``b`` run alternately (a b b a …), so that drift in the machine's
    speed during the measurement affects both sides alike."""
    times_a: list[float] = []
    times_b: list[float] = []
    for i in range(runs):
        pair = ((a, times_a), (b, times_b)) if i % 2 == 0 else ((b, times_b), (a, times_a))
        for fn, times in pair:
            times.append(_timed_ms(fn))
    return times_a, times_b


def _ratio_interval(a: list[float], b: list[float], *, draws: int = 2000) -> tuple[float, float]:
    """A 95 % bootstrap interval of median(a) / median(b): how far the printed ratio could move
    on this machine's noise alone."""
    rng = random.Random(0)
    ratios = sorted(
        statistics.median(rng.choices(a, k=len(a))) / statistics.median(rng.choices(b, k=len(b)))
        for _ in range(draws)
    )
    return ratios[int(draws * 0.025)], ratios[int(draws * 0.975)]


class _Wire:
    """``POST`` with JSON over one keep-alive socket, the response read by its length."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.address = (host, int(port))
        self.head = (
            f"Host: {host}:{port}\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self._connect()

    def _connect(self) -> None:
        self.sock = socket.create_connection(self.address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rest = b""

    def post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        data = json.dumps(body).encode()
        request = b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (
            path.encode(),
            self.head,
            len(data),
            data,
        )
        try:
            self.sock.sendall(request)
            buf = self.rest or self._recv()
        except ConnectionError:
            # The server closes a connection idle for longer than its keep-alive timeout.
            self._connect()
            self.sock.sendall(request)
            buf = self._recv()
        while b"\r\n\r\n" not in buf:
            buf += self._recv()
        head, _, content = buf.partition(b"\r\n\r\n")
        status_line, *lines = head.split(b"\r\n")
        fields = dict(line.split(b":", 1) for line in lines)
        length = int(next(v for k, v in fields.items() if k.lower() == b"content-length"))
        while len(content) < length:
            content += self._recv()
        content, self.rest = content[:length], content[length:]
        if status_line.split()[1] != b"200":
            raise RuntimeError(f"{status_line!r}: {content[:500]!r}")
        result: dict[str, object] = json.loads(content)
        return result

    def _recv(self) -> bytes:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk


class _Http:
    """``POST`` with JSON over one keep-alive ``http.client`` connection."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port))
        self.headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        self.conn.request("POST", path, body=json.dumps(body), headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {data[:500]!r}")
        result: dict[str, object] = json.loads(data)
        return result

    def open(self, path: str, body: dict[str, object], accept: str) -> http.client.HTTPResponse:
        """``POST`` and return the response unread, for reading as a stream."""
        headers = {**self.headers, "Accept": accept}
        self.conn.request("POST", path, body=json.dumps(body), headers=headers)
        response = self.conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {response.read()[:500]!r}")
        return response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=61)
    parser.add_argument("--arrow-runs", type=int, default=5)
    args = parser.parse_args()
    data = ROOT / "data"
    data.mkdir(exist_ok=True)
    db = build_tpch(data, args.scale)
    env = {"GNOMON_BOOTSTRAP_TOKEN": TOKEN, "GNOMON_DUCKDB_PATHS": str(data)}
    # A store per scale: connection "tpch" points at that scale's database.
    server_dir = data / f"server-sf{args.scale:g}"
    with live_server(server_dir, env) as server:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        client = httpx.Client(base_url=server.url, headers=headers, timeout=600)
        names = [c["name"] for c in client.get("/api/v1/connections").json()["data"]]
        if "tpch" not in names:
            client.post(
                "/api/v1/connections",
                json={"name": "tpch", "dialect": "duckdb", "database": str(db)},
            ).raise_for_status()
            files = {p.name: p.read_text() for p in (ROOT / "tpch_model").iterdir()}
            client.post(
                "/api/v1/models", json={"name": "tpch", "connection": "tpch", "files": files}
            ).raise_for_status()
        direct = duckdb.connect(str(db), read_only=True)
        print(
            f"TPC-H SF{args.scale:g}, DuckDB {duckdb.__version__}, {args.runs} runs each, alternating "
            f"(medians, after {WARMUP_RUNS} runs each to warm up)"
        )
        wire, http_client = _Wire(server.url), _Http(server.url)
        runs: list[tuple[str, dict[str, Any], _Wire | _Http]] = [
            (label, query, wire) for label, query in QUERIES.items()
        ]
        runs.append(("pricing_summary through http.client", _Q1, http_client))
        for label, query, poster in runs:
            body = {**query, "connection": "tpch", "cache": "bypass"}
            sql = client.post("/api/v1/queries/run", json={**body, "plan_only": True}).json()[
                "meta"
            ]["sql"]
            durations: list[float] = []

            def api(
                b: dict[str, object] = body,
                durations: list[float] = durations,
                poster: _Wire | _Http = poster,
            ) -> None:
                meta = poster.post("/api/v1/queries/run", b)["meta"]
                durations.append(meta["duration_ms"])  # type: ignore[index]

            def duck(s: str = sql) -> None:
                direct.execute(s).fetchall()

            # Both sides to their steady state first: a fresh server's first few dozen queries
            # run slower (the interpreter specialising the hot path, allocators growing).
            _alternating(api, duck, WARMUP_RUNS)
            del durations[:]
            api_times, duck_times = _alternating(api, duck, args.runs)
            api_ms, duck_ms = statistics.median(api_times), statistics.median(duck_times)
            low, high = _ratio_interval(api_times, duck_times)
            around = statistics.median(t - d for t, d in zip(api_times, durations, strict=True))
            print(
                f"  {label}: API {api_ms:.1f} ms, DuckDB {duck_ms:.1f} ms, ratio "
                f"{api_ms / duck_ms:.3f} (95% bootstrap interval {low:.3f} to {high:.3f}); "
                f"around DuckDB {around:.2f} ms"
            )

        cached = {**_Q1, "connection": "tpch"}
        wire.post("/api/v1/queries/run", cached)
        hits: dict[str, list[float]] = {"wire": [], "http.client": [], "httpx": []}
        for _ in range(300):
            hits["wire"].append(_timed_ms(lambda: wire.post("/api/v1/queries/run", cached)))
            hits["http.client"].append(
                _timed_ms(lambda: http_client.post("/api/v1/queries/run", cached))
            )
            hits["httpx"].append(
                _timed_ms(lambda: client.post("/api/v1/queries/run", json=cached).json())
            )
        assert client.post("/api/v1/queries/run", json=cached).json()["meta"]["cache_hit"]
        for name, times in hits.items():
            times.sort()
            print(
                f"  cache hit over HTTP ({name}): p50 {times[len(times) // 2]:.2f} ms, "
                f"p95 {times[int(len(times) * 0.95)]:.2f} ms"
            )

        counted: dict[str, int] = {}

        def api_stream() -> None:
            rows = 0
            response = http_client.open("/api/v1/queries/sql", arrow_body, ARROW)
            for batch in pyarrow.ipc.open_stream(response):
                rows += batch.num_rows
            assert response.read() == b""
            counted["api"] = rows

        def api_stream_httpx() -> None:
            rows = 0
            with client.stream(
                "POST",
                "/api/v1/queries/sql",
                json={"connection": "tpch", "sql": ARROW_SQL},
                headers={"Accept": ARROW},
            ) as resp:
                # The SDK's decoder (queries.stream_arrow) over httpx's chunks of the body.
                for batch in ArrowBatches(resp.iter_raw()):
                    rows += batch.num_rows
            counted["api"] = rows

        def duckdb_export() -> None:
            # Baseline: DuckDB exporting the same result as Arrow IPC messages, in this process.
            rows = 0
            for batch in direct.sql(ARROW_SQL).to_arrow_reader(65536):
                batch.serialize()  # each batch's IPC message, as sending it anywhere would need
                rows += batch.num_rows
            counted["duckdb"] = rows

        arrow_body = {"connection": "tpch", "sql": ARROW_SQL}
        for name, stream in (("http.client", api_stream), ("httpx", api_stream_httpx)):
            api_times, duck_times = _alternating(stream, duckdb_export, args.arrow_runs)
            api_ms, duck_ms = statistics.median(api_times), statistics.median(duck_times)
            assert counted.pop("api") == counted.pop("duckdb") == 10_000_000, counted
            print(
                f"  Arrow stream 10,000,000 rows ({name}, {args.arrow_runs} alternating runs, "
                f"medians): API {1e4 / api_ms:.2f} M rows/s, DuckDB IPC export "
                f"{1e4 / duck_ms:.2f} M rows/s, ratio {duck_ms / api_ms:.2f}"
            )
        peak_kb = _peak_rss_kb(server.process.pid)
        print(f"  server peak RSS after the Arrow streams: {peak_kb / 1024:.0f} MiB")


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
