"""The demo model: loads cleanly and gives every seed request the names it uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pytest

from gnomon.demo import model_dir, model_files, seed_queries
from gnomon.semantic.graph import topic_graph
from gnomon.semantic.model import AccessFilter, SemanticModel
from gnomon.semantic.query import QueryRequest, ResolvedQuery, resolve_query

SEED_TOPICS = (
    "revenue_analytics",
    "usage_metrics",
    "financial_metrics",
    "customer_analytics",
    "business_metrics",
)
TIER_TOPICS = (
    "usage_overview",
    "basic_analytics",
    "advanced_analytics",
    "predictive_insights",
    "custom_reporting",
)
NOW = datetime(2026, 11, 29, 12, 0)


@pytest.fixture
def model(demo_model: SemanticModel) -> SemanticModel:
    return demo_model


def with_seed_access_filters(model: SemanticModel) -> SemanticModel:
    """The model after the seed's PUT /model: access filters on customer_id and tier."""
    settings = model.settings.model_copy(
        update={
            "default_topic_access_filters": (
                AccessFilter(field="customer_id", user_attribute="customer_id"),
                AccessFilter(field="subscription_tier", user_attribute="subscription_tier"),
            )
        }
    )
    return model.model_copy(update={"settings": settings})


def resolve(
    model: SemanticModel,
    body: Mapping[str, Any],
    attributes: Mapping[str, Sequence[str]] | None = None,
) -> ResolvedQuery:
    return resolve_query(model, QueryRequest.model_validate(body), attributes=attributes, now=NOW)


def test_model_files_are_package_data() -> None:
    names = set(model_files())
    assert {f"{t}.topic" for t in (*SEED_TOPICS, *TIER_TOPICS)} <= names
    assert {"model", "relationships", "orders.view", "customers.view"} <= names
    assert all((model_dir() / name).is_file() for name in names)


def test_model_has_exactly_the_seed_and_tier_topics(model: SemanticModel) -> None:
    assert set(model.topics) == {*SEED_TOPICS, *TIER_TOPICS}


def test_model_settings_follow_the_seed(model: SemanticModel) -> None:
    settings = model.settings
    assert settings.week_start_day == "monday"
    assert settings.caching_policy is not None
    assert settings.caching_policy.default_max_age == 3600
    assert settings.default_topic_access_filters == ()
    assert set(settings.ai_chat_topics) <= set(model.topics)


@pytest.mark.parametrize("topic", [*SEED_TOPICS, *TIER_TOPICS])
def test_every_bare_name_in_a_topic_is_unambiguous(model: SemanticModel, topic: str) -> None:
    graph = topic_graph(model, topic)
    assert graph.issues == []
    ambiguous = {name: refs for name, refs in graph.by_name.items() if len(refs) > 1}
    assert ambiguous == {}


@pytest.mark.parametrize("topic", [*SEED_TOPICS, *TIER_TOPICS])
def test_seed_access_filters_apply_to_every_topic(model: SemanticModel, topic: str) -> None:
    resolved = resolve(
        with_seed_access_filters(model),
        {"topic": topic, "dimensions": ["customer_id", "subscription_tier"]},
        attributes={"customer_id": ["42"], "subscription_tier": ["premium"]},
    )
    applied = {p.attribute: (p.field.ref.name, p.values) for p in resolved.access}
    assert applied == {
        "customer_id": ("customer_id", (42,)),
        "subscription_tier": ("subscription_tier", ("premium",)),
    }


def test_seed_requests_resolve_to_the_intended_fields(model: SemanticModel) -> None:
    fields = {
        q.name: {f.name: (f.ref.qualified, f.grain) for f in resolve(model, q.request).fields}
        for q in seed_queries(date(2026, 11, 29), 42)
    }
    assert fields == {
        "monthly_revenue_trend": {
            "date_month": ("orders.date", "month"),
            "total_revenue": ("orders.total_revenue", None),
        },
        "active_users": {"active_users_count": ("daily_usage.active_users_count", None)},
        "revenue_summary": {
            "date_month": ("orders.date", "month"),
            "total_revenue": ("orders.total_revenue", None),
            "revenue_growth": ("orders.revenue_growth", None),
        },
        "customer_metrics": {
            "acquisition_channel": ("customers.acquisition_channel", None),
            "new_customers": ("customers.new_customers", None),
            "churn_rate": ("customers.churn_rate", None),
            "customer_ltv": ("customers.customer_ltv", None),
        },
        "business_kpis": {
            "daily_revenue": ("daily_activity.daily_revenue", None),
            "active_users": ("daily_activity.active_users", None),
        },
    }


@pytest.mark.parametrize(
    ("topic", "target"),
    [
        ("financial_metrics", "orders.date"),
        ("customer_analytics", "customers.signup_date"),
        ("revenue_analytics", "orders.date"),
        ("usage_metrics", "daily_usage.date"),
        ("business_metrics", "daily_activity.date"),
    ],
)
def test_date_range_targets_the_default_time_dimension(
    model: SemanticModel, topic: str, target: str
) -> None:
    resolved = resolve(
        model,
        {
            "topic": topic,
            "dimensions": ["customer_id"],
            "filters": {"date_range": ["2026-10-01", "2026-12-31"]},
        },
    )
    ranges = [f.field.ref.qualified for f in resolved.filters if f.source == "date_range"]
    assert ranges == [target]


def test_business_metrics_date_filter_is_a_day(model: SemanticModel) -> None:
    resolved = resolve(
        model,
        {
            "topic": "business_metrics",
            "measures": ["daily_revenue"],
            "filters": {"date": "2026-11-29"},
        },
    )
    (day_filter,) = [f for f in resolved.filters if f.source == "query"]
    assert day_filter.field.type == "date"
    assert day_filter.spec.conditions[0].values == (date(2026, 11, 29),)


@pytest.mark.parametrize("topic", [*SEED_TOPICS, *TIER_TOPICS])
def test_every_topic_excludes_test_accounts(model: SemanticModel, topic: str) -> None:
    resolved = resolve(model, {"topic": topic, "dimensions": ["subscription_tier"]})
    always = [(f.field.ref.qualified, f.spec.conditions) for f in resolved.filters]
    assert [(name, c[0].values) for name, c in always] == [("customers.is_test", (False,))]
