"""The demo warehouse: deterministic, complete over its three years, and internally consistent."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from gnomon.demo import TABLES, WarehouseInfo, build_warehouse
from gnomon.errors import Invalid


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def checksums(path: Path) -> dict[str, str]:
    """An order-independent fingerprint of every table's full contents."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            table: one(
                con,
                f"select md5(string_agg(cast(t as varchar), chr(10) order by cast(t as varchar)))"
                f" from main.{table} as t",
            )
            for table in TABLES
        }


def test_same_arguments_build_the_same_data(tmp_path: Path) -> None:
    day = date(2025, 3, 14)
    first = build_warehouse(tmp_path / "a.duckdb", today=day, seed=3, scale=0.05)
    second = build_warehouse(tmp_path / "b.duckdb", today=day, seed=3, scale=0.05)
    assert first.row_counts == second.row_counts
    assert checksums(first.path) == checksums(second.path)


def test_another_seed_builds_different_data(tmp_path: Path) -> None:
    day = date(2025, 3, 14)
    first = build_warehouse(tmp_path / "a.duckdb", today=day, seed=3, scale=0.05)
    other = build_warehouse(tmp_path / "b.duckdb", today=day, seed=4, scale=0.05)
    ours, theirs = checksums(first.path), checksums(other.path)
    assert all(ours[table] != theirs[table] for table in TABLES)


def test_rebuild_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    build_warehouse(path, today=date(2025, 3, 14), scale=0.05)
    rebuilt = build_warehouse(path, today=date(2024, 6, 1), scale=0.05)
    with duckdb.connect(str(path), read_only=True) as con:
        assert one(con, "select max(date) from main.daily_usage") == date(2024, 6, 1)
    assert rebuilt.today == date(2024, 6, 1)
    assert not list(tmp_path.glob("*.building*"))


def test_default_today_is_the_current_date(tmp_path: Path) -> None:
    info = build_warehouse(tmp_path / "demo.duckdb", scale=0.05)
    assert info.today == date.today()
    with duckdb.connect(str(info.path), read_only=True) as con:
        assert one(con, "select max(date) from main.daily_usage") == date.today()


def test_non_positive_scale_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(Invalid) as caught:
        build_warehouse(tmp_path / "demo.duckdb", scale=0)
    assert caught.value.issues[0].path == ("scale",)
    assert not (tmp_path / "demo.duckdb").exists()


def test_row_counts_are_reported_and_scale_with_customers(
    warehouse: WarehouseInfo, con: duckdb.DuckDBPyConnection
) -> None:
    assert list(warehouse.row_counts) == list(TABLES)
    for table, count in warehouse.row_counts.items():
        assert one(con, f"select count(*) from main.{table}") == count
    counts = warehouse.row_counts
    assert counts["customers"] == 400
    # scale 1 aims at ~60k orders / ~150k items / ~400k usage rows for 2,000 customers
    assert 9_000 <= counts["orders"] <= 15_000
    assert 2.2 <= counts["order_items"] / counts["orders"] <= 2.8
    assert 60_000 <= counts["daily_usage"] <= 100_000


def test_data_spans_three_years_up_to_today(
    warehouse: WarehouseInfo, con: duckdb.DuckDBPyConnection
) -> None:
    today = warehouse.today
    first = one(con, "select min(signup_date) from main.customers")
    assert date(today.year - 3, today.month, today.day) <= first
    assert first < date(today.year - 3, today.month, today.day) + timedelta(days=60)
    assert one(con, "select max(cast(created_at as date)) from main.orders") == today
    assert one(con, "select max(date) from main.daily_usage") == today
    assert one(con, "select max(signup_date) from main.customers") <= today
    assert one(con, "select max(started_at) from main.subscriptions") <= today


@pytest.mark.parametrize(
    ("table", "day_expr"),
    [
        ("orders", "cast(created_at as date)"),
        ("daily_usage", "date"),
        ("customers", "signup_date"),
    ],
)
def test_relative_ranges_find_rows(
    warehouse: WarehouseInfo, con: duckdb.DuckDBPyConnection, table: str, day_expr: str
) -> None:
    today = warehouse.today
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    last_90 = one(
        con,
        f"select count(*) from main.{table} where {day_expr} > ? and {day_expr} <= ?",
        [today - timedelta(days=90), today],
    )
    this_quarter = one(
        con,
        f"select count(*) from main.{table} where {day_expr} between ? and ?",
        [quarter_start, today],
    )
    assert last_90 > 0
    assert this_quarter > 0


def test_every_foreign_key_resolves(con: duckdb.DuckDBPyConnection) -> None:
    orphans = {
        "orders.customer_id": "select count(*) from main.orders o anti join main.customers c "
        "on c.id = o.customer_id",
        "order_items.order_id": "select count(*) from main.order_items i anti join main.orders o "
        "on o.id = i.order_id",
        "subscriptions.customer_id": "select count(*) from main.subscriptions s "
        "anti join main.customers c on c.id = s.customer_id",
        "daily_usage.customer_id": "select count(*) from main.daily_usage u "
        "anti join main.customers c on c.id = u.customer_id",
        "customers without subscription": "select count(*) from main.customers c "
        "anti join main.subscriptions s on s.customer_id = c.id",
    }
    assert {name: one(con, sql) for name, sql in orphans.items()} == dict.fromkeys(orphans, 0)


def test_primary_keys_are_unique(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("customers", "subscriptions", "orders", "order_items"):
        assert one(con, f"select count(*) - count(distinct id) from main.{table}") == 0
    assert (
        one(
            con,
            "select count(*) - count(distinct (date, user_id)) from main.daily_usage",
        )
        == 0
    )


def test_orders_fan_out_into_several_items(con: duckdb.DuckDBPyConnection) -> None:
    per_order = con.execute(
        "select count(*) filter (where n > 1), max(n), count(*) "
        "from (select order_id, count(*) as n from main.order_items group by order_id)"
    ).fetchone()
    assert per_order is not None
    multi, most, orders_with_items = per_order
    assert most >= 3
    assert multi > orders_with_items / 2
    assert orders_with_items == one(con, "select count(*) from main.orders")


def test_order_amount_is_the_sum_of_its_items(con: duckdb.DuckDBPyConnection) -> None:
    mismatches = one(
        con,
        "select count(*) from main.orders o join (select order_id, "
        "sum(quantity * unit_price) as total from main.order_items group by 1) i "
        "on i.order_id = o.id where o.amount <> i.total",
    )
    assert mismatches == 0


def test_activity_happens_only_while_subscribed(con: duckdb.DuckDBPyConnection) -> None:
    life = (
        "select c.id, c.signup_date, max(s.churned_at) as churned_at from main.customers c "
        "join main.subscriptions s on s.customer_id = c.id group by 1, 2"
    )
    early_or_late_orders = one(
        con,
        f"select count(*) from main.orders o join ({life}) l on l.id = o.customer_id "
        "where cast(o.created_at as date) < l.signup_date "
        "or cast(o.created_at as date) >= l.churned_at",
    )
    early_or_late_usage = one(
        con,
        f"select count(*) from main.daily_usage u join ({life}) l on l.id = u.customer_id "
        "where u.date < l.signup_date or u.date >= l.churned_at",
    )
    assert early_or_late_orders == 0
    assert early_or_late_usage == 0


def test_subscriptions_chain_without_gaps(con: duckdb.DuckDBPyConnection) -> None:
    """An upgrade ends one subscription the day the next starts; only the last can churn."""
    broken = one(
        con,
        "select count(*) from (select customer_id, started_at, ended_at, churned_at, "
        "lead(started_at) over w as next_start from main.subscriptions "
        "window w as (partition by customer_id order by started_at, id)) "
        "where (next_start is not null and (ended_at <> next_start or churned_at is not null)) "
        "or (churned_at is not null and ended_at <> churned_at)",
    )
    upgrades = one(
        con,
        "select count(*) from main.subscriptions s where s.ended_at is not null "
        "and s.churned_at is null",
    )
    assert broken == 0
    assert upgrades > 0


def test_churn_is_meaningful(con: duckdb.DuckDBPyConnection) -> None:
    rates = dict(
        con.execute(
            "select c.subscription_tier, avg(case when s.churned_at is not null then 1 else 0 end)"
            " from main.customers c join (select customer_id, max(churned_at) as churned_at "
            "from main.subscriptions group by 1) s on s.customer_id = c.id group by 1"
        ).fetchall()
    )
    assert 0.05 < rates["basic"] < 0.6
    # higher tiers churn less, so a churn_rate by tier tells a story
    assert rates["basic"] > rates["premium"] > rates["enterprise"]


def test_categories_use_the_documented_values(con: duckdb.DuckDBPyConnection) -> None:
    def values(sql: str) -> set[str]:
        return {row[0] for row in con.execute(sql).fetchall()}

    assert values("select distinct subscription_tier from main.customers") == {
        "basic",
        "premium",
        "enterprise",
    }
    assert values("select distinct acquisition_channel from main.customers") == {
        "organic",
        "paid_search",
        "referral",
        "partner",
        "outbound",
    }
    assert values("select distinct status from main.orders") == {
        "completed",
        "shipped",
        "cancelled",
        "refunded",
    }
    assert values("select distinct tier from main.subscriptions") == {
        "basic",
        "premium",
        "enterprise",
    }
    test_accounts = one(con, "select count(*) filter (where is_test) from main.customers")
    assert 0 < test_accounts < 20


def test_the_business_grows(warehouse: WarehouseInfo, con: duckdb.DuckDBPyConnection) -> None:
    today = warehouse.today
    revenue_by_year = [
        one(
            con,
            "select sum(amount) from main.orders where status in ('completed', 'shipped') "
            "and cast(created_at as date) > ? and cast(created_at as date) <= ?",
            [today - timedelta(days=365 * (k + 1)), today - timedelta(days=365 * k)],
        )
        for k in (2, 1, 0)
    ]
    assert revenue_by_year[0] < revenue_by_year[1] < revenue_by_year[2]


def test_weekends_are_quieter_than_weekdays(con: duckdb.DuckDBPyConnection) -> None:
    weekday, weekend = con.execute(
        "select count(*) filter (where isodow(created_at) < 6) / 5.0, "
        "count(*) filter (where isodow(created_at) >= 6) / 2.0 from main.orders"
    ).fetchone() or (0, 0)
    assert weekend < 0.7 * weekday
