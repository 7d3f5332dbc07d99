"""Which connection names roles may be granted on: the organization's connections."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gnomon.connections import repository as connections_repo


def known_connection_names(session: Session, org_id: str) -> set[str]:
    return connections_repo.names(session, org_id)
