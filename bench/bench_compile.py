"""Compile-speed sanity figures for the semantic layer (not a test; prints numbers).

* warm compile of typical queries (p50 / p95, microseconds): a synthetic 100-view model and the
  demo model's seed-like queries (plain, period-over-period with a date range, another topic,
  and the access-filtered path), each with the ratio against sqlglot merely parsing the SQL it
  emits — a baseline measured in the same process, interleaved with the compiles, so figures
  from a slower or busier machine stay comparable;
* loading + validating a model of 100 views x 100 fields (seconds).

Run: .venv/bin/python bench/bench_compile.py [iterations]   (default 2000 per case)
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import sqlglot

from gnomon.demo.bundle import model_files
from gnomon.semantic import AccessContext, SemanticModel, compile_query, load_files


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


def _timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _case(
    label: str,
    model: SemanticModel,
    request: dict[str, Any],
    dialect: str,
    access: AccessContext | None,
    n: int,
) -> None:
    sql = compile_query(model, request, dialect=dialect, access=access).sql  # warm the caches
    # Interleaved, so that both series see the same machine load.
    compile_times: list[float] = []
    parse_times: list[float] = []
    for _ in range(n):
        compile_times += _timed(
            lambda: compile_query(model, request, dialect=dialect, access=access), 1
        )
        parse_times += _timed(lambda: sqlglot.parse_one(sql, read=dialect), 1)
    p50 = statistics.median(compile_times) * 1e6
    p95 = statistics.quantiles(compile_times, n=20)[18] * 1e6
    base = statistics.median(parse_times) * 1e6
    print(
        f"{label:<42} p50 {p50:7.0f} us  p95 {p95:7.0f} us  "
        f"parse p50 {base:6.0f} us  compile/parse {p50 / base:5.2f}x"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    gc.collect()
    start = time.perf_counter()
    synthetic = load_files(_model_files(100, 100))
    load_s = time.perf_counter() - start
    print(f"load+validate 100 views x 100 fields: {load_s:.3f} s")
    _recompile_after_one_view_change()
    print(f"warm compile, {n} iterations per case (sqlglot {version('sqlglot')}):")
    _case(
        "synthetic 100x100 (postgres)",
        synthetic,
        {
            "topic": "t",
            "dimensions": ["v1.created_at[month]", "v0.d3"],
            "measures": ["v1.m1", "v1.m2"],
            "filters": {"v1.d4": ["a", "b"]},
        },
        "postgres",
        None,
        n,
    )
    demo = load_files(model_files())
    org = AccessContext({}, unrestricted=True)
    monthly = {"topic": "revenue_analytics", "dimensions": ["date_month"]}
    cases: list[tuple[str, dict[str, Any], AccessContext]] = [
        ("demo revenue_analytics", {**monthly, "measures": ["total_revenue"]}, org),
        (
            "demo financial_metrics growth",
            {
                "topic": "financial_metrics",
                "dimensions": ["date_month"],
                "measures": ["total_revenue", "revenue_growth"],
                "filters": {"date_range": "2024-01-01 to 2024-03-31"},
            },
            org,
        ),
        (
            "demo customer_analytics",
            {
                "topic": "customer_analytics",
                "dimensions": ["acquisition_channel"],
                "measures": ["new_customers", "churn_rate", "customer_ltv"],
                "filters": {"date_range": "2024-01-01 to 2024-03-31"},
            },
            org,
        ),
        (
            "demo revenue_analytics, access",
            {**monthly, "measures": ["total_revenue"]},
            AccessContext({"customer_id": ("1",)}),
        ),
    ]
    for label, request, access in cases:
        _case(label + " (duckdb)", demo, request, "duckdb", access, n)


def _recompile_after_one_view_change(rounds: int = 20) -> None:
    """A model edit that touches one view: the new version is loaded (unchanged files come from
    the loader's cache) and a query compiled against it, with and without the validation rules
    (a write validates; the query path loads stored versions without them)."""
    files = _model_files(100, 100)
    load_files(files)
    request = {"topic": "t", "dimensions": ["v1.d3"], "measures": ["v1.m2", "v0.m1"]}
    for check in (False, True):
        times = []
        for i in range(rounds):
            edited = {**files, "v5.view": files["v5.view"] + f"\nlabel: edit {check} {i}"}
            start = time.perf_counter()
            model = load_files(edited, check=check)
            compile_query(model, request, dialect="postgres")
            times.append((time.perf_counter() - start) * 1000)
        label = "with validation" if check else "query path, no validation"
        print(
            f"recompile after one view changed ({label}): "
            f"p50 {statistics.median(times):.1f} ms, max {max(times):.1f} ms"
        )


if __name__ == "__main__":
    main()
