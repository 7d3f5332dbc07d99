"""End-to-end Query API figures on TPC-H SF1 in DuckDB (not a test; prints numbers).

* ``POST /api/v1/queries/run`` over HTTP (cache bypassed) vs DuckDB running the same SQL
  directly, in this process: median times and their ratio (goal ≤ 1.05);
* a cache hit over HTTP: p50 / p95 latency (goal p50 < 2 ms);
* an Arrow IPC stream of 10M rows through ``/api/v1/queries/sql`` vs DuckDB's own Arrow export
  in this process: rows/s and their ratio (goal ≥ 0.5), and the server's peak memory.

Data comes from the PyPI package ``tpchgen-cli`` (DuckDB's tpch extension cannot be downloaded
offline). Run: ``make bench`` or ``.venv/bin/python bench/bench_query.py [--scale 1]``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pyarrow.ipc

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from tests.live import live_server  # noqa: E402

TOKEN = "bench-token-0123456789abcdef0123456789"
TABLES = ("lineitem", "orders", "customer", "nation")
QUERIES = {
    "pricing_summary (Q1-like)": {
        "topic": "tpch",
        "dimensions": ["returnflag", "linestatus"],
        "measures": ["sum_qty", "sum_base_price", "revenue", "avg_disc", "line_count"],
        "filters": {"shipdate": {"lte": "1998-09-02"}},
    },
    "revenue_by_nation_year (Q5-like, fan-out safe)": {
        "topic": "tpch",
        "dimensions": ["nation", "orderdate_year"],
        "measures": ["revenue", "order_count"],
        "filters": {"segment": "BUILDING"},
    },
}
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


def _median_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    data = ROOT / "data"
    data.mkdir(exist_ok=True)
    db = build_tpch(data, args.scale)
    env = {"GNOMON_BOOTSTRAP_TOKEN": TOKEN, "GNOMON_DUCKDB_PATHS": str(data)}
    server_dir = data / "server"
    with live_server(server_dir, env) as server:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        client = httpx.Client(base_url=server.url, headers=headers, timeout=600)
        client.post(
            "/api/v1/connections", json={"name": "tpch", "dialect": "duckdb", "database": str(db)}
        )
        files = {p.name: p.read_text() for p in (ROOT / "tpch_model").iterdir()}
        client.post("/api/v1/models", json={"name": "tpch", "connection": "tpch", "files": files})
        direct = duckdb.connect(str(db), read_only=True)
        print(
            f"TPC-H SF{args.scale:g}, DuckDB {duckdb.__version__}, {args.runs} runs each (medians)"
        )
        for label, query in QUERIES.items():
            body = {**query, "connection": "tpch", "cache": "bypass"}
            sql = client.post("/api/v1/queries/run", json={**body, "plan_only": True}).json()[
                "meta"
            ]["sql"]
            client.post("/api/v1/queries/run", json=body)  # warm both sides once
            direct.execute(sql).fetchall()
            api_ms = _median_ms(
                lambda b=body: client.post("/api/v1/queries/run", json=b).raise_for_status(),
                args.runs,
            )
            duck_ms = _median_ms(lambda s=sql: direct.execute(s).fetchall(), args.runs)
            print(
                f"  {label}: API {api_ms:.1f} ms, DuckDB {duck_ms:.1f} ms, ratio {api_ms / duck_ms:.3f}"
            )

        cached = {**next(iter(QUERIES.values())), "connection": "tpch"}
        client.post("/api/v1/queries/run", json=cached)
        hits = []
        for _ in range(300):
            started = time.perf_counter()
            r = client.post("/api/v1/queries/run", json=cached)
            hits.append((time.perf_counter() - started) * 1000)
            assert r.json()["meta"]["cache_hit"]
        hits.sort()
        print(
            f"  cache hit over HTTP: p50 {hits[len(hits) // 2]:.2f} ms, p95 {hits[int(len(hits) * 0.95)]:.2f} ms"
        )

        started = time.perf_counter()
        rows = 0
        with client.stream(
            "POST",
            "/api/v1/queries/sql",
            json={"connection": "tpch", "sql": ARROW_SQL},
            headers={"Accept": "application/vnd.apache.arrow.stream"},
        ) as resp:
            body = io.BufferedReader(_ChunkReader(resp.iter_raw(1 << 20)), buffer_size=1 << 20)
            reader = pyarrow.ipc.open_stream(body)
            for batch in reader:
                rows += batch.num_rows
        api_s = time.perf_counter() - started
        # Baseline: DuckDB exporting the same result as an Arrow IPC stream, in this process.
        started = time.perf_counter()
        duck_rows = 0
        for batch in direct.sql(ARROW_SQL).to_arrow_reader(65536):
            batch.serialize()  # each batch's IPC message, as sending it anywhere would need
            duck_rows += batch.num_rows
        duck_s = time.perf_counter() - started
        peak_kb = _peak_rss_kb(server.process.pid)
        print(
            f"  Arrow stream {rows:,} rows: API {rows / api_s / 1e6:.2f} M rows/s, DuckDB IPC "
            f"export {duck_rows / duck_s / 1e6:.2f} M rows/s, ratio "
            f"{(rows / api_s) / (duck_rows / duck_s):.2f}; server peak RSS {peak_kb / 1024:.0f} MiB"
        )


class _ChunkReader(io.RawIOBase):
    """A file-like view of an HTTP body, so pyarrow reads the stream as it arrives."""

    def __init__(self, chunks):  # type: ignore[no-untyped-def]
        self._chunks = iter(chunks)
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:  # type: ignore[no-untyped-def]
        while not len(self._buffer):
            try:
                self._buffer = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]  # a view: no copy of the rest
        return n


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
