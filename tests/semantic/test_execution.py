"""Compiled SQL executed on DuckDB, SQLite, PostgreSQL and MariaDB.

Every case must give the same rows on all four engines AND the rows computed here in plain
Python from the dataset (the fan-out cases prove that no sum, count or average is inflated by
joined duplicates).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from tests.semantic.conftest import (
    CUSTOMERS,
    LINE_ITEMS,
    ORDERS,
    PRODUCT_TAGS,
    PRODUCTS,
    TAGS,
    Runner,
)

from gnomon.semantic import AccessContext, SemanticModel, compile_query

NOW = datetime(2024, 4, 15, 12, 0)
Row = tuple[Any, ...]


def norm(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return round(float(value), 4)
    return value


def normalise(rows: list[Row]) -> list[Row]:
    return sorted((tuple(norm(v) for v in r) for r in rows), key=lambda r: repr(r[:1]))


def same(got: list[Row], expected: list[Row]) -> bool:
    """Row sets equal, numbers within a cent (engines round DECIMAL quantiles differently)."""

    def close(a: Any, b: Any) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return abs(a - b) <= 0.011
        return bool(a == b)

    return len(got) == len(expected) and all(
        len(g) == len(e) and all(close(a, b) for a, b in zip(g, e, strict=True))
        for g, e in zip(got, expected, strict=True)
    )


# ---- plain-Python reference computations --------------------------------------------------

ORDER = {o[0]: o for o in ORDERS}
CUSTOMER = {c[0]: c for c in CUSTOMERS}
PRODUCT = {p[0]: p for p in PRODUCTS}
TAG = {t[0]: t for t in TAGS}


def amount(order_id: int) -> float:
    return float(ORDER[order_id][3])


def by_group(groups: dict[Any, set[int]], *funcs: Callable[[set[int]], Any]) -> list[Row]:
    return [(key, *(f(ids) for f in funcs)) for key, ids in groups.items()]


def revenue(ids: set[int]) -> float:
    return sum(amount(i) for i in ids)


def month(ts: str) -> str:
    return ts[:7] + "-01"


def ref_status() -> list[Row]:
    groups: dict[Any, set[int]] = defaultdict(set)
    for o in ORDERS:
        groups[o[2]].add(o[0])
    return by_group(groups, revenue, len)


def ref_region() -> list[Row]:
    groups: dict[Any, set[int]] = defaultdict(set)
    for o in ORDERS:
        groups[CUSTOMER[o[1]][2]].add(o[0])
    return by_group(
        groups, revenue, lambda ids: sum(amount(i) for i in ids if ORDER[i][2] == "shipped")
    )


def _orders_per_category() -> dict[Any, set[int]]:
    groups: dict[Any, set[int]] = defaultdict(set)
    for o in ORDERS:
        items = [li for li in LINE_ITEMS if li[1] == o[0]]
        if not items:
            groups[None].add(o[0])
        for li in items:
            groups[PRODUCT[li[2]][2]].add(o[0])
    return groups


def ref_category() -> list[Row]:
    """Fan-out: an order counts once per category however many of its items are in it."""
    groups = _orders_per_category()
    quantity: dict[Any, int] = defaultdict(int)
    for li in LINE_ITEMS:
        quantity[PRODUCT[li[2]][2]] += li[3]
    return [
        (
            cat,
            revenue(ids),
            len(ids),
            quantity.get(cat),
            revenue(ids) / len(ids),
        )
        for cat, ids in groups.items()
    ]


def ref_tags() -> list[Row]:
    """Many-to-many: orders → items → products → product_tags → tags."""
    groups: dict[Any, set[int]] = defaultdict(set)
    for o in ORDERS:
        items = [li for li in LINE_ITEMS if li[1] == o[0]]
        if not items:
            groups[None].add(o[0])
        for li in items:
            tags = [t for p, t in PRODUCT_TAGS if p == li[2]]
            if not tags:
                groups[None].add(o[0])
            for t in tags:
                groups[TAG[t][1]].add(o[0])
    return by_group(groups, len, revenue)


def ref_derived() -> list[Row]:
    groups: dict[Any, set[int]] = defaultdict(set)
    for o in ORDERS:
        groups[o[2]].add(o[0])
    return by_group(groups, lambda ids: revenue(ids) / len(ids))


def ref_customers_month() -> list[Row]:
    groups: dict[Any, set[int]] = defaultdict(set)
    for o in ORDERS:
        groups[month(o[4])].add(o[1])
    return by_group(groups, len)


def ref_median() -> list[Row]:
    groups: dict[Any, list[float]] = defaultdict(list)
    for o in ORDERS:
        groups[o[2]].append(amount(o[0]))
    return [(k, statistics.median(v)) for k, v in groups.items()]


def _quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    pos = q * (len(values) - 1)
    low = int(pos)
    high = min(low + 1, len(values) - 1)
    return values[low] + (pos - low) * (values[high] - values[low])


def ref_category_quantiles() -> list[Row]:
    """Median / p90 of order amounts per category: each order once (dedup before ranking)."""
    return [
        (cat, _quantile([amount(i) for i in ids], 0.5), _quantile([amount(i) for i in ids], 0.9))
        for cat, ids in _orders_per_category().items()
    ]


def ref_pop() -> list[Row]:
    monthly: dict[str, float] = defaultdict(float)
    for o in ORDERS:
        monthly[month(o[4])] += amount(o[0])
    out = []
    for m in ("2024-01-01", "2024-02-01", "2024-03-01"):
        prev = {"2024-01-01": "2023-12-01", "2024-02-01": "2024-01-01", "2024-03-01": "2024-02-01"}[
            m
        ]
        cur, before = monthly[m], monthly[prev]
        out.append((m, cur, before, (cur - before) / before))
    return out


def ref_access_west() -> list[Row]:
    groups: dict[Any, set[int]] = defaultdict(set)
    for o in ORDERS:
        if CUSTOMER[o[1]][2] == "west":
            groups[o[2]].add(o[0])
    return by_group(groups, revenue)


def ref_having() -> list[Row]:
    return [(r[0], r[1]) for r in ref_region() if r[1] > 500]


def ref_distinct_on() -> list[Row]:
    """sum_distinct_on: each order's amount once per category (keyed by line_items.order_id)."""
    groups = _orders_per_category()
    groups.pop(None, None)
    return [(cat, revenue(ids)) for cat, ids in groups.items()]


def ref_customer_orders() -> list[Row]:
    """Base customers, orders one_to_many: customer 4 has none (count 0, revenue NULL)."""
    out = []
    for c in CUSTOMERS:
        ids = {o[0] for o in ORDERS if o[1] == c[0]}
        out.append((c[1], len(ids), revenue(ids) if ids else None, 1))
    return out


CASES: dict[str, tuple[dict[str, Any], Callable[[], list[Row]]]] = {
    "simple": (
        {"topic": "sales", "dimensions": ["status"], "measures": ["total_revenue", "orders.count"]},
        ref_status,
    ),
    "join_filtered_measure": (
        {
            "topic": "sales",
            "dimensions": ["customers.region"],
            "measures": ["total_revenue", "shipped_revenue"],
        },
        ref_region,
    ),
    "fanout": (
        {
            "topic": "sales",
            "dimensions": ["products.category"],
            "measures": [
                "total_revenue",
                "orders.count",
                "line_items.total_quantity",
                "average_amount",
            ],
        },
        ref_category,
    ),
    "many_to_many": (
        {
            "topic": "sales",
            "dimensions": ["tags.label"],
            "measures": ["orders.count", "total_revenue"],
        },
        ref_tags,
    ),
    "derived": (
        {"topic": "sales", "dimensions": ["status"], "measures": ["average_order"]},
        ref_derived,
    ),
    "count_distinct": (
        {"topic": "sales", "dimensions": ["created_at_month"], "measures": ["customer_count"]},
        ref_customers_month,
    ),
    "median": (
        {"topic": "sales", "dimensions": ["status"], "measures": ["median_amount"]},
        ref_median,
    ),
    "quantiles_fanout": (
        {
            "topic": "sales",
            "dimensions": ["products.category"],
            "measures": ["median_amount", "p90_amount"],
        },
        ref_category_quantiles,
    ),
    "pop": (
        {
            "topic": "sales",
            "dimensions": ["created_at_month"],
            "measures": ["total_revenue", "previous_revenue", "revenue_growth"],
            "filters": {"date_range": ["2024-01-01", "2024-03-31"]},
        },
        ref_pop,
    ),
    "having": (
        {
            "topic": "sales",
            "dimensions": ["customers.region"],
            "measures": ["total_revenue"],
            "filters": {"total_revenue": {"gt": 500}},
        },
        ref_having,
    ),
    "distinct_on": (
        {
            "topic": "sales",
            "dimensions": ["products.category"],
            "measures": ["order_amount_once"],
            "filters": {"products.category": {"not_null": True}},
        },
        ref_distinct_on,
    ),
    "customer_base": (
        {
            "topic": "customer_orders",
            "dimensions": ["customers.name"],
            "measures": ["orders.count", "total_revenue", "customers.count"],
        },
        ref_customer_orders,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_engines_agree_with_reference(
    case: str, semantic_model: SemanticModel, warehouses: dict[str, Runner]
) -> None:
    request, reference = CASES[case]
    expected = normalise(reference())
    for dialect, run in warehouses.items():
        compiled = compile_query(semantic_model, request, dialect=dialect, now=NOW)
        got = normalise(run(compiled.sql))
        assert same(got, expected), f"{case} on {dialect}: {got} != {expected}\n{compiled.sql}"


def test_access_filter_restricts_rows_on_every_engine(
    semantic_model: SemanticModel, warehouses: dict[str, Runner]
) -> None:
    request = {"topic": "secure_sales", "dimensions": ["status"], "measures": ["total_revenue"]}
    west = AccessContext(attributes={"region": ("west",)})
    expected = normalise(ref_access_west())
    for dialect, run in warehouses.items():
        sql = compile_query(semantic_model, request, dialect=dialect, access=west).sql
        assert same(normalise(run(sql)), expected), dialect


def test_user_without_attribute_sees_nothing(
    semantic_model: SemanticModel, warehouses: dict[str, Runner]
) -> None:
    request = {"topic": "secure_sales", "dimensions": ["status"], "measures": ["total_revenue"]}
    nobody = AccessContext(attributes={})
    for dialect, run in warehouses.items():
        sql = compile_query(semantic_model, request, dialect=dialect, access=nobody).sql
        assert run(sql) == [], dialect


def test_unrestricted_access_sees_everything(
    semantic_model: SemanticModel, warehouses: dict[str, Runner]
) -> None:
    request = {"topic": "secure_sales", "dimensions": ["status"], "measures": ["total_revenue"]}
    org = AccessContext(attributes={}, unrestricted=True)
    expected = normalise([(s, r) for s, r, _ in ref_status()])
    for dialect, run in warehouses.items():
        sql = compile_query(semantic_model, request, dialect=dialect, access=org).sql
        assert same(normalise(run(sql)), expected), dialect


def test_result_columns_are_named_as_requested(semantic_model: SemanticModel) -> None:
    import duckdb

    request = {
        "topic": "sales",
        "dimensions": ["orders.created_at[month]", "created_at_week"],
        "measures": ["total_revenue"],
        "limit": 3,
    }
    compiled = compile_query(semantic_model, request, dialect="duckdb")
    names = ["orders.created_at[month]", "created_at_week", "total_revenue"]
    assert [f.name for f in compiled.fields] == names
    con = duckdb.connect()
    con.execute("CREATE SCHEMA gnomon_semantic_test")
    con.execute(
        "CREATE TABLE gnomon_semantic_test.orders AS SELECT 1 AS id, 1 AS customer_id, "
        "'shipped' AS status, 10.0 AS amount, TIMESTAMP '2024-01-03 03:04:05' AS created_at"
    )
    cur = con.execute(compiled.sql)
    assert [d[0] for d in cur.description] == names
    # 2024-01-03 is a Wednesday: its week (starting Monday) begins on 2024-01-01
    assert cur.fetchall() == [(date(2024, 1, 1), date(2024, 1, 1), Decimal("10.0"))]
