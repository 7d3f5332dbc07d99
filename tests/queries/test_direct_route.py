"""``POST /queries/run``'s direct path (gnomon.api.direct): well-formed requests skip Starlette's
routing and FastAPI's dependency solving; every other request gets exactly FastAPI's answer,
and the errors the endpoint raises are answered by the application's own handlers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import fastapi.routing
import pydantic
import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from tests.conftest import Org

from gnomon.api.app import direct_routes
from gnomon.api.deps import CurrentPrincipal, CurrentRuntime
from gnomon.api.direct import DirectRoute
from gnomon.queries.schemas import QueryRun

BODY = {"topic": "revenue_analytics", "measures": ["total_revenue"], "dimensions": ["date_month"]}


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths of the requests FastAPI solved dependencies for."""
    calls: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["request"].url.path)
        return await original(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    return calls


def test_a_well_formed_query_skips_dependency_solving(
    qclient: TestClient, qorg: Org, solved: list[str]
) -> None:
    r = qclient.post("/api/v1/queries/run", headers=qorg.headers, json=BODY)
    assert r.status_code == 200, r.text
    assert r.json()["data"]
    assert solved == []
    # Another endpoint still goes through FastAPI, as does a query with another content type.
    assert qclient.get("/api/v1/connections", headers=qorg.headers).status_code == 200
    r = qclient.post(
        "/api/v1/queries/run",
        headers={**qorg.headers, "Content-Type": "application/json; charset=utf-8"},
        content=fastapi.routing.json.dumps(BODY),
    )
    assert r.status_code == 200, r.text
    assert solved == ["/api/v1/connections", "/api/v1/queries/run"]


BAD: list[tuple[str, dict[str, str], bytes]] = [
    ("invalid JSON", {"Content-Type": "application/json"}, b'{"topic": '),
    ("unknown field", {"Content-Type": "application/json"}, b'{"topic": "t", "colour": 1}'),
    ("wrong types", {"Content-Type": "application/json"}, b'{"topic": 3, "dimensions": "x"}'),
    ("not an object", {"Content-Type": "application/json"}, b"[1, 2]"),
    ("empty body", {"Content-Type": "application/json"}, b""),
    ("text/plain", {"Content-Type": "text/plain"}, b'{"topic": "revenue_analytics"}'),
    (
        "integer beyond 64 bits",
        {"Content-Type": "application/json"},
        b'{"topic": "t", "limit": 1' + b"0" * 30 + b"}",
    ),
]


@pytest.mark.parametrize(("case", "headers", "content"), BAD, ids=[c[0] for c in BAD])
@pytest.mark.parametrize("authenticated", [True, False])
def test_bad_requests_get_fastapis_own_answer(
    qclient: TestClient,
    qorg: Org,
    case: str,
    headers: dict[str, str],
    content: bytes,
    authenticated: bool,
) -> None:
    """The same request answered by the direct route and, with a dependency override in place
    (which sends every request through FastAPI), by FastAPI's handler: the same status and
    error body, in the same order of checks."""
    if authenticated:
        headers = {**headers, **qorg.headers}
    direct, through_fastapi = _direct_and_through_fastapi(
        qclient, lambda: qclient.post("/api/v1/queries/run", headers=headers, content=content)
    )
    assert direct == through_fastapi
    # FastAPI parses the JSON before it authenticates, and validates it after.
    assert direct[0] == (422 if authenticated or case == "invalid JSON" else 401), direct
    # FastAPI saw the body the lane had read (replayed): its details name what is wrong in it.
    expected = {
        "invalid JSON": "json_invalid",
        "unknown field": "extra_forbidden",
        "wrong types": "string_type",
        "not an object": "model_attributes_type",
        "empty body": "missing",
        "text/plain": "model_attributes_type",
        "integer beyond 64 bits": "less_than_equal",
    }[case]
    if direct[0] == 422:
        assert expected in [d["code"] for d in direct[1]["details"]], direct


Answer = tuple[int, dict[str, Any]]


def _direct_and_through_fastapi(
    client: TestClient, post: Callable[[], Any]
) -> tuple[Answer, Answer]:
    """The status and error body (without its request id) of ``post()`` answered by the
    direct path, then with a dependency override in place, which sends every request through
    FastAPI."""

    def answer() -> Answer:
        r = post()
        body: dict[str, Any] = r.json()
        body.pop("request_id", None)
        return r.status_code, body

    direct = answer()
    app: fastapi.FastAPI = client.app  # type: ignore[assignment]
    app.dependency_overrides[_unused_dependency] = _unused_dependency
    try:
        return direct, answer()
    finally:
        app.dependency_overrides.clear()


def _unused_dependency() -> None:
    """Only there to make the overrides non-empty."""


def test_a_valid_body_without_a_key_is_401(qclient: TestClient, solved: list[str]) -> None:
    r = qclient.post("/api/v1/queries/run", json=BODY)
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "unauthenticated"


ENDPOINT_ERRORS = [
    ("unknown topic", {"topic": "nope", "measures": ["total_revenue"]}),
    ("unknown fields", {"topic": "revenue_analytics", "measures": ["x"], "dimensions": ["y"]}),
    ("unknown connection", {**BODY, "connection": "nowhere"}),
    ("bad filter", {**BODY, "filters": {"date_month": {"between": "soon"}}}),
]


@pytest.mark.parametrize(("case", "body"), ENDPOINT_ERRORS, ids=[c[0] for c in ENDPOINT_ERRORS])
def test_errors_of_the_endpoint_are_answered_as_through_fastapi(
    qclient: TestClient, qorg: Org, case: str, body: dict[str, Any]
) -> None:
    direct, through_fastapi = _direct_and_through_fastapi(
        qclient, lambda: qclient.post("/api/v1/queries/run", headers=qorg.headers, json=body)
    )
    assert direct == through_fastapi
    assert direct[0] in (404, 422), direct
    assert direct[1]["message"]


def test_direct_requests_are_measured_and_replayed_like_any_other(
    qclient: TestClient, qorg: Org
) -> None:
    """Middleware outside the lane still applies: the request id, the metrics label, and an
    Idempotency-Key replay."""
    headers = {**qorg.headers, "Idempotency-Key": "direct-1", "X-Request-Id": "lane-check"}
    first = qclient.post("/api/v1/queries/run", headers=headers, json=BODY)
    assert first.status_code == 200, first.text
    assert first.headers["x-request-id"] == "lane-check"
    again = qclient.post("/api/v1/queries/run", headers=headers, json=BODY)
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    text = qclient.get("/metrics").text
    assert re.search(r'gnomon_http_requests_total\{.*route="queries_run".*\} [1-9]', text)


def test_direct_routes_take_only_the_shape_they_handle() -> None:
    router = APIRouter()

    async def fine(body: QueryRun, request: Request, p: CurrentPrincipal, r: CurrentRuntime) -> Any:
        return None

    async def with_path_param(
        item: str, body: QueryRun, request: Request, p: CurrentPrincipal, r: CurrentRuntime
    ) -> Any:
        return None

    async def without_principal(body: QueryRun, request: Request, r: CurrentRuntime) -> Any:
        return None

    router.add_api_route("/fine", fine, methods=["POST"], route_class_override=DirectRoute)
    for path, endpoint in (("/{item}", with_path_param), ("/anonymous", without_principal)):
        with pytest.raises(TypeError, match="DirectRoute"):
            router.add_api_route(path, endpoint, methods=["POST"], route_class_override=DirectRoute)


def _run_route() -> DirectRoute:
    """The route the direct lane serves ``POST /queries/run`` with (one per process)."""
    return direct_routes()["/api/v1/queries/run"]


def test_a_body_sent_again_is_validated_once(qclient: TestClient, qorg: Org) -> None:
    route = _run_route()
    raw = json.dumps({**BODY, "name": "validated once"}).encode()
    answers = []
    for _ in range(2):
        r = qclient.post(
            "/api/v1/queries/run",
            headers={**qorg.headers, "Content-Type": "application/json"},
            content=raw,
        )
        assert r.status_code == 200, r.text
        answers.append(r.json()["data"])
        assert route._bodies is not None
        remembered = route._bodies[raw]
    assert answers[0] == answers[1]
    assert remembered.name == "validated once"  # type: ignore[attr-defined]
    # Shared between requests, so it cannot be changed.
    with pytest.raises(pydantic.ValidationError):
        remembered.name = "changed"  # type: ignore[attr-defined]


def test_large_and_invalid_bodies_are_not_remembered(qclient: TestClient, qorg: Org) -> None:
    route = _run_route()
    headers = {**qorg.headers, "Content-Type": "application/json"}
    tiers = [f"tier-{i:04d}" for i in range(400)]
    large = json.dumps({**BODY, "filters": {"subscription_tier": tiers}}).encode()
    assert len(large) > 4096
    invalid = json.dumps({**BODY, "limit": "many"}).encode()
    assert qclient.post("/api/v1/queries/run", headers=headers, content=large).status_code == 200
    assert qclient.post("/api/v1/queries/run", headers=headers, content=invalid).status_code == 422
    assert route._bodies is not None
    assert large not in route._bodies
    assert invalid not in route._bodies


class Open(pydantic.BaseModel):
    topic: str


def test_only_a_frozen_body_model_is_shared() -> None:
    async def endpoint(body: Open, request: Request, p: CurrentPrincipal, r: CurrentRuntime) -> Any:
        return None

    router = APIRouter()
    router.add_api_route("/open", endpoint, methods=["POST"], route_class_override=DirectRoute)
    route = router.routes[0]
    assert isinstance(route, DirectRoute)
    assert route._bodies is None
