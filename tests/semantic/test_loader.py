"""Loading models: named files, the combined document, round trips, and structural errors."""

from __future__ import annotations

import pytest
from tests.semantic.conftest import FILES

from gnomon.errors import Invalid
from gnomon.semantic import (
    SemanticModel,
    dump_files,
    load_document,
    load_files,
    model_json_schema,
)


def test_named_files_load_views_topics_relationships_and_settings(
    semantic_model: SemanticModel,
) -> None:
    assert set(semantic_model.views) == {
        "orders",
        "line_items",
        "customers",
        "products",
        "product_tags",
        "tags",
    }
    assert semantic_model.views["orders"].primary_key is not None
    assert semantic_model.views["orders"].primary_key.name == "id"
    assert semantic_model.views["orders"].dimensions["created_at"].field_type == "timestamp"
    assert len(semantic_model.relationships) == 5
    assert semantic_model.topics["sales"].default_time_dimension == "orders.created_at"
    assert semantic_model.settings.caching_policy is not None
    assert semantic_model.settings.caching_policy.default_max_age == 3600


def test_dump_files_round_trips(semantic_model: SemanticModel) -> None:
    again = load_files(dump_files(semantic_model))
    assert again == semantic_model
    assert again.model_dump() == semantic_model.model_dump()


def test_combined_document_with_topic_list_enables_topics() -> None:
    doc = {
        "views": {"usage": {"table_name": "usage", "measures": {"n": {"aggregate_type": "count"}}}},
        "topics": {
            "usage_overview": {"base_view": "usage"},
            "basic_analytics": {"base_view": "usage"},
            "advanced": {"base_view": "usage"},
        },
    }
    model = load_document(doc)
    assert model.settings.enabled_topics is None
    # the seed's PUT /model body: topics as a list of names, plus settings
    settings_only = load_document(
        {
            "topics": ["usage_overview", "basic_analytics"],
            "default_topic_access_filters": [
                {"field": "customer_id", "user_attribute": "customer_id", "default_value": 7}
            ],
            "ai_chat_topics": ["usage_overview"],
            "caching_policy": {"default_max_age": 3600},
        },
        check=False,
    )
    assert settings_only.settings.enabled_topics == ("usage_overview", "basic_analytics")
    assert settings_only.settings.default_topic_access_filters[0].default_value == 7
    assert settings_only.settings.caching_policy is not None


def test_loader_reports_every_structural_problem_with_file_and_line() -> None:
    files = {
        "orders.view": "table_name: orders\ndimensions:\n  id: {primary_key: true}\n"
        "  status: {lable: Status}\n",
        "broken.view": "table_name: [unclosed\n",
        "mystery.txt": "x: 1\n",
        "relationships": "join_from_view: orders\n",
    }
    with pytest.raises(Invalid) as caught:
        load_files(files)
    issues = caught.value.issues
    by_code = {i.code for i in issues}
    assert {"schema", "yaml_syntax", "unknown_file_kind", "wrong_type"} <= by_code
    typo = next(i for i in issues if i.code == "schema")
    assert typo.file == "orders.view"
    assert typo.line == 4
    assert typo.hint == "Did you mean 'label'?"
    syntax = next(i for i in issues if i.code == "yaml_syntax")
    assert syntax.file == "broken.view"
    assert syntax.line is not None


def test_duplicate_yaml_keys_are_reported() -> None:
    files = {
        "orders.view": "table_name: orders\nmeasures:\n  n: {aggregate_type: count}\n"
        "  n: {aggregate_type: sum}\n"
    }
    with pytest.raises(Invalid) as caught:
        load_files(files)
    dup = [i for i in caught.value.issues if i.code == "duplicate_name"]
    assert dup
    assert dup[0].line == 4


def test_json_schema_describes_the_document() -> None:
    schema = model_json_schema()
    assert {"views", "relationships", "topics", "default_topic_access_filters"} <= set(
        schema["properties"]
    )
    assert "View" in schema["$defs"]


def test_fixture_files_are_valid() -> None:
    assert load_files(FILES).topics["customer_orders"].fields is not None


def test_unchanged_files_are_not_rebuilt_and_their_issues_still_reported() -> None:
    from gnomon.errors import Invalid
    from gnomon.semantic import load_files

    files = {
        "orders.view": "table_name: orders\ndimensions: {id: {primary_key: true}}",
        "customers.view": "table_name: customers\ndimensions: {id: {primary_key: true}}",
        "sales.topic": "base_view: orders",
    }
    first = load_files(files)
    edited = {**files, "customers.view": files["customers.view"] + "\nlabel: Buyers"}
    second = load_files(edited)
    assert second.views["orders"] is first.views["orders"]  # reused, not rebuilt
    assert second.views["customers"] is not first.views["customers"]
    assert second.views["customers"].label == "Buyers"
    bad = {**files, "orders.view": "table_name: orders\nmeasures: {m: {aggregate_type: nope}}"}
    for _ in range(2):  # the second load is served from the cache and must fail the same way
        with pytest.raises(Invalid) as err:
            load_files(bad)
        aggregate = [i for i in err.value.issues if "aggregate" in i.message or "nope" in i.message]
        assert aggregate
        assert all(i.file == "orders.view" for i in aggregate)
