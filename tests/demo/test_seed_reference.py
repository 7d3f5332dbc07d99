"""The seed queries' hand-written reference SQL gives plausible numbers on the demo warehouse.

These numbers are what the compiled topic queries are compared with, so they are checked
against independent, simpler facts of the data first.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from gnomon.demo import SeedQuery, WarehouseInfo, previous_quarter_range, quarter_range
from gnomon.demo import seed_queries as make_seed_queries


def run(con: duckdb.DuckDBPyConnection, query: SeedQuery) -> list[dict[str, Any]]:
    cursor = con.execute(query.reference_sql, dict(query.parameters))
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def by_name(warehouse: WarehouseInfo, customer_id: int, **kw: Any) -> dict[str, SeedQuery]:
    return {q.name: q for q in make_seed_queries(warehouse.today, customer_id, **kw)}


def test_quarter_ranges() -> None:
    assert quarter_range(date(2026, 11, 29)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert quarter_range(date(2026, 1, 1)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert previous_quarter_range(date(2026, 1, 1)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert previous_quarter_range(date(2026, 8, 15)) == (date(2026, 4, 1), date(2026, 6, 30))


def test_seed_requests_are_the_seed_bodies(warehouse: WarehouseInfo) -> None:
    queries = by_name(warehouse, 42)
    assert queries["monthly_revenue_trend"].request == {
        "topic": "revenue_analytics",
        "dimensions": ["date_month"],
        "measures": ["total_revenue"],
        "filters": {"customer_id": 42},
    }
    assert queries["business_kpis"].request["filters"] == {"date": "2026-11-29"}
    assert queries["customer_metrics"].request["filters"] == {
        "date_range": ["2026-10-01", "2026-12-31"]
    }


def test_monthly_revenue_adds_up_to_the_customers_revenue(
    warehouse: WarehouseInfo, con: duckdb.DuckDBPyConnection, customer_id: int
) -> None:
    rows = run(con, by_name(warehouse, customer_id)["monthly_revenue_trend"])
    total = con.execute(
        "select sum(amount) from main.orders where customer_id = ? "
        "and status in ('completed', 'shipped')",
        [customer_id],
    ).fetchone()
    assert total is not None
    assert len(rows) > 3
    assert sum((r["total_revenue"] or Decimal(0)) for r in rows) == total[0]
    assert [r["date_month"] for r in rows] == sorted(r["date_month"] for r in rows)


def test_active_users_is_bounded_by_seats(
    warehouse: WarehouseInfo, con: duckdb.DuckDBPyConnection, customer_id: int
) -> None:
    (row,) = run(con, by_name(warehouse, customer_id)["active_users"])
    seats = con.execute("select seats from main.customers where id = ?", [customer_id]).fetchone()
    assert seats is not None
    assert 0 < row["active_users_count"] <= seats[0]


def test_quarter_revenue_growth_compares_with_the_month_before(
    warehouse: WarehouseInfo, con: duckdb.DuckDBPyConnection
) -> None:
    quarter = previous_quarter_range(warehouse.today)
    rows = run(con, by_name(warehouse, 1, quarter=quarter)["revenue_summary"])
    assert [r["date_month"].month for r in rows] == [7, 8, 9]
    # The first month's growth needs June's revenue, which is outside the range.
    june = con.execute(
        "select sum(o.amount) from main.orders o join main.customers c on c.id = o.customer_id "
        "where not c.is_test and o.status in ('completed', 'shipped') "
        "and o.created_at >= date '2026-06-01' and o.created_at < date '2026-07-01'"
    ).fetchone()
    assert june is not None
    july = rows[0]["total_revenue"]
    assert rows[0]["revenue_growth"] == pytest.approx(float((july - june[0]) / june[0]))
    assert rows[1]["revenue_growth"] == pytest.approx(
        float((rows[1]["total_revenue"] - july) / july)
    )


def test_customer_metrics_cover_every_channel_of_the_cohort(
    warehouse: WarehouseInfo, con: duckdb.DuckDBPyConnection
) -> None:
    quarter = previous_quarter_range(warehouse.today)
    rows = run(con, by_name(warehouse, 1, quarter=quarter)["customer_metrics"])
    cohort = con.execute(
        "select count(*) from main.customers where not is_test and signup_date between ? and ?",
        list(quarter),
    ).fetchone()
    assert cohort is not None
    assert {r["acquisition_channel"] for r in rows} == {
        "organic",
        "paid_search",
        "referral",
        "partner",
        "outbound",
    }
    assert sum(r["new_customers"] for r in rows) == cohort[0]
    assert all(0 <= r["churn_rate"] < 1 and r["customer_ltv"] > 0 for r in rows)


def test_daily_kpis_for_today(warehouse: WarehouseInfo, con: duckdb.DuckDBPyConnection) -> None:
    (row,) = run(con, by_name(warehouse, 1)["business_kpis"])
    assert row["daily_revenue"] > 0
    assert row["active_users"] > 0
