"""Authentication and the API key lifecycle: 401 vs 403, expiry, revocation, rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.conftest import ADMIN_TOKEN, Org

from gnomon.apikeys import service as keys_service
from gnomon.identity import repository as users_repo
from gnomon.store.tables import api_keys, users
from gnomon.util import new_id, utcnow


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _make_user(client: TestClient, org: Org, *, role: str = "MEMBER") -> str:
    uid = new_id()
    with client.app.state.store.transaction() as s:  # type: ignore[attr-defined]
        users_repo.insert_user(
            s,
            {
                "id": uid,
                "org_id": org.id,
                "email": f"{uid[:8]}@example.com",
                "name": "Test User",
                "org_role": role,
                "active": True,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            },
        )
    return uid


def _personal_key(client: TestClient, org: Org, user_id: str) -> str:
    r = client.post("/api/v1/api-keys", headers=org.headers, json={"name": "p", "user_id": user_id})
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["secret"])


def test_invalid_key_is_401(client: TestClient, org: Org) -> None:
    for token in ("nope", "gnm_abcdefgh_" + "x" * 43, org.token + "x"):
        r = client.get("/api/v1/whoami", headers=_bearer(token))
        assert r.status_code == 401, token


def test_org_key_acts_as_admin(client: TestClient, org: Org) -> None:
    me = client.get("/api/v1/whoami", headers=org.headers).json()["data"]
    assert me["kind"] == "organization"
    assert me["is_org_admin"] is True
    assert me["org_id"] == org.id


def test_secret_shown_once_and_stored_hashed(client: TestClient, org: Org) -> None:
    created = client.post(
        "/api/v1/api-keys", headers=org.headers, json={"name": "x", "kind": "organization"}
    ).json()["data"]
    secret = created["secret"]
    fetched = client.get(f"/api/v1/api-keys/{created['id']}", headers=org.headers).json()["data"]
    assert "secret" not in fetched
    with client.app.state.store.engine.connect() as conn:  # type: ignore[attr-defined]
        stored = [r.secret_hash for r in conn.execute(api_keys.select())]
    assert all(secret not in h for h in stored)
    assert client.get("/api/v1/whoami", headers=_bearer(secret)).status_code == 200


def test_personal_key_of_member_gets_403_on_admin_endpoints(client: TestClient, org: Org) -> None:
    token = _personal_key(client, org, _make_user(client, org))
    me = client.get("/api/v1/whoami", headers=_bearer(token)).json()["data"]
    assert me["kind"] == "personal"
    assert me["is_org_admin"] is False
    r = client.get("/api/v1/audit-events", headers=_bearer(token))
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
    r = client.post(
        "/api/v1/api-keys", headers=_bearer(token), json={"name": "o", "kind": "organization"}
    )
    assert r.status_code == 403


def test_member_sees_only_own_keys(client: TestClient, org: Org) -> None:
    a, b = _make_user(client, org), _make_user(client, org)
    token_a = _personal_key(client, org, a)
    _personal_key(client, org, b)
    listed = client.get("/api/v1/api-keys", headers=_bearer(token_a)).json()
    assert {k["user_id"] for k in listed["data"]} == {a}
    others = client.get("/api/v1/api-keys", headers=org.headers).json()["data"]
    b_key = next(k for k in others if k["user_id"] == b)
    assert (
        client.get(f"/api/v1/api-keys/{b_key['id']}", headers=_bearer(token_a)).status_code == 404
    )


def test_deactivated_user_key_stops_on_next_request(client: TestClient, org: Org) -> None:
    uid = _make_user(client, org)
    token = _personal_key(client, org, uid)
    assert client.get("/api/v1/whoami", headers=_bearer(token)).status_code == 200
    with client.app.state.store.transaction() as s:  # type: ignore[attr-defined]
        s.execute(update(users).where(users.c.id == uid).values(active=False))
    assert client.get("/api/v1/whoami", headers=_bearer(token)).status_code == 401


def test_expired_key_is_401(client: TestClient, org: Org) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = client.post(
        "/api/v1/api-keys",
        headers=org.headers,
        json={"name": "t", "kind": "organization", "expires_at": soon},
    ).json()["data"]
    assert client.get("/api/v1/whoami", headers=_bearer(created["secret"])).status_code == 200
    with client.app.state.store.transaction() as s:  # type: ignore[attr-defined]
        s.execute(
            update(api_keys)
            .where(api_keys.c.id == created["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    r = client.get("/api/v1/whoami", headers=_bearer(created["secret"]))
    assert r.status_code == 401
    assert "expired" in r.json()["message"]


def test_expiry_in_the_past_is_rejected(client: TestClient, org: Org) -> None:
    r = client.post(
        "/api/v1/api-keys",
        headers=org.headers,
        json={"name": "t", "kind": "organization", "expires_at": "2001-01-01T00:00:00Z"},
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["path"] == ["expires_at"]


def test_disable_enable_revoke(client: TestClient, org: Org) -> None:
    created = client.post(
        "/api/v1/api-keys", headers=org.headers, json={"name": "t", "kind": "organization"}
    ).json()["data"]
    kid, secret = created["id"], created["secret"]
    assert (
        client.patch(
            f"/api/v1/api-keys/{kid}", headers=org.headers, json={"enabled": False}
        ).json()["data"]["status"]
        == "disabled"
    )
    assert client.get("/api/v1/whoami", headers=_bearer(secret)).status_code == 401
    client.patch(f"/api/v1/api-keys/{kid}", headers=org.headers, json={"enabled": True})
    assert client.get("/api/v1/whoami", headers=_bearer(secret)).status_code == 200
    assert client.delete(f"/api/v1/api-keys/{kid}", headers=org.headers).status_code == 204
    assert client.get("/api/v1/whoami", headers=_bearer(secret)).status_code == 401
    # Revoked keys are gone from the API; the audit log keeps their history.
    assert client.get(f"/api/v1/api-keys/{kid}", headers=org.headers).status_code == 404
    listed = client.get("/api/v1/api-keys", headers=org.headers).json()["data"]
    assert kid not in {k["id"] for k in listed}
    assert (
        client.patch(
            f"/api/v1/api-keys/{kid}", headers=org.headers, json={"enabled": True}
        ).status_code
        == 404
    )
    assert client.delete(f"/api/v1/api-keys/{kid}", headers=org.headers).status_code == 404


def test_rotate_replaces_secret(client: TestClient, org: Org) -> None:
    created = client.post(
        "/api/v1/api-keys", headers=org.headers, json={"name": "t", "kind": "organization"}
    ).json()["data"]
    rotated = client.post(f"/api/v1/api-keys/{created['id']}/rotate", headers=org.headers).json()[
        "data"
    ]
    assert rotated["id"] == created["id"]
    assert rotated["secret"] != created["secret"]
    assert rotated["rotated_at"] is not None
    assert client.get("/api/v1/whoami", headers=_bearer(created["secret"])).status_code == 401
    assert client.get("/api/v1/whoami", headers=_bearer(rotated["secret"])).status_code == 200


def test_last_used_is_recorded(client: TestClient, org: Org) -> None:
    created = client.post(
        "/api/v1/api-keys", headers=org.headers, json={"name": "t", "kind": "organization"}
    ).json()["data"]
    assert created["last_used_at"] is None
    client.get("/api/v1/whoami", headers=_bearer(created["secret"]))
    fetched = client.get(f"/api/v1/api-keys/{created['id']}", headers=org.headers).json()["data"]
    assert fetched["last_used_at"] is not None


def test_platform_and_org_keys_do_not_cross(client: TestClient, org: Org) -> None:
    assert client.get("/api/v1/api-keys", headers=_bearer(ADMIN_TOKEN)).status_code == 403
    assert client.get("/api/v1/organizations", headers=org.headers).status_code == 403
    assert client.get("/api/v1/organizations").status_code == 401
    assert client.get("/api/v1/organizations", headers=_bearer(ADMIN_TOKEN)).status_code == 200


def test_platform_api_disabled_without_admin_token(app_factory) -> None:  # type: ignore[no-untyped-def]
    client = app_factory(admin_token=None)
    assert client.get("/api/v1/organizations", headers=_bearer(ADMIN_TOKEN)).status_code == 401


def test_a_key_cannot_switch_itself_off(client: TestClient, org: Org) -> None:
    me = client.get("/api/v1/whoami", headers=org.headers).json()["data"]
    own = me["key_id"]
    for method, path, body in (
        ("DELETE", f"/api/v1/api-keys/{own}", None),
        ("POST", f"/api/v1/api-keys/{own}/rotate", None),
        ("PATCH", f"/api/v1/api-keys/{own}", {"enabled": False}),
    ):
        r = client.request(method, path, headers=org.headers, json=body)
        assert r.status_code == 409, (method, r.text)
    assert client.get("/api/v1/whoami", headers=org.headers).status_code == 200
    assert (
        client.patch(
            f"/api/v1/api-keys/{own}", headers=org.headers, json={"name": "renamed"}
        ).status_code
        == 200
    )


def test_405_lists_every_method_of_the_path(client: TestClient) -> None:
    r = client.request("OPTIONS", "/api/v1/api-keys/abc")
    assert r.status_code == 405
    assert r.headers["allow"] == "DELETE, GET, PATCH"


def test_a_remembered_key_still_expires_on_time(
    client: TestClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verified key is remembered until the store changes, but expiry needs no change: the
    clock is compared on every request."""
    created = client.post(
        "/api/v1/api-keys",
        headers=org.headers,
        json={"name": "t", "kind": "organization", "expires_at": _in(hours=1)},
    ).json()["data"]
    verified: list[str] = []
    original = keys_service._grant

    def counting(*args: Any, **kwargs: Any) -> Any:
        verified.append("row")
        return original(*args, **kwargs)

    monkeypatch.setattr(keys_service, "_grant", counting)
    headers = _bearer(created["secret"])
    # The first use records last_used_at (a commit, which forgets what was remembered).
    for _ in range(4):
        before = len(verified)
        assert client.get("/api/v1/whoami", headers=headers).status_code == 200
        if len(verified) == before:
            break
    else:
        pytest.fail("the verified key was never remembered")
    later = utcnow() + timedelta(hours=2)
    monkeypatch.setattr(keys_service, "utcnow", lambda: later)
    before = len(verified)
    r = client.get("/api/v1/whoami", headers=headers)
    assert r.status_code == 401
    assert r.json()["message"] == "API key is expired"
    assert len(verified) == before  # decided from what was remembered


def _in(*, hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()
