"""SCIM Bulk (RFC 7644 §3.7): many Users and Groups operations in one request.

Identity providers that batch (and gnomon's own bulk benchmarks) send hundreds of creates in
one request instead of one HTTP round trip each. Operations run in order, each in a savepoint
of the request's transaction: one that fails is rolled back alone (its audit record and webhook
deliveries with it) and reported in its own response entry, while the others stand —
unless ``failOnErrors`` errors were reached, after which the rest are not attempted.

``bulkId`` (required on POST) names a resource created earlier in the same request; the value
``"bulkId:<id>"`` anywhere in a later operation's ``data`` or ``path`` is replaced by that
resource's id, so a group can list users created in the same request as members. A reference
to a ``bulkId`` not created (yet, or because its operation failed) fails the referring
operation with ``invalidValue``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from scim2_models import SCIMException
from sqlalchemy.orm import Session

from gnomon import policy
from gnomon.errors import GnomonError
from gnomon.principal import Principal
from gnomon.scim import service
from gnomon.scim.errors import ScimError, describe, error_body

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
MAX_OPERATIONS = 1000

Doc = dict[str, Any]

_CREATE: dict[str, Callable[..., Doc]] = {
    "Users": service.create_user,
    "Groups": service.create_group,
}
_REPLACE: dict[str, Callable[..., Doc]] = {
    "Users": service.replace_user,
    "Groups": service.replace_group,
}
_PATCH: dict[str, Callable[..., Doc]] = {
    "Users": service.patch_user,
    "Groups": service.patch_group,
}
_DELETE: dict[str, Callable[..., None]] = {
    "Users": service.delete_user,
    "Groups": service.delete_group,
}


def _operations(payload: Any, max_operations: int) -> tuple[list[Any], int | None]:
    if not isinstance(payload, dict) or BULK_REQUEST not in (payload.get("schemas") or []):
        raise ScimError(400, f"a bulk request must name the schema {BULK_REQUEST}", "invalidSyntax")
    operations = payload.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, "Operations must be a non-empty list", "invalidSyntax")
    if len(operations) > max_operations:
        raise ScimError(
            413,
            f"a bulk request may hold at most {max_operations} operations (got {len(operations)})",
        )
    fail_on_errors = payload.get("failOnErrors")
    if fail_on_errors is not None and (
        not isinstance(fail_on_errors, int)
        or isinstance(fail_on_errors, bool)
        or fail_on_errors < 1
    ):
        raise ScimError(400, "failOnErrors must be a positive integer", "invalidValue")
    return operations, fail_on_errors


def _resolve(value: Any, created: dict[str, str]) -> Any:
    """``value`` with every ``"bulkId:<id>"`` string replaced by the id created for it."""
    if isinstance(value, str) and value.startswith("bulkId:"):
        bulk_id = value.removeprefix("bulkId:")
        if bulk_id not in created:
            raise ScimError(
                400, f"bulkId {bulk_id!r} names no resource created before it", "invalidValue"
            )
        return created[bulk_id]
    if isinstance(value, dict):
        return {k: _resolve(v, created) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, created) for v in value]
    return value


def _target(path: Any, method: str, created: dict[str, str]) -> tuple[str, str | None]:
    """``(resource type, id)`` of an operation's path: ``/Users`` or ``/Groups/<id>``."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise ScimError(
            400, "path must be /Users, /Groups or one of their resources", "invalidPath"
        )
    parts = path.strip("/").split("/")
    if parts[0] not in _CREATE or len(parts) > 2:
        raise ScimError(400, f"unsupported bulk path {path!r}", "invalidPath")
    resource_id = _resolve(parts[1], created) if len(parts) == 2 else None
    if (method == "POST") != (resource_id is None):
        raise ScimError(
            400,
            f"{method} needs {'a collection path' if method == 'POST' else 'a resource path'}",
            "invalidPath",
        )
    return parts[0], resource_id


def _run_one(
    session: Session,
    principal: Principal,
    base_url: str,
    op: Any,
    created: dict[str, str],
) -> Doc:
    if not isinstance(op, dict):
        raise ScimError(400, "each operation must be an object", "invalidSyntax")
    method = str(op.get("method", "")).upper()
    if method not in ("POST", "PUT", "PATCH", "DELETE"):
        raise ScimError(400, f"unsupported bulk method {op.get('method')!r}", "invalidSyntax")
    bulk_id = op.get("bulkId")
    if method == "POST" and (not isinstance(bulk_id, str) or not bulk_id):
        raise ScimError(400, "bulkId is required for POST", "invalidValue")
    kind, resource_id = _target(op.get("path"), method, created)
    version = op.get("version")
    if version is not None and not isinstance(version, str):
        raise ScimError(400, "version must be an ETag string", "invalidValue")
    data = _resolve(op.get("data"), created)
    if method == "DELETE":
        _DELETE[kind](session, principal, resource_id, version)
        return {"status": "204", "location": f"{base_url}/{kind}/{resource_id}"}
    if method == "POST":
        doc = _CREATE[kind](session, principal, base_url, data)
        created[str(bulk_id)] = str(doc["id"])
        status = "201"
    else:
        write = _REPLACE[kind] if method == "PUT" else _PATCH[kind]
        doc = write(session, principal, base_url, resource_id, data, version)
        status = "200"
    meta = doc.get("meta") or {}
    return {"status": status, "location": meta.get("location"), "version": meta.get("version")}


def run(
    session: Session,
    principal: Principal,
    base_url: str,
    payload: Any,
    *,
    max_operations: int = MAX_OPERATIONS,
) -> Doc:
    """Run a BulkRequest; returns the BulkResponse (one entry per operation attempted)."""
    policy.require_organization_key(principal, "SCIM")
    operations, fail_on_errors = _operations(payload, max_operations)
    created: dict[str, str] = {}
    results: list[Doc] = []
    failures = 0
    for op in operations:
        if fail_on_errors is not None and failures >= fail_on_errors:
            break
        entry: Doc = {"method": str(op.get("method", "")).upper() if isinstance(op, dict) else ""}
        if isinstance(op, dict) and op.get("bulkId") is not None:
            entry["bulkId"] = op["bulkId"]
        try:
            with session.begin_nested():
                entry.update(_run_one(session, principal, base_url, op, created))
        except (GnomonError, SCIMException, ValidationError) as exc:
            status, detail, scim_type = describe(exc)
            entry["status"] = str(status)
            entry["response"] = error_body(status, detail, scim_type)
            failures += 1
        results.append({k: v for k, v in entry.items() if v is not None})
    return {"schemas": [BULK_RESPONSE], "Operations": results}
