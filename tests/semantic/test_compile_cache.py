"""The compiler's caches: shared trees are never modified or placed in an output tree, every
output tree is private, warm compiles equal cold ones, and derived tables spliced in as
pre-rendered text give exactly the SQL of a full generation on every dialect."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlglot import exp
from tests.semantic.test_golden import CASES, NOW

from gnomon.demo.bundle import model_files
from gnomon.semantic import SemanticModel, compile_query, load_files
from gnomon.semantic import rendered as rendered_module
from gnomon.semantic.compiler import _Emitter
from gnomon.semantic.graph import TopicGraph
from gnomon.semantic.planner import plan_query
from gnomon.semantic.query import QueryRequest, resolve_query
from gnomon.semantic.sqlparts import has_native_quantile
from gnomon.semantic.timegrains import DIALECTS

DEMO_REQUESTS: list[dict[str, Any]] = [
    {"topic": "revenue_analytics", "dimensions": ["date_month"], "measures": ["total_revenue"]},
    {
        "topic": "financial_metrics",
        "dimensions": ["date_month"],
        "measures": ["total_revenue", "revenue_growth"],
        "filters": {"date_range": "2024-01-01 to 2024-03-31"},
    },
    {
        "topic": "customer_analytics",
        "dimensions": ["acquisition_channel"],
        "measures": ["new_customers", "churn_rate", "customer_ltv"],
        "filters": {"date_range": "2024-01-01 to 2024-03-31"},
    },
]


@pytest.fixture(scope="module")
def demo_model() -> SemanticModel:
    return load_files(model_files())


def _cached_trees(model: SemanticModel) -> Iterator[exp.Expr]:
    """Every sqlglot tree the compiler keeps on the model between compiles."""
    for key, value in model.cache.items():
        if key == "field_sql":
            yield from value.values()
        elif key == "aggregate_input":
            for static in value.values():
                yield from (t for t in (static.value, static.dedup) if t is not None)
        elif isinstance(value, TopicGraph):
            yield from (tree for tree, _ in value._dim_cache.values())
            yield from (tree for tree, _ in value._on_cache.values() if tree is not None)


def _assert_consistent(tree: exp.Expr) -> None:
    """Each node's parent pointer names the node holding it: a node placed in two trees (or
    twice in one) would fail this."""
    for node in tree.walk():
        for child in node.iter_expressions():
            assert child.parent is node, f"{child!r} is held by {node!r} but points elsewhere"


def _compile_all(model: SemanticModel, requests: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, request in enumerate(requests):
        for dialect in DIALECTS:
            out[f"{i}/{dialect}"] = compile_query(model, request, dialect=dialect, now=NOW).sql
    return out


def _golden_requests() -> list[dict[str, Any]]:
    return [request for request, access in CASES.values() if access is None]


@pytest.mark.parametrize("which", ["golden", "demo"])
def test_cached_trees_are_never_modified_or_placed(
    which: str, semantic_model: SemanticModel, demo_model: SemanticModel
) -> None:
    model, requests = (
        (semantic_model, _golden_requests()) if which == "golden" else (demo_model, DEMO_REQUESTS)
    )
    first = _compile_all(model, requests)
    trees = list(_cached_trees(model))
    assert trees, "the compiles should have cached field trees"
    snapshot = [(tree, tree.copy(), tree.sql()) for tree in trees]
    again = _compile_all(model, requests)
    assert again == first
    for tree, before, text in snapshot:
        assert tree.parent is None, f"cached {text} was placed in an output tree"
        assert tree == before
        assert tree.sql() == text
        _assert_consistent(tree)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_output_trees_are_private(dialect: str, demo_model: SemanticModel) -> None:
    for request in DEMO_REQUESTS:
        compile_query(demo_model, request, dialect=dialect, now=NOW)  # fill the caches
        resolved = resolve_query(demo_model, QueryRequest.model_validate(request), attributes=None)
        plan = plan_query(resolved, native_quantiles=has_native_quantile(dialect))
        tree = _Emitter(plan, dialect).build()
        _assert_consistent(tree)
        cached_ids = {id(node) for cached in _cached_trees(demo_model) for node in cached.walk()}
        shared = [node for node in tree.walk() if id(node) in cached_ids]
        assert not shared, f"output tree holds cached nodes: {shared[:3]}"


DERIVED_VIEWS: dict[str, str] = {
    "plain": "select id, amount, status from raw.orders where amount > 0",
    "cte": "with o as (select id, amount, status from raw.orders) select * from o",
    "multiline_literal": "select id, amount, 'line one\nline two' as note, status from raw.orders",
    "nested": (
        "select o.id, o.amount, o.status, t.n from raw.orders as o "
        "left join (select order_id, count(*) as n from raw.items group by order_id) as t "
        "on t.order_id = o.id"
    ),
}


def _derived_model(view_sql: str) -> SemanticModel:
    indented = "\n".join("  " + line for line in view_sql.splitlines())
    return load_files(
        {
            "model": "dialect: duckdb\n",
            "orders.view": (
                f"sql: |\n{indented}\n"
                "dimensions:\n  id: {primary_key: true, type: number}\n  status: {}\n"
                "  amount: {type: number}\n"
                "measures:\n  total: {sql: '${amount}', aggregate_type: sum}\n"
            ),
            "customers.view": (
                "table_name: customers\ndimensions:\n  id: {primary_key: true}\n  region: {}\n"
            ),
            "relationships": (
                "- {join_from_view: orders, join_to_view: customers, "
                "on_sql: '${orders.id} = ${customers.id}', relationship_type: many_to_one}\n"
            ),
            "sales.topic": "base_view: orders\n",
            "by_customer.topic": "base_view: customers\njoins: {orders: {}}\n",
        }
    )


DERIVED_REQUESTS: list[dict[str, Any]] = [
    {"topic": "sales", "dimensions": ["status"], "measures": ["total"]},
    {"topic": "by_customer", "dimensions": ["region"], "measures": ["orders.total"]},
]


@pytest.mark.parametrize("view", sorted(DERIVED_VIEWS))
def test_spliced_derived_tables_match_full_generation(
    view: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spliced = _compile_all(_derived_model(DERIVED_VIEWS[view]), DERIVED_REQUESTS)
    # the reference: the derived table's tree copied into every compile, as before the cache
    monkeypatch.setattr(rendered_module, "_rendered", lambda sql, read, write: None)
    full = _compile_all(_derived_model(DERIVED_VIEWS[view]), DERIVED_REQUESTS)
    assert spliced == full
    assert "raw.orders" in spliced["0/duckdb"]


def test_spliced_text_is_used_where_it_is_exact() -> None:
    """The fast path is really taken (duckdb), and refused where it would not be exact: Spark
    hoists a nested WITH to the top level, Snowflake analyses scopes across derived tables."""
    rendered_module._rendered.cache_clear()
    plain, cte = DERIVED_VIEWS["plain"], DERIVED_VIEWS["cte"]
    assert rendered_module._rendered(plain, "duckdb", "duckdb") is not None
    assert rendered_module._rendered(cte, "duckdb", "spark") is None
    assert rendered_module._rendered(plain, "duckdb", "snowflake") is None


@pytest.mark.parametrize("dialect", DIALECTS)
def test_derived_tables_compile_without_sqlglot_warnings(
    dialect: str, demo_model: SemanticModel, caplog: pytest.LogCaptureFixture
) -> None:
    rendered_module._rendered.cache_clear()
    with caplog.at_level(logging.WARNING, logger="sqlglot"):
        for request in DEMO_REQUESTS:
            compile_query(demo_model, request, dialect=dialect, now=NOW)
            compile_query(demo_model, request, dialect=dialect, now=NOW)
    assert [r.getMessage()[:80] for r in caplog.records] == []
