"""Every recipe of docs/recipes.md, run against a live server (the code is the docs' code)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from tests.client.servers import BOOTSTRAP_TOKEN, RestartableServer, build_demo, running_server

from gnomon.client import Gnomon

# --- Recipe: customer dashboard (the seed's createCustomerDashboard) ----------------------------


def create_customer_dashboard(gn: Gnomon, customer: dict[str, Any]) -> Any:
    for group in (f"customer_{customer['id']}_users", f"customer_{customer['id']}_admins"):
        if not any(g.name == group for g in gn.groups.iter(q=group)):
            gn.groups.create(name=group)
    return gn.documents.create(
        {
            "name": f"{customer['name']} - Performance Dashboard",
            "description": f"Automated dashboard for {customer['name']}",
            "folder": {"path": f"/Customers/{customer['name']}", "create_if_missing": True},
            "default_filters": {"customer_id": customer["id"]},
            "permissions": {
                f"customer_{customer['id']}_users": "VIEWER",
                f"customer_{customer['id']}_admins": "EDITOR",
            },
            "tiles": [
                {
                    "type": "query",
                    "title": "Monthly Revenue Trend",
                    "query": {
                        "topic": "revenue_analytics",
                        "dimensions": ["date_month"],
                        "measures": ["total_revenue"],
                        "filters": {"customer_id": customer["id"]},
                    },
                    "visualization": "line_chart",
                }
            ],
        }
    )


# --- Recipe: department folders (createDepartmentStructure) -------------------------------------


def create_department_structure(gn: Gnomon, department: str) -> list[Any]:
    team = f"{department.lower()}_team"
    for group in (team, "executives", f"{department.lower()}_analysts"):
        if not any(g.name == group for g in gn.groups.iter(q=group)):
            gn.groups.create(name=group)
    base = f"/Departments/{department}"
    structure = [
        (base, f"{department} departmental analytics", {team: "EDITOR", "executives": "VIEWER"}),
        (f"{base}/Executive Reports", "Executive-level reporting", {"executives": "VIEWER"}),
        (f"{base}/Operational Metrics", "Day-to-day operational dashboards", {team: "EDITOR"}),
        (f"{base}/Analysis Sandbox", "Experimental analysis workspace",
         {f"{department.lower()}_analysts": "EDITOR"}),
    ]  # fmt: skip
    return [
        gn.folders.create(path=path, description=text, permissions=perms)
        for path, text, perms in structure
    ]


# --- Recipe: HR sync of one user (OmniUserManager.syncUser) -------------------------------------

ROLE_MAPPING = {
    "Data Analyst": "QUERIER",
    "Business Analyst": "RESTRICTED_QUERIER",
    "Executive": "VIEWER",
    "Data Engineer": "CONNECTION_ADMIN",
    "Manager": "QUERIER",
}


def sync_user(gn: Gnomon, hr_user: dict[str, Any]) -> Any:
    body = {
        "email": hr_user["email"],
        "name": f"{hr_user['firstName']} {hr_user['lastName']}",
        "connection_roles": {"main_db": ROLE_MAPPING.get(hr_user["jobTitle"], "VIEWER")},
    }
    existing = gn.users.find_by_email(hr_user["email"])
    return gn.users.replace(existing.id, body) if existing else gn.users.create(body)


# --- Recipe: role update with an audit trail (updateUserRole) -----------------------------------


def update_user_role(gn: Gnomon, user_id: str, new_role: str, effective: str) -> Any:
    roles = {"Data Analyst": "QUERIER", "Executive": "VIEWER"}
    current = gn.users.get(user_id)
    old_role = current.user_attributes.get("job_title")
    return gn.users.replace(
        user_id,
        {
            "user_attributes": {
                **current.user_attributes,
                "job_title": new_role,
                "role_effective_date": effective,
            },
            "connection_roles": {"main_db": roles.get(new_role, "VIEWER")},
            "change_log": {
                "timestamp": dt.datetime.now(dt.UTC).isoformat(),
                "change_type": "role_update",
                "old_role": old_role,
                "new_role": new_role,
                "changed_by": "automated_system",
            },
        },
    )


# --- Recipe: executive report (generateExecutiveReport) -----------------------------------------


def executive_report(gn: Gnomon) -> dict[str, list[dict[str, Any]]]:
    quarter = ["2024-01-01", "2024-03-31"]
    report_queries = [
        {"name": "revenue_summary", "topic": "financial_metrics",
         "measures": ["total_revenue"], "dimensions": ["date_month"],
         "filters": {"date_range": quarter}},
        {"name": "customer_metrics", "topic": "customer_analytics",
         "measures": ["new_customers"], "dimensions": ["acquisition_channel"],
         "filters": {"date_range": quarter}},
    ]  # fmt: skip
    results = gn.batch(report_queries, gn.queries.run, concurrency=2)
    results.raise_for_errors()
    return {r.item["name"]: r.value.rows for r in results if r.value is not None}


# --- Recipe: metrics monitor (MetricsMonitor.checkThresholds) -----------------------------------


def check_thresholds(gn: Gnomon, thresholds: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    result = gn.queries.run(topic="business_metrics", measures=list(thresholds))
    values = result.rows[0] if result.rows else {}
    alerts = []
    for metric, limit in thresholds.items():
        value = values.get(metric)
        if value is None:
            continue
        if "max" in limit and value > limit["max"]:
            alerts.append({"type": "threshold_exceeded", "metric": metric, "value": value})
        if "min" in limit and value < limit["min"]:
            alerts.append({"type": "threshold_below", "metric": metric, "value": value})
    return alerts


# --- Recipe: webhooks (configureWebhooks) -------------------------------------------------------


def configure_webhooks(gn: Gnomon, receiver: str) -> list[Any]:
    configs = [
        {
            "name": "user_provisioning_webhook",
            "url": f"{receiver}/user-events",
            "events": ["user.created", "user.updated", "user.deleted"],
            "filters": {"user_attributes": {"department": ["Sales", "Marketing"]}},
            "retry_policy": {"max_retries": 3, "backoff_strategy": "exponential"},
        },
        {
            "name": "query_performance_webhook",
            "url": f"{receiver}/performance",
            "events": ["query.slow_execution", "query.error"],
            "filters": {"execution_time": {"gte": 30}, "error_type": ["timeout"]},
        },
    ]
    return [gn.webhooks.create(c) for c in configs]


# --- Recipe: tier topics (updateCustomerTopics) -------------------------------------------------

TIERS = {
    "basic": (["usage_overview", "basic_analytics"], ["usage_overview"], 3600),
    "premium": (["usage_overview", "advanced_analytics", "predictive_insights"],
                ["usage_overview", "advanced_analytics"], 1800),
}  # fmt: skip


def update_customer_topics(gn: Gnomon, customer_id: str, tier: str) -> Any:
    topics, ai_topics, max_age = TIERS.get(tier, TIERS["basic"])
    return gn.model.update(
        {
            "topics": topics,
            "default_topic_access_filters": [
                {"field": "customer_id", "user_attribute": "customer_id",
                 "default_value": customer_id},
                {"field": "subscription_tier", "user_attribute": "subscription_tier",
                 "default_value": tier},
            ],
            "ai_chat_topics": ai_topics,
            "caching_policy": {"default_max_age": max_age},
        }
    )  # fmt: skip


# --- the tests ----------------------------------------------------------------------------------


def test_recipe_customer_dashboard(demo: Gnomon) -> None:
    doc = create_customer_dashboard(demo, {"id": "42", "name": "Recipe Corp"})
    assert doc.folder is not None
    assert doc.folder["path"] == "/Customers/Recipe Corp"
    assert demo.documents.get(doc.id).tiles[0]["title"] == "Monthly Revenue Trend"


def test_recipe_department_folders(demo: Gnomon) -> None:
    folders = create_department_structure(demo, "Recipes")
    assert folders[0].path == "/Departments/Recipes"
    found = demo.folders.find_by_path("/Departments/Recipes/Analysis Sandbox")
    assert found is not None


def test_recipe_sync_user_creates_then_updates(demo: Gnomon) -> None:
    hr = {"email": "grace@example.com", "firstName": "Grace", "lastName": "Hopper",
          "jobTitle": "Data Analyst"}  # fmt: skip
    created = sync_user(demo, hr)
    promoted = sync_user(demo, {**hr, "jobTitle": "Data Engineer"})
    assert promoted.id == created.id
    assert promoted.connection_roles == {"main_db": "CONNECTION_ADMIN"}


def test_recipe_role_update_lands_in_the_audit_log(gn: Gnomon) -> None:
    for name in ("job_title", "role_effective_date"):
        gn.user_attributes.create(name=name)
    user = gn.users.create(email="ada@example.com", name="Ada",
                           user_attributes={"job_title": "Data Analyst"})  # fmt: skip
    updated = update_user_role(gn, user.id, "Executive", "2025-01-01")
    assert updated.connection_roles == {"main_db": "VIEWER"}
    (event,) = gn.audit_events.list(action="user.updated", target_id=user.id).items
    assert event.change_log is not None
    assert event.change_log["new_role"] == "Executive"


def test_recipe_executive_report(demo: Gnomon) -> None:
    report = executive_report(demo)
    assert set(report) == {"revenue_summary", "customer_metrics"}
    assert report["revenue_summary"]


def test_recipe_metrics_monitor(demo: Gnomon) -> None:
    alerts = check_thresholds(demo, {"daily_revenue": {"min": 1e12}, "active_users": {"max": 1e12}})
    assert [a["metric"] for a in alerts] == ["daily_revenue"]
    assert alerts[0]["type"] == "threshold_below"


def test_recipe_webhooks(gn: Gnomon) -> None:
    hooks = configure_webhooks(gn, "http://127.0.0.1:9/api/webhooks/omni")
    assert [h.name for h in hooks] == ["user_provisioning_webhook", "query_performance_webhook"]
    assert {h.id for h in gn.webhooks.iter()} == {h.id for h in hooks}


@pytest.fixture(scope="module")
def tier_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableServer]:
    data = tmp_path_factory.mktemp("tiers")
    build_demo(data)
    with running_server(data) as server:
        yield server


def test_recipe_tier_topics(tier_server: RestartableServer) -> None:
    with Gnomon(tier_server.url, BOOTSTRAP_TOKEN) as gn:
        before = gn.model.get().version
        model = update_customer_topics(gn, "cust_1", "premium")
        assert model.version != before
        enabled = {t["name"] for t in (model.model_extra or {}).get("topics", []) if t["enabled"]}
        assert enabled == {"usage_overview", "advanced_analytics", "predictive_insights"}
