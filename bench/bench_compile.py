"""Compile-speed sanity figures for the semantic layer (not a test; prints numbers).

* warm compile of a typical query (p50 / p95, microseconds), with the ratio against sqlglot
  merely parsing the SQL it emits (a baseline measured in the same process);
* loading + validating a model of 100 views x 100 fields (seconds).

Run: .venv/bin/python bench/bench_compile.py
"""

from __future__ import annotations

import statistics
import time

import sqlglot

from gnomon.semantic import compile_query, load_files


def _model_files(views: int, fields: int) -> dict[str, str]:
    files: dict[str, str] = {}
    rels: list[str] = []
    for v in range(views):
        dims = ["  id: {primary_key: true, type: number}", "  parent_id: {type: number}"]
        dims += [f"  d{i}: {{}}" for i in range(fields // 2 - 2)]
        dims.append("  created_at: {timeframes: [date, week, month]}")
        meas = [
            f"  m{i}: {{sql: '${{d{i % 40}}}', aggregate_type: sum}}" for i in range(fields // 2)
        ]
        files[f"v{v}.view"] = (
            f"table_name: t{v}\ndimensions:\n" + "\n".join(dims) + "\nmeasures:\n" + "\n".join(meas)
        )
        if v:
            rels.append(
                f"- {{join_from_view: v{v}, join_to_view: v{v - 1}, "
                f"on_sql: '${{v{v}.parent_id}} = ${{v{v - 1}.id}}', relationship_type: many_to_one}}"
            )
    files["relationships"] = "\n".join(rels)
    files["t.topic"] = "base_view: v1\njoins: {v0: {}}\n"
    return files


def _timed(fn: object, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    start = time.perf_counter()
    model = load_files(_model_files(100, 100))
    load_s = time.perf_counter() - start
    request = {
        "topic": "t",
        "dimensions": ["v1.created_at[month]", "v0.d3"],
        "measures": ["v1.m1", "v1.m2"],
        "filters": {"v1.d4": ["a", "b"]},
    }
    sql = compile_query(model, request, dialect="postgres").sql
    compile_times = _timed(lambda: compile_query(model, request, dialect="postgres"), 2000)
    parse_times = _timed(lambda: sqlglot.parse_one(sql, read="postgres"), 2000)
    p50 = statistics.median(compile_times) * 1e6
    p95 = statistics.quantiles(compile_times, n=20)[18] * 1e6
    base = statistics.median(parse_times) * 1e6
    print(f"load+validate 100 views x 100 fields: {load_s:.3f} s")
    print(f"warm compile p50: {p50:.0f} us  p95: {p95:.0f} us")
    print(f"baseline sqlglot parse of the emitted SQL p50: {base:.0f} us")
    print(f"ratio compile / parse: {p50 / base:.2f}x")


if __name__ == "__main__":
    main()
