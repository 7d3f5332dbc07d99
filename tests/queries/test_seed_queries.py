"""The seed's Query API bodies, unchanged, against the demo: numbers match hand-written SQL."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import duckdb
from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.queries.conftest import run

from gnomon.demo import WarehouseInfo, seed_queries


def _reference(info: WarehouseInfo, sql: str, params: dict) -> list[dict]:  # type: ignore[type-arg]
    con = duckdb.connect(str(info.path), read_only=True)
    try:
        cur = con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def _close(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    # DuckDB returns DECIMAL sums as Decimal ("17153.30"); the API sends JSON numbers (17153.3).
    if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return str(a) == str(b)


def test_every_seed_query_matches_hand_written_sql(
    qclient: TestClient, qorg: Org, demo_warehouse: WarehouseInfo
) -> None:
    queries = seed_queries(demo_warehouse.today, customer_id=1)
    assert len(queries) >= 5
    for q in queries:
        r = run(qclient, qorg, dict(q.request))
        assert r.status_code == 200, (q.name, r.text)
        got = r.json()["data"]
        want = _reference(demo_warehouse, q.reference_sql, dict(q.parameters))
        assert len(got) == len(want), q.name
        assert want, f"{q.name}: the reference found no rows; the test would prove nothing"
        key = list(q.key)
        got_sorted = sorted(got, key=lambda row: [str(row[k]) for k in key])
        want_sorted = sorted(want, key=lambda row: [str(row[k]) for k in key])
        for g, w in zip(got_sorted, want_sorted, strict=True):
            for name, value in w.items():
                assert _close(g[name], value), (q.name, name, g[name], value)


def test_result_shape(qclient: TestClient, qorg: Org) -> None:
    body = {
        "name": "revenue_summary",
        "topic": "financial_metrics",
        "measures": ["total_revenue", "revenue_growth"],
        "dimensions": ["date_month"],
        "filters": {"date_range": "last 90 days"},
    }
    r = run(qclient, qorg, body)
    assert r.status_code == 200, r.text
    payload = r.json()
    meta = payload["meta"]
    assert meta["name"] == "revenue_summary"
    assert [f["name"] for f in meta["fields"]] == ["date_month", "total_revenue", "revenue_growth"]
    assert meta["row_count"] == len(payload["data"]) >= 3
    assert "select" in meta["sql"].lower()
    assert meta["cache_hit"] is False
    assert set(payload["data"][0]) == {"date_month", "total_revenue", "revenue_growth"}


def test_business_metrics_for_today(
    qclient: TestClient, qorg: Org, demo_warehouse: WarehouseInfo
) -> None:
    today = demo_warehouse.today.isoformat()
    body = {
        "topic": "business_metrics",
        "measures": ["daily_revenue", "active_users"],
        "filters": {"date": today},
    }
    r = run(qclient, qorg, body)
    assert r.status_code == 200, r.text
    rows = r.json()["data"]
    assert len(rows) == 1
    want = _reference(
        demo_warehouse,
        "select count(distinct u.user_id) as n from main.daily_usage u join main.customers c "
        "on c.id = u.customer_id where u.date = $d and not c.is_test",
        {"d": date.fromisoformat(today)},
    )[0]["n"]
    assert rows[0]["active_users"] == want
