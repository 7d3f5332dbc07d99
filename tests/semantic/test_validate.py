"""Validation rules: each fires with file, line and hint; all problems come back at once."""

from __future__ import annotations

import pytest

from gnomon.errors import Invalid, Issue
from gnomon.semantic import load_files, validate

BAD = {
    "orders.view": """table_name: orders
dimensions:
  id: {primary_key: true}
  customer_id: {}
  amount: {type: number}
  created_at: {timeframes: [date, month, fortnight]}
  loop_a: {sql: "${loop_b} + 1"}
  loop_b: {sql: "${loop_a} + 1"}
  total: {}
measures:
  total: {aggregate_type: sum, sql: "${amout}"}
  weird: {aggregate_type: summ, sql: "${amount}"}
  p: {aggregate_type: percentile, sql: "${amount}"}
  cross_view: {sql: "${customers.count} / 2"}
""",
    "customers.view": """schema: main
dimensions:
  id: {primary_key: true}
measures:
  count: {aggregate_type: count}
""",
    "relationships": """- join_from_view: orders
  join_to_view: customers
  on_sql: ${orders.customer_id} = ${customers.id}
- join_from_view: orders
  join_to_view: shipments
  on_sql: ${orders.id} = ${shipments.order_id}
""",
    "solo.topic": """base_view: orders
joins: {}
fields: [orders.*, nothing.*]
access_filters:
  - {field: orders.no_such_field, user_attribute: region}
""",
    "ghost.topic": "base_view: ordres\n",
    "loopy.topic": "base_view: orders\njoins:\n  customers:\n    orders: {}\n",
}


@pytest.fixture(scope="module")
def issues() -> list[Issue]:
    model = load_files(BAD, check=False)
    return validate(model)


def _one(issues: list[Issue], code: str) -> Issue:
    found = [i for i in issues if i.code == code]
    assert found, f"no {code} in {[i.code for i in issues]}"
    return found[0]


@pytest.mark.parametrize(
    ("code", "file", "line"),
    [
        ("unknown_reference", "orders.view", 11),
        ("reference_cycle", "orders.view", 7),
        ("unknown_view", "relationships", 5),
        ("unknown_aggregate_type", "orders.view", 12),
        ("percentile_without_n", "orders.view", 13),
        ("bad_timeframe", "orders.view", 6),
        ("duplicate_name", "orders.view", 11),
        ("missing_source", "customers.view", 1),
        ("curation_no_match", "solo.topic", 3),
        ("unknown_access_field", "solo.topic", 5),
        ("unknown_base_view", "ghost.topic", 1),
        ("join_cycle", "loopy.topic", 4),
        ("unreachable_view", "orders.view", 14),
    ],
)
def test_rule_fires_with_location_and_hint(
    issues: list[Issue], code: str, file: str, line: int
) -> None:
    issue = _one(issues, code)
    assert issue.file == file
    assert issue.line == line
    assert issue.hint


def test_did_you_mean_hints(issues: list[Issue]) -> None:
    assert _one(issues, "unknown_reference").hint == "Did you mean 'amount'?"
    assert _one(issues, "unknown_aggregate_type").hint == "Did you mean 'sum'?"
    assert _one(issues, "unknown_base_view").hint == "Did you mean 'orders'?"


def test_loader_raises_all_problems_at_once() -> None:
    with pytest.raises(Invalid) as caught:
        load_files(BAD)
    assert len({i.code for i in caught.value.issues}) >= 12


def test_ambiguous_join_path() -> None:
    files = {
        "a.view": "table_name: a\ndimensions: {id: {primary_key: true}, b_id: {}, c_id: {}}\n",
        "b.view": "table_name: b\ndimensions: {id: {primary_key: true}, d_id: {}}\n",
        "c.view": "table_name: c\ndimensions: {id: {primary_key: true}, d_id: {}}\n",
        "d.view": "table_name: d\ndimensions: {id: {primary_key: true}}\n",
        "relationships": """
- {join_from_view: a, join_to_view: b, on_sql: "${a.b_id} = ${b.id}"}
- {join_from_view: a, join_to_view: c, on_sql: "${a.c_id} = ${c.id}"}
- {join_from_view: b, join_to_view: d, on_sql: "${b.d_id} = ${d.id}"}
- {join_from_view: c, join_to_view: d, on_sql: "${c.d_id} = ${d.id}"}
""",
        "t.topic": "base_view: a\njoins:\n  d: {}\n",
    }
    issue = _one(validate(load_files(files, check=False)), "ambiguous_join_path")
    assert "a -> b -> d" in issue.message
    assert "a -> c -> d" in issue.message
    assert issue.file == "t.topic"
    assert issue.line == 3


def test_valid_model_has_no_issues() -> None:
    from tests.semantic.conftest import FILES

    assert validate(load_files(FILES, check=False)) == []
