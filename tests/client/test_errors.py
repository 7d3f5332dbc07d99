"""Each error status becomes its exception class, carrying the server's body and request id."""

from __future__ import annotations

import pytest
from tests.client.servers import RestartableServer

from gnomon.client import (
    AuthenticationError,
    AuthorizationError,
    ConflictError,
    Gnomon,
    NotFoundError,
    ValidationError,
)
from gnomon.client.errors import APIError


def test_invalid_token_is_an_authentication_error_with_request_id(live: RestartableServer) -> None:
    with Gnomon(live.url, "not-a-real-key") as gn, pytest.raises(AuthenticationError) as info:
        gn.whoami()
    assert info.value.status_code == 401
    assert info.value.error == "unauthenticated"
    assert info.value.request_id
    assert info.value.request_id in str(info.value)


def test_org_key_on_platform_api_is_an_authorization_error(gn: Gnomon) -> None:
    with pytest.raises(AuthorizationError) as info:
        gn.organizations.list()
    assert info.value.status_code == 403
    assert "platform key" in info.value.message


def test_unknown_id_is_not_found(gn: Gnomon) -> None:
    with pytest.raises(NotFoundError) as info:
        gn.api_keys.get("does-not-exist")
    assert info.value.error == "not_found"


def test_validation_error_lists_every_problem(gn: Gnomon) -> None:
    with pytest.raises(ValidationError) as info:
        gn.api_keys.create(name="", kind="nonsense")
    paths = sorted(tuple(d["path"]) for d in info.value.details)
    assert paths == [("kind",), ("name",)]


def test_revoking_the_calling_key_is_a_conflict(gn: Gnomon) -> None:
    me = gn.whoami()
    assert me.key_id is not None
    with pytest.raises(ConflictError):
        gn.api_keys.revoke(me.key_id)


def test_every_api_error_is_catchable_as_api_error(gn: Gnomon) -> None:
    with pytest.raises(APIError) as info:
        gn.request("GET", "/no-such-area")
    assert info.value.status_code == 404
