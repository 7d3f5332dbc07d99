"""The audit log: records, filters, CSV export, and tamper detection of the hash chain."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from tests.conftest import Org

from gnomon.store.tables import events


def _make_changes(client: TestClient, org: Org) -> str:
    kid = client.post(
        "/api/v1/api-keys",
        headers={**org.headers, "User-Agent": "audit-test/1.0", "X-Request-Id": "req-create-1"},
        json={"name": "first", "kind": "organization"},
    ).json()["data"]["id"]
    client.patch(f"/api/v1/api-keys/{kid}", headers=org.headers, json={"name": "second"})
    client.delete(f"/api/v1/api-keys/{kid}", headers=org.headers)
    return str(kid)


def test_records_carry_actor_target_diff_and_request(client: TestClient, org: Org) -> None:
    kid = _make_changes(client, org)
    page = client.get(
        f"/api/v1/audit-events?target_id={kid}&sort=occurred_at", headers=org.headers
    ).json()
    actions = [e["action"] for e in page["data"]]
    assert actions == ["api_key.created", "api_key.updated", "api_key.revoked"]
    created, updated, _ = page["data"]
    assert created["request_id"] == "req-create-1"
    assert created["user_agent"] == "audit-test/1.0"
    assert created["client_ip"]
    assert created["actor"]["type"] == "api_key"
    assert created["target"] == {"type": "api_key", "id": kid}
    assert updated["changes"]["name"] == {"before": "first", "after": "second"}


def test_filters(client: TestClient, org: Org) -> None:
    _make_changes(client, org)
    by_action = client.get(
        "/api/v1/audit-events?action=api_key.updated", headers=org.headers
    ).json()
    assert by_action["meta"]["total"] == 1
    by_prefix = client.get("/api/v1/audit-events?action=api_key.*", headers=org.headers).json()
    assert by_prefix["meta"]["total"] == 3
    future = client.get(
        "/api/v1/audit-events?since=2999-01-01T00:00:00Z", headers=org.headers
    ).json()
    assert future["meta"]["total"] == 0
    until_past = client.get(
        "/api/v1/audit-events?until=2000-01-01T00:00:00Z", headers=org.headers
    ).json()
    assert until_past["meta"]["total"] == 0
    by_type = client.get(
        "/api/v1/audit-events?target_type=organization", headers=org.headers
    ).json()
    assert [e["action"] for e in by_type["data"]] == ["organization.created"]


def test_csv_export(client: TestClient, org: Org) -> None:
    _make_changes(client, org)
    r = client.get(
        "/api/v1/audit-events?action=api_key.*", headers={**org.headers, "Accept": "text/csv"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["action"] for row in rows] == [
        "api_key.created",
        "api_key.updated",
        "api_key.revoked",
    ]
    assert json.loads(rows[1]["changes"])["name"]["after"] == "second"


def _verify(client: TestClient, org: Org) -> dict:  # type: ignore[type-arg]
    r = client.get("/api/v1/audit-events/verify", headers=org.headers)
    assert r.status_code == 200
    return dict(r.json()["data"])


def test_intact_chain_verifies(client: TestClient, org: Org) -> None:
    before = _verify(client, org)["checked"]
    _make_changes(client, org)
    result = _verify(client, org)
    n = before + 3
    assert result == {"ok": True, "checked": n, "head_seq": n, "first_broken": None}


def test_edited_row_is_detected(client: TestClient, org: Org) -> None:
    _make_changes(client, org)
    with client.app.state.store.transaction() as s:  # type: ignore[attr-defined]
        s.execute(
            update(events)
            .where(events.c.org_id == org.id, events.c.seq == 3)
            .values(data={"api_key": {"name": "forged"}})
        )
    result = _verify(client, org)
    assert result["ok"] is False
    assert result["first_broken"]["seq"] == 3
    assert "edited" in result["first_broken"]["reason"]


def test_deleted_row_is_detected(client: TestClient, org: Org) -> None:
    _make_changes(client, org)
    with client.app.state.store.transaction() as s:  # type: ignore[attr-defined]
        s.execute(delete(events).where(events.c.org_id == org.id, events.c.seq == 2))
    result = _verify(client, org)
    assert result["ok"] is False
    assert result["first_broken"]["seq"] == 3


def test_truncated_tail_is_detected(client: TestClient, org: Org) -> None:
    _make_changes(client, org)
    last = _verify(client, org)["head_seq"]
    with client.app.state.store.transaction() as s:  # type: ignore[attr-defined]
        s.execute(delete(events).where(events.c.org_id == org.id, events.c.seq == last))
    result = _verify(client, org)
    assert result["ok"] is False
    assert "missing at the end" in result["first_broken"]["reason"]


def test_rehashed_forgery_still_breaks_the_next_link(client: TestClient, org: Org) -> None:
    """Editing a row AND fixing its own hash breaks the following record's prev_hash."""
    from gnomon.audit.chain import link_hash

    _make_changes(client, org)
    with client.app.state.store.transaction() as s:  # type: ignore[attr-defined]
        row = dict(
            s.execute(select(events).where(events.c.org_id == org.id, events.c.seq == 2))
            .mappings()
            .one()
        )
        row["actor_label"] = "someone else"
        s.execute(
            update(events)
            .where(events.c.id == row["id"])
            .values(actor_label="someone else", hash=link_hash(row["prev_hash"], row))
        )
    result = _verify(client, org)
    assert result["first_broken"]["seq"] == 3
    assert "prev_hash" in result["first_broken"]["reason"]


def test_audit_event_by_id(client: TestClient, org: Org) -> None:
    first = client.get("/api/v1/audit-events", headers=org.headers).json()["data"][0]
    got = client.get(f"/api/v1/audit-events/{first['id']}", headers=org.headers).json()["data"]
    assert got == first
    assert client.get("/api/v1/audit-events/evt_nope", headers=org.headers).status_code == 404
