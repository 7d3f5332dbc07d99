"""Organization lifecycle: create (with its first admin key), list, delete."""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy.orm import Session

from gnomon import events
from gnomon.apikeys import service as keys
from gnomon.apikeys.schemas import ApiKeyWithSecret
from gnomon.audit import repository as audit_repo
from gnomon.config import Settings
from gnomon.demo import setup as demo_setup
from gnomon.errors import Conflict, NotFound
from gnomon.organizations import repository as repo
from gnomon.organizations.schemas import Organization, OrganizationCreate, OrganizationCreated
from gnomon.principal import Principal, RequestMeta
from gnomon.util import new_id, utcnow


def _slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:90]
    return slug or "org"


def _schema(row: dict[str, Any]) -> Organization:
    return Organization(
        id=row["id"], name=row["name"], slug=row["slug"], created_at=row["created_at"]
    )


def create(
    session: Session,
    body: OrganizationCreate,
    meta: RequestMeta,
    settings: Settings,
    *,
    admin_secret: str | None = None,
) -> OrganizationCreated:
    """Create an organization, its audit chain and its first organization key.

    Every organization starts with the demo warehouse's connection ``main_db`` and its default
    model, so the documented examples (which name ``main_db`` and the demo topics) work in any
    organization; repoint or replace them through the connections and model APIs.
    """
    if body.slug is not None:
        if repo.slug_taken(session, body.slug):
            raise Conflict(f"organization slug {body.slug!r} is taken")
        slug = body.slug
    else:
        slug = _slugify(body.name)
        while repo.slug_taken(session, slug):
            slug = f"{_slugify(body.name)[:80]}-{secrets.token_hex(3)}"
    org_id = new_id()
    row: dict[str, Any] = {"id": org_id, "name": body.name, "slug": slug, "created_at": utcnow()}
    repo.insert_org(session, row)
    audit_repo.init_chain(session, org_id)
    system = Principal(
        org_id=org_id, kind="system", is_org_admin=True, label="platform", request=meta
    )
    key_row, secret = keys.create_key_record(
        session,
        org_id=org_id,
        name="Organization admin key",
        kind="organization",
        user_id=None,
        created_by=None,
        secret=admin_secret,
    )
    org = _schema(row)
    events.emit(
        session,
        system,
        events.Event(
            "organization.created",
            "organization",
            org_id,
            {"organization": org.model_dump(mode="json")},
        ),
    )
    demo_setup.install(session, settings, org_id)
    key = ApiKeyWithSecret(**keys.to_schema(key_row).model_dump(), secret=secret)
    return OrganizationCreated(organization=org, api_key=key)


def list_orgs(
    session: Session, *, sort: str, descending: bool, offset: int, limit: int
) -> tuple[list[Organization], int]:
    rows, total = repo.list_orgs(
        session, sort=sort, descending=descending, offset=offset, limit=limit
    )
    return [_schema(r) for r in rows], total


def get(session: Session, org_id: str) -> Organization:
    row = repo.get_org(session, org_id)
    if row is None:
        raise NotFound(f"organization {org_id} not found")
    return _schema(row)


def delete(session: Session, org_id: str, meta: RequestMeta) -> None:
    """Soft delete: the organization's keys stop working at once; its data stays for audit."""
    org = get(session, org_id)
    repo.mark_deleted(session, org_id)
    system = Principal(
        org_id=org_id, kind="system", is_org_admin=True, label="platform", request=meta
    )
    events.emit(
        session,
        system,
        events.Event(
            "organization.deleted",
            "organization",
            org_id,
            {"organization": org.model_dump(mode="json")},
        ),
    )


def is_empty_store(session: Session) -> bool:
    return repo.count_orgs(session) == 0
