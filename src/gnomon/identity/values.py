"""Type-checking user attribute values and turning them into access-filter strings."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from gnomon.errors import Issue

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _string(v: Any) -> Any:
    if isinstance(v, str):
        return v
    raise ValueError("expected a string")


def _number(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError("expected a number")
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError("expected a finite number")
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _boolean(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    raise ValueError("expected true or false")


def _date(v: Any) -> Any:
    # Dates are kept as ISO text: dates compare and filter as text in every dialect.
    if not isinstance(v, str) or not _DATE.match(v):
        raise ValueError("expected an ISO 8601 date, e.g. 2026-01-31")
    try:
        date.fromisoformat(v[:10])
    except ValueError:
        raise ValueError("expected an ISO 8601 date, e.g. 2026-01-31")
    return v


CHECKERS: dict[str, Callable[[Any], Any]] = {
    "string": _string,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
}


def normalize(
    definition: dict[str, Any], raw: Any, path: tuple[str | int, ...], issues: list[Issue]
) -> list[Any] | None:
    """Check one attribute's value against its definition; returns the stored list.

    None means "no value". A single-valued attribute takes a scalar (or a one-item list);
    a multi-valued one takes a list (or a scalar, read as a one-item list).
    """
    if raw is None:
        return None
    items = raw if isinstance(raw, list) else [raw]
    if not definition["multiple"] and len(items) > 1:
        issues.append(
            Issue(
                f"attribute {definition['name']!r} takes one value, got {len(items)}",
                path,
                code="not_multiple",
                hint="send a single value, or make the attribute multiple",
            )
        )
        return None
    check = CHECKERS[definition["type"]]
    out: list[Any] = []
    for i, item in enumerate(items):
        try:
            out.append(check(item))
        except ValueError as exc:
            where = (*path, i) if isinstance(raw, list) else path
            issues.append(
                Issue(
                    f"attribute {definition['name']!r} ({definition['type']}): {exc}",
                    where,
                    code="invalid_type",
                )
            )
    return out


def present(definition: dict[str, Any], stored: list[Any]) -> Any:
    """How a stored value reads in the REST API: a scalar unless the attribute is multiple."""
    if definition["multiple"]:
        return list(stored)
    return stored[0] if stored else None


def as_text(value: Any) -> str:
    """Access filters compare text: ``true``/``false``, integral numbers without ``.0``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
