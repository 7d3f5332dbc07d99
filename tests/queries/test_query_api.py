"""Query API behaviour: cache, formats, plan_only, errors, history, events, raw SQL."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import uuid

import duckdb
import pyarrow.ipc
import pytest
from fastapi.testclient import TestClient
from tests.conftest import ADMIN_TOKEN, Org
from tests.queries.conftest import run

from gnomon.demo import WarehouseInfo
from gnomon.queries import service
from gnomon.util import LruCache

REVENUE = {
    "topic": "revenue_analytics",
    "dimensions": ["date_month"],
    "measures": ["total_revenue"],
}


def test_cache_hit_refresh_bypass_and_connection_refresh(qclient: TestClient, qorg: Org) -> None:
    first = run(qclient, qorg, REVENUE).json()
    second = run(qclient, qorg, REVENUE).json()
    assert first["meta"]["cache_hit"] is False
    assert second["meta"]["cache_hit"] is True
    assert second["data"] == first["data"]
    assert run(qclient, qorg, {**REVENUE, "cache": "refresh"}).json()["meta"]["cache_hit"] is False
    assert run(qclient, qorg, {**REVENUE, "cache": "bypass"}).json()["meta"]["cache_hit"] is False
    assert run(qclient, qorg, REVENUE).json()["meta"]["cache_hit"] is True
    conn = qclient.get("/api/v1/connections", headers=qorg.headers).json()["data"][0]
    refreshed = qclient.post(f"/api/v1/connections/{conn['id']}/refresh", headers=qorg.headers)
    assert refreshed.json()["data"]["version"] == conn["version"] + 1
    assert run(qclient, qorg, REVENUE).json()["meta"]["cache_hit"] is False


def _hold_history(client: TestClient) -> None:
    """Stop the background history writer (after writing what it holds): while one of its writes
    is in progress, the memo of prepared queries starts again (gnomon.store.memo), at a moment
    no test can choose."""
    history = client.app.state.runtime.history  # type: ignore[attr-defined]
    history._stop.set()
    history._thread.join()
    history.flush()


def _loop_steps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records, for each query started on the event loop, how far the loop took it: "answer"
    (a cache hit), "execution" (only the warehouse round trip went to a thread), "none" (the
    whole query went to the thread pool) or "error"."""
    steps: list[str] = []
    real = service.begin

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not kwargs.get("memory_only"):
            return real(*args, **kwargs)
        try:
            step = real(*args, **kwargs)
        except Exception:
            steps.append("error")
            raise
        if step is None:
            steps.append("none")
        else:
            steps.append("execution" if isinstance(step, service.Execution) else "answer")
        return step

    monkeypatch.setattr(service, "begin", recording)
    return steps


@pytest.mark.parametrize("local_reads", [True, False])
def test_queries_on_and_off_the_event_loop_agree(
    qclient: TestClient, qorg: Org, monkeypatch: pytest.MonkeyPatch, local_reads: bool
) -> None:
    """With local reads a query runs on the event loop but for its warehouse round trip, and a
    repeated one is answered there; without (Redis cache, PostgreSQL store) all of it runs in a
    worker thread. Same answer, same history either way."""
    qclient.app.state.runtime.local_reads = local_reads  # type: ignore[attr-defined]
    run(qclient, qorg, {**REVENUE, "plan_only": True})  # the model version is in memory
    steps = _loop_steps(monkeypatch)
    first = run(qclient, qorg, {**REVENUE, "name": "loop", "cache": "refresh"}).json()
    second = run(qclient, qorg, {**REVENUE, "name": "loop"}).json()
    assert first["meta"]["cache_hit"] is False
    assert second["meta"]["cache_hit"] is True
    assert second["data"] == first["data"]
    assert {k: v for k, v in second["meta"].items() if k not in ("cache_hit", "duration_ms")} == {
        k: v for k, v in first["meta"].items() if k not in ("cache_hit", "duration_ms")
    }
    assert steps == (["execution", "answer"] if local_reads else [])
    history = qclient.get("/api/v1/queries/history", headers=qorg.headers).json()["data"]
    mine = [h for h in history if h["name"] == "loop"]
    assert sorted(h["cache_hit"] for h in mine) == [False, True]
    assert all(h["status"] == "ok" for h in mine)


def test_event_loop_path_defers_to_the_full_path(
    qclient: TestClient, qorg: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model version not in memory is not parsed on the event loop: the full path answers
    it. A bad query fails on the loop and is recorded once."""
    run(qclient, qorg, {**REVENUE, "plan_only": True})  # the model version is in memory
    _hold_history(qclient)
    steps = _loop_steps(monkeypatch)
    run(qclient, qorg, {**REVENUE, "cache": "refresh"})
    qclient.app.state.runtime.models = LruCache(16)  # type: ignore[attr-defined]
    # A query prepared before still is (gnomon.store.memo keeps it with its model) ...
    assert run(qclient, qorg, REVENUE).json()["meta"]["cache_hit"] is True
    # ... a new one needs the model: the full path loads it and answers.
    evicted = run(qclient, qorg, {**REVENUE, "limit": 7}).json()
    assert evicted["data"]
    assert evicted["meta"]["cache_hit"] is False
    bad = run(qclient, qorg, {**REVENUE, "measures": ["no_such_measure"]})
    assert bad.status_code == 422
    assert run(qclient, qorg, REVENUE).json()["meta"]["cache_hit"] is True
    assert steps == ["execution", "answer", "none", "error", "answer"]
    errors = [
        h
        for h in qclient.get("/api/v1/queries/history", headers=qorg.headers).json()["data"]
        if h["status"] == "error"
    ]
    assert len(errors) == 1


def test_the_warehouse_engine_is_opened_off_the_event_loop(
    qclient: TestClient, qorg: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a connection's engine (a DuckDB file: tens of milliseconds) happens in the worker
    thread that runs the query, not on the event loop that prepared it."""
    run(qclient, qorg, {**REVENUE, "plan_only": True})  # the model version is in memory
    runtime = qclient.app.state.runtime  # type: ignore[attr-defined]
    runtime.engines.close_all()  # the next query opens its engine again
    threads: dict[str, threading.Thread] = {}
    real_begin, real_factory = service.begin, runtime.engines._factory

    def begin(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads["loop"] = threading.current_thread()
        return real_begin(*args, **kwargs)

    def factory(spec):  # type: ignore[no-untyped-def]
        threads["open"] = threading.current_thread()
        return real_factory(spec)

    monkeypatch.setattr(service, "begin", begin)
    monkeypatch.setattr(runtime.engines, "_factory", factory)
    r = run(qclient, qorg, {**REVENUE, "cache": "bypass"})
    assert r.status_code == 200, r.text
    assert threads["open"] is not threads["loop"]


def test_failed_execution_on_the_loop_path_is_recorded_with_its_event(
    qclient: TestClient, qorg: Org, monkeypatch: pytest.MonkeyPatch, demo_warehouse: WarehouseInfo
) -> None:
    """The warehouse fails after the event loop prepared the query (the connection now points
    at a database without the model's tables): an error answer, one history row with its error
    type, one query.error event."""
    empty = demo_warehouse.path.parent / f"empty-{uuid.uuid4().hex}.duckdb"
    duckdb.connect(str(empty)).close()
    conn = qclient.get("/api/v1/connections", headers=qorg.headers).json()["data"][0]
    patched = qclient.patch(
        f"/api/v1/connections/{conn['id']}", headers=qorg.headers, json={"database": str(empty)}
    )
    assert patched.status_code == 200, patched.text
    run(qclient, qorg, {**REVENUE, "plan_only": True})  # the model version is in memory
    steps = _loop_steps(monkeypatch)
    r = run(qclient, qorg, {**REVENUE, "name": "broken", "cache": "bypass"})
    assert r.status_code >= 400, r.text
    assert "duckdb error" in r.json()["message"]
    assert steps == ["execution"]
    history = qclient.get("/api/v1/queries/history", headers=qorg.headers).json()["data"]
    mine = [h for h in history if h["name"] == "broken"]
    assert [(h["status"], h["error_type"]) for h in mine] == [("error", "database_error")]
    audit = qclient.get(
        "/api/v1/audit-events", headers=qorg.headers, params={"type": "query.error"}
    ).json()["data"]
    assert [e["data"].get("query_name") for e in audit].count("broken") == 1


def test_model_change_invalidates_cache(qclient: TestClient, qorg: Org) -> None:
    run(qclient, qorg, REVENUE)
    assert run(qclient, qorg, REVENUE).json()["meta"]["cache_hit"] is True
    r = qclient.put(
        "/api/v1/model", headers=qorg.headers, json={"caching_policy": {"default_max_age": 60}}
    )
    assert r.status_code == 200, r.text
    assert run(qclient, qorg, REVENUE).json()["meta"]["cache_hit"] is False


def test_csv_and_arrow(qclient: TestClient, qorg: Org) -> None:
    as_json = run(qclient, qorg, REVENUE).json()["data"]
    csv_resp = run(qclient, qorg, REVENUE, Accept="text/csv")
    assert csv_resp.headers["content-type"].startswith("text/csv")
    lines = csv_resp.text.strip().splitlines()
    assert lines[0] == "date_month,total_revenue"
    assert len(lines) == len(as_json) + 1
    arrow = run(qclient, qorg, REVENUE, Accept="application/vnd.apache.arrow.stream")
    assert arrow.status_code == 200
    table = pyarrow.ipc.open_stream(io.BytesIO(arrow.content)).read_all()
    assert table.column_names == ["date_month", "total_revenue"]
    assert table.num_rows == len(as_json)
    json_total = sum(r["total_revenue"] or 0 for r in as_json)
    arrow_total = float(sum(v.as_py() or 0 for v in table.column("total_revenue")))
    assert abs(json_total - arrow_total) < 1e-6


def test_plan_only_returns_sql_without_running(qclient: TestClient, qorg: Org) -> None:
    r = run(qclient, qorg, {**REVENUE, "plan_only": True})
    body = r.json()
    assert r.status_code == 200
    assert body["data"] == []
    assert "plan" in body["meta"]
    assert "orders" in body["meta"]["sql"]


def test_bad_query_lists_every_problem_and_is_recorded(qclient: TestClient, qorg: Org) -> None:
    r = run(
        qclient,
        qorg,
        {
            "topic": "revenue_analytics",
            "dimensions": ["no_such_dim"],
            "measures": ["total_revenu"],
            "filters": {"customer_id": {"between": "x"}},
        },
    )
    assert r.status_code == 422
    details = r.json()["details"]
    assert len(details) >= 3
    assert any("total_revenue" in (d.get("hint") or "") for d in details)
    history = qclient.get("/api/v1/queries/history", headers=qorg.headers).json()["data"]
    assert history[0]["status"] == "error"
    assert history[0]["error_type"] == "invalid_query"
    audit = qclient.get("/api/v1/audit-events?action=query.error", headers=qorg.headers).json()
    assert audit["data"][0]["data"]["error_type"] == "invalid_query"


def test_unknown_topic_and_extra_keys(qclient: TestClient, qorg: Org) -> None:
    assert run(qclient, qorg, {"topic": "nope", "measures": ["x"]}).status_code == 422
    r = run(qclient, qorg, {**REVENUE, "bogus": 1})
    assert r.status_code == 422
    assert r.json()["details"][0]["path"] == ["bogus"]


def test_history_records_successful_runs(qclient: TestClient, qorg: Org) -> None:
    run(qclient, qorg, {**REVENUE, "name": "monthly"})
    entry = qclient.get("/api/v1/queries/history", headers=qorg.headers).json()["data"][0]
    assert entry["status"] == "ok"
    assert entry["name"] == "monthly"
    assert entry["fields"] == ["date_month", "total_revenue"]
    assert entry["row_count"] > 0
    assert len(entry["sql_hash"]) == 64


def test_metrics_monitor_reads_system_metrics(qclient: TestClient, qorg: Org) -> None:
    """The seed's MetricsMonitor body, against gnomon's own history, scoped to the org."""
    since = "2000-01-01T00:00:00.000Z"
    for _ in range(3):
        run(qclient, qorg, REVENUE)
    run(qclient, qorg, {"topic": "revenue_analytics", "measures": ["nope"]})
    body = {
        "topic": "system_metrics",
        "measures": [
            "avg_query_time",
            "error_rate",
            "query_count",
            "cache_hit_rate",
            "p95_query_time",
        ],
        "filters": {"timestamp": {"gte": since}},
    }
    r = run(qclient, qorg, body)
    assert r.status_code == 200, r.text
    row = r.json()["data"][0]
    assert row["query_count"] == 4
    assert abs(row["error_rate"] - 0.25) < 1e-9
    assert abs(row["cache_hit_rate"] - 0.5) < 1e-9  # runs 2 and 3 hit the cache
    assert row["avg_query_time"] >= 0
    made = qclient.post(
        "/api/v1/organizations",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        json={"name": "Elsewhere"},
    ).json()["data"]
    other = Org(made["organization"]["id"], made["api_key"]["secret"])
    theirs = run(qclient, other, body).json()["data"]
    assert theirs[0]["query_count"] == 0  # another org's history is invisible


def test_raw_sql_for_org_key(qclient: TestClient, qorg: Org) -> None:
    r = qclient.post(
        "/api/v1/queries/sql",
        headers=qorg.headers,
        json={"connection": "main_db", "sql": "select count(*) as n from main.customers"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"][0]["n"] > 0


def test_database_error_is_reported(qclient: TestClient, qorg: Org) -> None:
    r = qclient.post(
        "/api/v1/queries/sql",
        headers=qorg.headers,
        json={"connection": "main_db", "sql": "select * from no_such_table"},
    )
    assert r.status_code == 400
    assert r.json()["details"][0]["error_type"] == "database_error"


def test_slow_and_failed_queries_emit_the_seed_events(qclient: TestClient, qorg: Org) -> None:
    r = qclient.put(
        "/api/v1/webhooks/settings", headers=qorg.headers, json={"slow_query_threshold_s": 0.000001}
    )
    assert r.status_code == 200, r.text
    run(qclient, qorg, {**REVENUE, "name": "slow_one", "cache": "bypass"})
    slow = qclient.get("/api/v1/audit-events?action=query.slow_execution", headers=qorg.headers)
    data = slow.json()["data"][0]["data"]
    assert data["execution_time"] >= 0
    assert data["threshold_s"] == 0.000001
    assert data["query_name"] == "slow_one"
    assert data["connection"] == "main_db"
    assert len(data["sql_hash"]) == 64
    # A cache hit executes nothing, so it is never a slow execution.
    before = slow.json()["meta"]["total"]
    run(qclient, qorg, {**REVENUE, "name": "slow_one"})
    run(qclient, qorg, {**REVENUE, "name": "slow_one"})
    after = qclient.get("/api/v1/audit-events?action=query.slow_execution", headers=qorg.headers)
    assert after.json()["meta"]["total"] == before + 1  # the first normal run filled the cache
    run(qclient, qorg, {"topic": "revenue_analytics", "measures": ["nope"]})
    error = qclient.get("/api/v1/audit-events?action=query.error", headers=qorg.headers)
    assert error.json()["data"][0]["data"]["error_type"] == "invalid_query"
    types = {
        t["name"]
        for t in qclient.get("/api/v1/webhooks/event-types", headers=qorg.headers).json()["data"]
    }
    assert {"query.slow_execution", "query.error"} <= types


def test_the_response_body_encodes_what_orjson_refuses_too() -> None:
    """meta goes through orjson; a value it refuses (a non-string key in a plan, an integer
    beyond 64 bits) falls back to the standard library, with the same JSON as the result."""
    outcome = service.QueryOutcome(sql="select 1", topic="t", fields=[], data_json=b"[]")
    outcome.plan = {"joins": [], "big": 2**70}
    assert json.loads(outcome.json_bytes())["meta"]["plan"] == {"joins": [], "big": 2**70}
    outcome.plan = {1: "non-string key"}
    assert json.loads(outcome.json_bytes())["meta"]["plan"] == {"1": "non-string key"}
    outcome.plan = {"when": dt.date(2024, 1, 2)}
    assert json.loads(outcome.json_bytes())["meta"]["plan"] == {"when": "2024-01-02"}


def test_a_query_is_prepared_once_per_caller_until_the_store_changes(
    qclient: TestClient, qorg: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same body from the same caller reuses its prepared query (model, connection, role
    checks, SQL) until a commit; another body, another caller, a commit each prepare anew; a
    body too large to remember is prepared every time."""
    prepared: list[str] = []
    real = service._prepare

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        prepared.append(args[3].topic)
        return real(*args, **kwargs)

    run(qclient, qorg, {**REVENUE, "limit": 1})  # the model version is in memory
    _hold_history(qclient)
    monkeypatch.setattr(service, "_prepare", counting)
    run(qclient, qorg, {**REVENUE, "plan_only": True})
    assert len(prepared) == 1
    for _ in range(3):
        assert run(qclient, qorg, {**REVENUE, "cache": "bypass"}).json()["data"]
    assert len(prepared) == 1  # plan_only and cache are not part of what is prepared
    run(qclient, qorg, {**REVENUE, "limit": 3})
    assert len(prepared) == 2
    other = qclient.post(
        "/api/v1/api-keys", headers=qorg.headers, json={"name": "k2", "kind": "organization"}
    ).json()["data"]["secret"]  # a commit, and another caller
    run(qclient, Org(qorg.id, other), REVENUE)
    run(qclient, qorg, REVENUE)
    assert len(prepared) == 4
    large = {**REVENUE, "name": "large", "filters": {"customer_id": list(range(2000))}}
    run(qclient, qorg, large)
    answer = run(qclient, qorg, large).json()
    assert len(prepared) == 6
    fields = [f["name"] for f in answer["meta"]["fields"]]
    assert answer["data"]
    assert all(list(row) == fields for row in answer["data"])
    history = qclient.get("/api/v1/queries/history", headers=qorg.headers).json()["data"]
    assert [h["fields"] for h in history if h["name"] == "large"] == [fields, fields]
