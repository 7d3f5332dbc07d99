"""API conventions: error bodies for every status, request ids, pagination, sorting, 413."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.conftest import Org

ERROR_KEYS = {"error", "message", "details", "request_id"}


def assert_error(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == ERROR_KEYS
    assert body["error"] == code
    assert body["request_id"] == r.headers["x-request-id"]
    assert body["message"]
    return body


def test_unknown_route_is_flat_404(client: TestClient) -> None:
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_flat_405(client: TestClient, org: Org) -> None:
    assert_error(client.put("/api/v1/audit-events", headers=org.headers), 405, "method_not_allowed")


def test_missing_key_is_401(client: TestClient) -> None:
    body = assert_error(client.get("/api/v1/api-keys"), 401, "unauthenticated")
    assert "Bearer" in body["message"]


def test_validation_lists_every_problem(client: TestClient, org: Org) -> None:
    r = client.post(
        "/api/v1/api-keys",
        headers=org.headers,
        json={"name": "", "kind": "bogus", "unknown_field": 1, "scopes": "x"},
    )
    body = assert_error(r, 422, "invalid")
    paths = {tuple(d["path"]) for d in body["details"]}
    assert {("name",), ("kind",), ("unknown_field",), ("scopes",)} <= paths


def test_malformed_json_is_422_and_writes_nothing(client: TestClient, org: Org) -> None:
    before = client.get("/api/v1/api-keys", headers=org.headers).json()["meta"]["total"]
    r = client.post(
        "/api/v1/api-keys",
        headers={**org.headers, "Content-Type": "application/json"},
        content=b'{"name": "x",',
    )
    assert_error(r, 422, "invalid")
    after = client.get("/api/v1/api-keys", headers=org.headers).json()["meta"]["total"]
    assert before == after


def test_unhandled_exception_is_flat_500(client: TestClient) -> None:
    app = client.app

    @app.get("/boom")  # type: ignore[attr-defined,untyped-decorator]
    def boom() -> None:
        raise RuntimeError("kaput")

    r = client.get("/boom")
    body = assert_error(r, 500, "internal_error")
    assert "kaput" not in body["message"]  # internals never leak


def test_incoming_request_id_is_kept_and_bad_ones_replaced(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    replaced = client.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"
    assert len(replaced.headers["x-request-id"]) == 32


def test_oversized_body_is_413(app_factory) -> None:  # type: ignore[no-untyped-def]
    client = app_factory(max_body_bytes=2048)
    r = client.post("/api/v1/api-keys", content=b"x" * 5000)
    assert_error(r, 413, "payload_too_large")


def test_oversized_streamed_body_is_413(app_factory) -> None:  # type: ignore[no-untyped-def]
    client = app_factory(max_body_bytes=2048)

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"y" * 1000

    r = client.post("/api/v1/api-keys", content=chunks())
    assert_error(r, 413, "payload_too_large")


def _make_keys(client: TestClient, org: Org, n: int) -> None:
    for i in range(n):
        r = client.post(
            "/api/v1/api-keys",
            headers=org.headers,
            json={"name": f"k{i:02d}", "kind": "organization"},
        )
        assert r.status_code == 201


def test_pagination_links_first_middle_last(client: TestClient, org: Org) -> None:
    _make_keys(client, org, 4)  # + the bootstrap key = 5
    first = client.get("/api/v1/api-keys?per_page=2&sort=name", headers=org.headers).json()
    assert first["meta"] == {"total": 5, "page": 1, "per_page": 2}
    assert first["links"]["self"] == "/api/v1/api-keys?sort=name&page=1&per_page=2"
    assert first["links"]["next"] == "/api/v1/api-keys?sort=name&page=2&per_page=2"
    assert first["links"]["last"] == "/api/v1/api-keys?sort=name&page=3&per_page=2"
    middle = client.get(first["links"]["next"], headers=org.headers).json()
    assert middle["meta"]["page"] == 2
    assert middle["links"]["next"].endswith("page=3&per_page=2")
    last = client.get(middle["links"]["next"], headers=org.headers).json()
    assert "next" not in last["links"]
    assert len(last["data"]) == 1
    names = [k["name"] for p in (first, middle, last) for k in p["data"]]
    assert names == sorted(names)
    assert len(set(names)) == 5


def test_sort_descending(client: TestClient, org: Org) -> None:
    _make_keys(client, org, 3)
    names = [
        k["name"]
        for k in client.get("/api/v1/api-keys?sort=-name", headers=org.headers).json()["data"]
    ]
    assert names == sorted(names, reverse=True)


def test_bad_pagination_and_sort_are_422(client: TestClient, org: Org) -> None:
    for query in ("page=0", "per_page=201", "per_page=abc", "page=-1"):
        assert_error(client.get(f"/api/v1/api-keys?{query}", headers=org.headers), 422, "invalid")
    body = assert_error(
        client.get("/api/v1/api-keys?sort=secret_hash", headers=org.headers), 422, "invalid"
    )
    assert body["details"][0]["path"] == ["query", "sort"]
    assert "name" in body["details"][0]["message"]
    assert_error(client.get("/api/v1/audit-events?until=0.5", headers=org.headers), 422, "invalid")
