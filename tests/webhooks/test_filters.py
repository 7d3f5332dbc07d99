"""The filter language on its own (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from gnomon.webhooks.filters import compile_filters, declared_fields_of, matches, pattern_matches


def _match(
    filters: dict[str, Any], data: dict[str, Any], declared: frozenset[str] = frozenset()
) -> bool:
    conditions, issues = compile_filters(filters)
    assert issues == []
    return matches(conditions, data, declared)


def test_list_means_one_of_and_looks_into_the_subject() -> None:
    f = {"user_attributes": {"department": ["Sales", "Marketing"]}}
    sales = {"user": {"user_attributes": {"department": "Sales"}}}
    eng = {"user": {"user_attributes": {"department": "Engineering"}}}
    none = {"user": {"user_attributes": {}}}
    multi = {"user": {"user_attributes": {"department": ["Ops", "Marketing"]}}}
    assert _match(f, sales)
    assert not _match(f, eng)
    assert not _match(f, none)  # the type has user_attributes; a missing value is no match
    assert _match(f, multi)


def test_conditions_on_fields_a_type_lacks_do_not_apply() -> None:
    f = {"execution_time": {"gte": 30}, "error_type": ["timeout", "permission_denied"]}
    slow = declared_fields_of("query.slow_execution")
    error = declared_fields_of("query.error")
    assert "execution_time" in slow
    assert "error_type" not in slow
    assert _match(f, {"execution_time": 31.0}, slow)
    assert not _match(f, {"execution_time": 29.9}, slow)
    assert _match(f, {"error_type": "timeout"}, error)
    assert not _match(f, {"error_type": "database_error"}, error)
    # A declared field that is absent from the payload fails its condition.
    assert not _match(f, {}, slow)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ({"gt": 1}, 2, True),
        ({"gt": 2}, 2, False),
        ({"lte": 2}, 2, True),
        ({"lt": "b"}, "a", True),
        ({"gt": 1}, "2", False),  # no cross-type comparison
        ({"eq": "x"}, "x", True),
        ({"ne": "x"}, "y", True),
        ({"in": ["a", "b"]}, "b", True),
        ({"nin": ["a", "b"]}, "b", False),
        ({"contains": "ell"}, "hello", True),
        ({"contains": "z"}, ["a", "z"], True),
        ({"exists": True}, 0, True),
        ({"gte": 1, "lt": 3}, 3, False),
    ],
)
def test_operators(spec: dict[str, Any], value: Any, expected: bool) -> None:
    assert _match({"v": spec}, {"v": value}) is expected


def test_plain_value_means_equality_and_keys_and_together() -> None:
    f = {"topic": "orders", "user": {"email": "a@x"}}
    assert _match(f, {"topic": "orders", "user": {"email": "a@x"}})
    assert not _match(f, {"topic": "orders", "user": {"email": "b@x"}})


def test_exists_false_and_missing_paths() -> None:
    assert _match({"v": {"exists": False}}, {"w": 1}, frozenset({"v"}))
    assert not _match({"v": {"exists": False}}, {"v": None})


def test_invalid_filters_list_every_problem() -> None:
    _conditions, issues = compile_filters(
        {"a": {"gt": [1]}, "b": {"in": []}, "c": {}, "d": {"eq": {"x": 1}}, "e": {"gt": 1, "f": 2}}
    )
    assert [i.path for i in issues] == [
        ("filters", "a", "gt"),
        ("filters", "b", "in"),
        ("filters", "c"),
        ("filters", "d", "eq"),
        ("filters", "e"),
    ]


def test_event_patterns() -> None:
    assert pattern_matches("*", "user.created")
    assert pattern_matches("user.*", "user.created")
    assert not pattern_matches("user.*", "user_attribute.created")
    assert not pattern_matches("user.created", "user.updated")
