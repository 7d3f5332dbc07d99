"""First start: on an empty store, create an organization (with the demo warehouse's
connection and model) and print its admin key once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gnomon.config import Settings
from gnomon.organizations import service as orgs
from gnomon.organizations.schemas import OrganizationCreate, OrganizationCreated
from gnomon.principal import RequestMeta


def bootstrap(session: Session, settings: Settings) -> OrganizationCreated | None:
    """Returns the created organization (with its key's secret) or None if the store had one."""
    if not orgs.is_empty_store(session):
        return None
    created = orgs.create(
        session,
        OrganizationCreate(name=settings.bootstrap_org_name, slug=None),
        RequestMeta(request_id="bootstrap"),
        settings,
        admin_secret=settings.bootstrap_token,
    )
    return created
