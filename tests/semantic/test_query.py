"""Query resolution and compiler behaviour: errors reported together, topic filters, access
rules, defaults, and the seed's request shapes."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from gnomon.errors import Invalid, QueryError
from gnomon.semantic import AccessContext, SemanticModel, compile_query, load_document

NOW = datetime(2024, 4, 15, 12, 0)


def test_all_request_problems_are_reported_at_once(semantic_model: SemanticModel) -> None:
    request = {
        "topic": "sales",
        "dimensions": ["stauts", "count"],
        "measures": ["total_revenue"],
        "filters": {"created_at": "next blue moon", "orders.amount": "lots"},
        "sorts": ["-nope"],
    }
    with pytest.raises(Invalid) as caught:
        compile_query(semantic_model, request, dialect="duckdb", now=NOW)
    issues = caught.value.issues
    unknown = next(i for i in issues if i.code == "unknown_field")
    assert unknown.path == ("dimensions", 0)
    assert unknown.hint is not None
    assert "'status'" in unknown.hint
    ambiguous = next(i for i in issues if i.code == "ambiguous_field")
    assert "orders.count" in ambiguous.message
    assert "line_items.count" in ambiguous.message
    bad_filters = [i for i in issues if i.code == "invalid_filter"]
    assert {i.path for i in bad_filters} == {
        ("filters", "created_at"),
        ("filters", "orders.amount"),
    }
    assert any(i.code == "bad_sort" for i in issues)


def test_unknown_topic_suggests_a_name(semantic_model: SemanticModel) -> None:
    with pytest.raises(Invalid) as caught:
        compile_query(
            semantic_model, {"topic": "sale", "measures": ["total_revenue"]}, dialect="duckdb"
        )
    assert caught.value.issues[0].hint == "Did you mean 'sales'?"


def test_plain_query_is_a_single_select(semantic_model: SemanticModel) -> None:
    compiled = compile_query(
        semantic_model,
        {"topic": "sales", "dimensions": ["customers.region"], "measures": ["total_revenue"]},
        dialect="postgres",
    )
    assert "WITH" not in compiled.sql
    assert compiled.plan.single_select
    assert compiled.plan.fanned == frozenset({"customers"})
    assert compiled.views == ("orders", "customers")


def test_fanout_dedups_on_primary_key(semantic_model: SemanticModel) -> None:
    compiled = compile_query(
        semantic_model,
        {"topic": "sales", "dimensions": ["products.category"], "measures": ["total_revenue"]},
        dialect="duckdb",
    )
    assert "SELECT DISTINCT" in compiled.sql
    assert "orders.id AS __k" in compiled.sql
    assert [b.strategy for b in compiled.plan.blocks] == ["dedup"]


def test_only_needed_views_are_joined(semantic_model: SemanticModel) -> None:
    compiled = compile_query(
        semantic_model, {"topic": "sales", "measures": ["total_revenue"]}, dialect="duckdb"
    )
    assert compiled.views == ("orders",)
    assert "JOIN" not in compiled.sql


def test_fanout_without_primary_key_is_refused() -> None:
    model = load_document(
        {
            "views": {
                "a": {
                    "table_name": "a",
                    "dimensions": {"id": {}},
                    "measures": {"total": {"aggregate_type": "sum", "sql": "${id}"}},
                },
                "b": {"table_name": "b", "dimensions": {"a_id": {}, "kind": {}}},
            },
            "relationships": [
                {
                    "join_from_view": "a",
                    "join_to_view": "b",
                    "on_sql": "${a.id} = ${b.a_id}",
                    "relationship_type": "one_to_many",
                }
            ],
            "topics": {"t": {"base_view": "a"}},
        }
    )
    with pytest.raises(Invalid) as caught:
        compile_query(
            model, {"topic": "t", "dimensions": ["b.kind"], "measures": ["total"]}, dialect="duckdb"
        )
    issue = caught.value.issues[0]
    assert issue.code == "fanout_without_primary_key"
    assert issue.hint is not None
    assert "primary_key" in issue.hint


def test_pop_needs_a_time_grain(semantic_model: SemanticModel) -> None:
    with pytest.raises(Invalid, match="time dimension"):
        compile_query(
            semantic_model,
            {"topic": "sales", "dimensions": ["status"], "measures": ["revenue_growth"]},
            dialect="duckdb",
        )


def test_default_sort_and_limit(semantic_model: SemanticModel) -> None:
    by_time = compile_query(
        semantic_model,
        {
            "topic": "sales",
            "dimensions": ["status", "created_at_month"],
            "measures": ["total_revenue"],
        },
        dialect="duckdb",
    )
    assert by_time.sql.rstrip().endswith('ORDER BY\n  "created_at_month" ASC\nLIMIT 1000')
    by_measure = compile_query(
        semantic_model,
        {"topic": "sales", "dimensions": ["status"], "measures": ["total_revenue"], "limit": 5},
        dialect="duckdb",
    )
    assert by_measure.sql.rstrip().endswith('ORDER BY\n  "total_revenue" DESC\nLIMIT 5')


SEED_MODEL = {
    "views": {
        "revenue": {
            "table_name": "revenue",
            "dimensions": {
                "id": {"primary_key": True},
                "customer_id": {"type": "number"},
                "subscription_tier": {},
                "date": {
                    "type": "date",
                    "timeframes": ["date", "week", "month", "quarter", "year"],
                },
                "timestamp": {"type": "timestamp"},
            },
            "measures": {
                "total_revenue": {
                    "sql": "${TABLE}.amount",
                    "aggregate_type": "sum",
                    "format": "usdcurrency_2",
                },
                "revenue_growth": {"period_over_period": {"measure": "total_revenue"}},
            },
        }
    },
    "topics": {
        "revenue_analytics": {
            "base_view": "revenue",
            "default_time_dimension": "date",
            "default_filters": {"subscription_tier": {"not": ["internal"]}},
            "always_where_filters": {"revenue.id": {"not_null": True}},
        }
    },
    "default_topic_access_filters": [
        {"field": "customer_id", "user_attribute": "customer_id", "default_value": None},
        {
            "field": "subscription_tier",
            "user_attribute": "subscription_tier",
            "default_value": "basic",
        },
    ],
}


@pytest.fixture(scope="module")
def seed_model() -> SemanticModel:
    return load_document(SEED_MODEL)


def _run(sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE revenue AS SELECT * FROM (VALUES "
        "(1, 7, 'basic', DATE '2024-01-05', TIMESTAMP '2024-01-05 10:00:00', 10.0), "
        "(2, 7, 'internal', DATE '2024-02-05', TIMESTAMP '2024-02-05 10:00:00', 99.0), "
        "(3, 8, 'basic', DATE '2024-02-06', TIMESTAMP '2024-02-06 10:00:00', 20.0), "
        "(4, 7, 'premium', DATE '2024-03-01', TIMESTAMP '2024-03-01 10:00:00', 30.0)"
        ") t(id, customer_id, subscription_tier, date, timestamp, amount)"
    )
    return con.execute(sql).fetchall()


def test_seed_tile_query_with_access_filters(seed_model: SemanticModel) -> None:
    request = {
        "topic": "revenue_analytics",
        "dimensions": ["date_month"],
        "measures": ["total_revenue"],
        "filters": {"customer_id": 7},
    }
    user = AccessContext(attributes={"customer_id": ("7",)})
    rows = _run(compile_query(seed_model, request, dialect="duckdb", access=user).sql)
    # tier defaults to 'basic' for this user; 'internal' is excluded by the default filter
    assert [(str(d), float(v)) for d, v in rows] == [("2024-01-01", 10.0)]
    org = AccessContext(unrestricted=True)
    rows = _run(compile_query(seed_model, request, dialect="duckdb", access=org).sql)
    assert [(str(d), float(v)) for d, v in rows] == [("2024-01-01", 10.0), ("2024-03-01", 30.0)]


def test_query_filter_overrides_default_filter(seed_model: SemanticModel) -> None:
    request = {
        "topic": "revenue_analytics",
        "measures": ["total_revenue"],
        "filters": {"subscription_tier": ["internal"]},
    }
    rows = _run(compile_query(seed_model, request, dialect="duckdb").sql)
    assert float(rows[0][0]) == 99.0


def test_seed_requests_compile(seed_model: SemanticModel) -> None:
    requests = [
        {
            "name": "revenue_summary",
            "topic": "revenue_analytics",
            "measures": ["total_revenue", "revenue_growth"],
            "dimensions": ["date_month"],
            "filters": {"date_range": {"start": "2024-01-01", "end": "2024-03-31"}},
        },
        {
            "topic": "revenue_analytics",
            "measures": ["total_revenue"],
            "filters": {"timestamp": {"gte": "2024-02-01T00:00:00.000Z"}},
            "sorts": [{"field": "total_revenue", "descending": True}],
        },
        {
            "topic": "revenue_analytics",
            "measures": ["total_revenue"],
            "filters": {"date": "2024-03-01"},
        },
    ]
    results = [_run(compile_query(seed_model, r, dialect="duckdb", now=NOW).sql) for r in requests]
    growth = {str(r[0]): (float(r[1]), r[2]) for r in results[0]}
    assert growth["2024-01-01"] == (10.0, None)
    assert growth["2024-03-01"][1] == pytest.approx(0.5)  # 30 vs 20 (99 is 'internal')
    assert float(results[1][0][0]) == 50.0
    assert float(results[2][0][0]) == 30.0


def test_unresolvable_default_access_filter_denies_restricted_users() -> None:
    model = load_document(
        {
            "views": {
                "v": {
                    "table_name": "v",
                    "dimensions": {"x": {}},
                    "measures": {"n": {"aggregate_type": "count"}},
                }
            },
            "topics": {"t": {"base_view": "v"}},
            "default_topic_access_filters": [
                {"field": "customer_id", "user_attribute": "customer_id"}
            ],
        }
    )
    request = {"topic": "t", "measures": ["n"]}
    with pytest.raises(QueryError) as caught:
        compile_query(
            model,
            request,
            dialect="duckdb",
            access=AccessContext(attributes={"customer_id": ("1",)}),
        )
    assert caught.value.error_type == "permission_denied"
    assert "customer_id" in caught.value.message
    assert (
        "COUNT"
        in compile_query(
            model, request, dialect="duckdb", access=AccessContext(unrestricted=True)
        ).sql
    )


def test_disabled_topic_is_refused(seed_model: SemanticModel) -> None:
    enabled = seed_model.model_copy(
        update={"settings": seed_model.settings.model_copy(update={"enabled_topics": ("other",)})}
    )
    with pytest.raises(Invalid, match="not enabled"):
        compile_query(
            enabled, {"topic": "revenue_analytics", "measures": ["total_revenue"]}, dialect="duckdb"
        )


def test_field_metadata(semantic_model: SemanticModel) -> None:
    compiled = compile_query(
        semantic_model,
        {
            "topic": "sales",
            "dimensions": ["created_at_month", "status"],
            "measures": ["total_revenue"],
        },
        dialect="duckdb",
    )
    meta = [(f.name, f.type, f.label, f.format, f.kind) for f in compiled.fields]
    assert meta == [
        ("created_at_month", "date", "Created At (month)", None, "dimension"),
        ("status", "string", "Order status", None, "dimension"),
        ("total_revenue", "number", "Total Revenue", "usdcurrency_2", "measure"),
    ]
