"""Golden SQL: every case compiled for all nine dialects, compared with
tests/semantic/golden/<case>/<dialect>.sql. ``GNOMON_UPDATE_GOLDEN=1`` rewrites the files."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gnomon.semantic import AccessContext, SemanticModel, compile_query
from gnomon.semantic.timegrains import DIALECTS

GOLDEN = Path(__file__).with_name("golden")
NOW = datetime(2024, 4, 15, 12, 0)
WEST = AccessContext(attributes={"region": ("west", "north")})

CASES: dict[str, tuple[dict[str, Any], AccessContext | None]] = {
    "simple": ({"topic": "sales", "dimensions": ["status"], "measures": ["total_revenue"]}, None),
    "join": (
        {"topic": "sales", "dimensions": ["customers.region"], "measures": ["total_revenue"]},
        None,
    ),
    "fanout": (
        {
            "topic": "sales",
            "dimensions": ["products.category"],
            "measures": ["total_revenue", "orders.count", "line_items.total_quantity"],
        },
        None,
    ),
    "many_to_many": (
        {"topic": "sales", "dimensions": ["tags.label"], "measures": ["total_revenue"]},
        None,
    ),
    "derived": ({"topic": "sales", "dimensions": ["status"], "measures": ["average_order"]}, None),
    "filtered_measure": (
        {"topic": "sales", "dimensions": ["customers.region"], "measures": ["shipped_revenue"]},
        None,
    ),
    "count_distinct": (
        {"topic": "sales", "dimensions": ["created_at_month"], "measures": ["customer_count"]},
        None,
    ),
    "median": ({"topic": "sales", "dimensions": ["status"], "measures": ["median_amount"]}, None),
    "percentile": ({"topic": "sales", "measures": ["p90_amount"]}, None),
    "pop": (
        {
            "topic": "sales",
            "dimensions": ["created_at_month"],
            "measures": ["total_revenue", "revenue_growth"],
            "filters": {"date_range": "2024-01-01 to 2024-03-31"},
        },
        None,
    ),
    "access_filter": (
        {"topic": "secure_sales", "dimensions": ["status"], "measures": ["total_revenue"]},
        WEST,
    ),
    "date_range": (
        {
            "topic": "sales",
            "dimensions": ["status"],
            "measures": ["total_revenue"],
            "filters": {"date_range": "last 90 days", "status": {"not": ["cancelled"]}},
        },
        None,
    ),
    "week_grain": (
        {
            "topic": "sales",
            "dimensions": ["created_at_week"],
            "measures": ["orders.count"],
            "sorts": ["-orders.count"],
            "limit": 10,
        },
        None,
    ),
    "having": (
        {
            "topic": "sales",
            "dimensions": ["customers.region"],
            "measures": ["total_revenue"],
            "filters": {"total_revenue": ">500"},
        },
        None,
    ),
}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_sql(case: str, dialect: str, semantic_model: SemanticModel) -> None:
    request, access = CASES[case]
    sql = compile_query(semantic_model, request, dialect=dialect, access=access, now=NOW).sql
    path = GOLDEN / case / f"{dialect}.sql"
    if os.environ.get("GNOMON_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql + "\n")
    assert path.exists(), f"missing golden file {path}; run with GNOMON_UPDATE_GOLDEN=1"
    assert sql + "\n" == path.read_text()
