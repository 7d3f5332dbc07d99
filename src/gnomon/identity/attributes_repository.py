"""Every SQL statement about user attribute definitions and their values."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from gnomon.store.prepared import PreparedSelect, insert_rows
from gnomon.store.tables_identity import user_attribute_values, user_attributes
from gnomon.util import as_utc

SORTABLE = {"created_at": user_attributes.c.created_at, "name": user_attributes.c.name}
Owner = tuple[str, str]  # ("user" | "group", id)


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(mapping)
    out["created_at"] = as_utc(out["created_at"])
    out["updated_at"] = as_utc(out["updated_at"])
    return out


def insert_definition(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(user_attributes).values(**values))


def get_definition(session: Session, org_id: str, attribute_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(user_attributes).where(
                user_attributes.c.org_id == org_id, user_attributes.c.id == attribute_id
            )
        )
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None


# Every user write reads the definitions: a prepared read of the organization's (a few dozen
# at most), filtered here rather than with an IN list the prepared statement cannot expand.
_DEFINITIONS = PreparedSelect(
    select(user_attributes).where(user_attributes.c.org_id == bindparam("org_id"))
)


def definitions_by_name(
    session: Session, org_id: str, names: Collection[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Definitions keyed by name; all of the organization's when ``names`` is None."""
    if names is not None and not names:
        return {}
    wanted = None if names is None else set(names)
    return {
        r["name"]: _row(r)
        for r in _DEFINITIONS.all(session, {"org_id": org_id})
        if wanted is None or r["name"] in wanted
    }


def list_definitions(
    session: Session,
    org_id: str,
    *,
    sort: str = "name",
    descending: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    cond: list[ColumnElement[bool]] = [user_attributes.c.org_id == org_id]
    total = session.execute(
        select(func.count()).select_from(user_attributes).where(*cond)
    ).scalar_one()
    col = SORTABLE[sort]
    stmt = (
        select(user_attributes)
        .where(*cond)
        .order_by(col.desc() if descending else col.asc(), user_attributes.c.id.asc())
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_row(r) for r in session.execute(stmt).mappings()], int(total)


def update_definition(
    session: Session, org_id: str, attribute_id: str, values: Mapping[str, Any]
) -> None:
    session.execute(
        update(user_attributes)
        .where(user_attributes.c.org_id == org_id, user_attributes.c.id == attribute_id)
        .values(**values)
    )


def delete_definition(session: Session, org_id: str, attribute_id: str) -> None:
    session.execute(
        delete(user_attribute_values).where(
            user_attribute_values.c.org_id == org_id,
            user_attribute_values.c.attribute_id == attribute_id,
        )
    )
    session.execute(
        delete(user_attributes).where(
            user_attributes.c.org_id == org_id, user_attributes.c.id == attribute_id
        )
    )


def max_value_count(session: Session, org_id: str, attribute_id: str) -> int:
    """The most values any user or group holds for the attribute (to refuse multiple → single)."""
    rows = session.execute(
        select(user_attribute_values.c.value).where(
            user_attribute_values.c.org_id == org_id,
            user_attribute_values.c.attribute_id == attribute_id,
        )
    ).scalars()
    return max((len(v or []) for v in rows), default=0)


def _owner_col(kind: str) -> Any:
    return user_attribute_values.c.user_id if kind == "user" else user_attribute_values.c.group_id


def values_for(
    session: Session, org_id: str, kind: str, owner_ids: Collection[str]
) -> dict[str, dict[str, list[Any]]]:
    """``{owner_id: {attribute name: [values]}}`` for users or groups, in definition order."""
    out: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    if not owner_ids:
        return out
    col = _owner_col(kind)
    rows = session.execute(
        select(col.label("owner"), user_attributes.c.name, user_attribute_values.c.value)
        .join(user_attributes, user_attributes.c.id == user_attribute_values.c.attribute_id)
        .where(user_attribute_values.c.org_id == org_id, col.in_(list(owner_ids)))
        .order_by(user_attribute_values.c.id)
    )
    for owner, name, value in rows:
        out[owner][name] = list(value or [])
    return out


def set_values(
    session: Session,
    org_id: str,
    owner: Owner,
    values: Mapping[str, list[Any] | None],
    *,
    replace_all: bool,
    new_owner: bool = False,
) -> None:
    """Write an owner's values keyed by attribute id; None removes one.

    ``replace_all`` first removes every value the owner holds (a PUT), otherwise only the
    attributes named are touched (a PATCH). A ``new_owner`` (created in this transaction)
    holds nothing yet, so nothing is removed.
    """
    kind, owner_id = owner
    col = _owner_col(kind)
    cond = [user_attribute_values.c.org_id == org_id, col == owner_id]
    if new_owner:
        pass
    elif replace_all:
        session.execute(delete(user_attribute_values).where(*cond))
    elif values:
        session.execute(
            delete(user_attribute_values).where(
                *cond, user_attribute_values.c.attribute_id.in_(list(values))
            )
        )
    rows = [
        {
            "org_id": org_id,
            "attribute_id": attribute_id,
            "user_id": owner_id if kind == "user" else None,
            "group_id": owner_id if kind == "group" else None,
            "value": list(vals),
        }
        for attribute_id, vals in values.items()
        if vals is not None
    ]
    insert_rows(session, user_attribute_values, rows)
