"""The seed's topic queries, compiled by gnomon.semantic and run on the demo warehouse, give the
same numbers as hand-written SQL over the raw tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from gnomon.demo import SeedQuery, WarehouseInfo, previous_quarter_range, seed_queries
from gnomon.semantic.compiler import AccessContext, compile_query
from gnomon.semantic.model import AccessFilter, SemanticModel

Row = dict[str, Any]


def fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None
) -> list[Row]:
    cursor = con.execute(sql, dict(params or {}))
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def run_topic_query(
    con: duckdb.DuckDBPyConnection,
    model: SemanticModel,
    request: Mapping[str, Any],
    today: datetime,
    access: AccessContext | None = None,
) -> list[Row]:
    compiled = compile_query(model, request, dialect="duckdb", access=access, now=today)
    return fetch(con, compiled.sql)


def comparable(rows: Sequence[Row], key: Sequence[str]) -> list[dict[str, Any]]:
    """Rows sorted by their key, numbers as floats (Decimal vs double is not a difference)."""

    def norm(value: Any) -> Any:
        if isinstance(value, Decimal | float):
            return pytest.approx(float(value), rel=1e-9, abs=1e-9)
        return value

    ordered = sorted(rows, key=lambda r: tuple(str(r[k]) for k in key))
    return [{k: norm(v) for k, v in r.items()} for r in ordered]


def now_of(warehouse: WarehouseInfo) -> datetime:
    return datetime(warehouse.today.year, warehouse.today.month, warehouse.today.day, 12)


def the_query(warehouse: WarehouseInfo, customer_id: int, name: str, **kw: Any) -> SeedQuery:
    (query,) = [q for q in seed_queries(warehouse.today, customer_id, **kw) if q.name == name]
    return query


def assert_matches_reference(
    con: duckdb.DuckDBPyConnection,
    model: SemanticModel,
    warehouse: WarehouseInfo,
    query: SeedQuery,
) -> list[Row]:
    expected = fetch(con, query.reference_sql, query.parameters)
    actual = run_topic_query(con, model, query.request, now_of(warehouse))
    assert expected, f"reference SQL of {query.name} found no rows"
    assert [sorted(r) for r in actual] == [sorted(r) for r in expected]
    assert comparable(actual, query.key) == comparable(expected, query.key)
    return actual


@pytest.mark.parametrize(
    "name",
    [
        "monthly_revenue_trend",
        "active_users",
        "revenue_summary",
        "customer_metrics",
        "business_kpis",
    ],
)
def test_seed_query_matches_hand_written_sql(
    con: duckdb.DuckDBPyConnection,
    demo_model: SemanticModel,
    warehouse: WarehouseInfo,
    customer_id: int,
    name: str,
) -> None:
    assert_matches_reference(con, demo_model, warehouse, the_query(warehouse, customer_id, name))


@pytest.mark.parametrize("name", ["revenue_summary", "customer_metrics"])
def test_executive_report_for_a_complete_quarter(
    con: duckdb.DuckDBPyConnection,
    demo_model: SemanticModel,
    warehouse: WarehouseInfo,
    name: str,
) -> None:
    quarter = previous_quarter_range(warehouse.today)
    rows = assert_matches_reference(
        con, demo_model, warehouse, the_query(warehouse, 1, name, quarter=quarter)
    )
    assert len(rows) >= 3


def test_revenue_growth_of_the_first_month_uses_the_month_before_the_range(
    con: duckdb.DuckDBPyConnection, demo_model: SemanticModel, warehouse: WarehouseInfo
) -> None:
    quarter = previous_quarter_range(warehouse.today)
    query = the_query(warehouse, 1, "revenue_summary", quarter=quarter)
    rows = run_topic_query(con, demo_model, query.request, now_of(warehouse))
    first = min(rows, key=lambda r: r["date_month"])
    assert first["revenue_growth"] is not None


def test_test_accounts_never_show_up(
    con: duckdb.DuckDBPyConnection, demo_model: SemanticModel, warehouse: WarehouseInfo
) -> None:
    row = con.execute(
        "select c.id from main.customers c join main.orders o on o.customer_id = c.id "
        "where c.is_test order by c.id limit 1"
    ).fetchone()
    assert row is not None
    query = the_query(warehouse, int(row[0]), "monthly_revenue_trend")
    assert run_topic_query(con, demo_model, query.request, now_of(warehouse)) == []


def with_seed_access_filters(model: SemanticModel) -> SemanticModel:
    settings = model.settings.model_copy(
        update={
            "default_topic_access_filters": (
                AccessFilter(field="customer_id", user_attribute="customer_id"),
                AccessFilter(field="subscription_tier", user_attribute="subscription_tier"),
            )
        }
    )
    return model.model_copy(update={"settings": settings})


def test_access_filters_restrict_a_user_to_their_customer(
    con: duckdb.DuckDBPyConnection,
    demo_model: SemanticModel,
    warehouse: WarehouseInfo,
    customer_id: int,
) -> None:
    tier = con.execute(
        "select subscription_tier from main.customers where id = ?", [customer_id]
    ).fetchone()
    assert tier is not None
    query = the_query(warehouse, customer_id, "monthly_revenue_trend")
    unfiltered = {k: v for k, v in query.request.items() if k != "filters"}
    user = AccessContext(
        attributes={"customer_id": (str(customer_id),), "subscription_tier": (tier[0],)}
    )
    actual = run_topic_query(
        con, with_seed_access_filters(demo_model), unfiltered, now_of(warehouse), user
    )
    expected = fetch(con, query.reference_sql, query.parameters)
    assert comparable(actual, query.key) == comparable(expected, query.key)


def test_access_filters_with_another_tier_see_nothing(
    con: duckdb.DuckDBPyConnection,
    demo_model: SemanticModel,
    warehouse: WarehouseInfo,
    customer_id: int,
) -> None:
    tier = con.execute(
        "select subscription_tier from main.customers where id = ?", [customer_id]
    ).fetchone()
    assert tier is not None
    other = "basic" if tier[0] != "basic" else "enterprise"
    request = the_query(warehouse, customer_id, "active_users").request
    user = AccessContext(
        attributes={"customer_id": (str(customer_id),), "subscription_tier": (other,)}
    )
    rows = run_topic_query(
        con, with_seed_access_filters(demo_model), request, now_of(warehouse), user
    )
    assert rows == [{"active_users_count": 0}]


def test_revenue_is_not_inflated_by_order_lines(
    con: duckdb.DuckDBPyConnection, demo_model: SemanticModel, warehouse: WarehouseInfo
) -> None:
    """orders → order_items is one_to_many: asking for units sold next to revenue joins the
    lines, and revenue must still count each order once."""
    start, end = previous_quarter_range(warehouse.today)
    request = {
        "topic": "revenue_analytics",
        "dimensions": ["date_month"],
        "measures": ["total_revenue", "units_sold", "order_count"],
        "filters": {"date_range": [start.isoformat(), end.isoformat()]},
    }
    expected = fetch(
        con,
        """
        select cast(date_trunc('month', o.created_at) as date) as date_month,
            sum(case when o.status in ('completed', 'shipped') then o.amount end)
                as total_revenue,
            sum(i.units) as units_sold,
            count(*) as order_count
        from main.orders o
        join main.customers c on c.id = o.customer_id
        left join (select order_id, sum(quantity) as units from main.order_items group by 1) i
            on i.order_id = o.id
        where not c.is_test and o.created_at >= $start
            and o.created_at < $end + interval 1 day
        group by 1
        """,
        {"start": start, "end": end},
    )
    actual = run_topic_query(con, demo_model, request, now_of(warehouse))
    assert len(expected) == 3
    assert comparable(actual, ["date_month"]) == comparable(expected, ["date_month"])
