"""The response envelope and page pagination (DESIGN.md §2).

``{"data": …, "meta": {…}, "links": {…}}`` for every success; lists add
``meta = {total, page, per_page}`` and ``links = {self, next, last}`` (``next`` absent on the
last page).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Query, Request
from pydantic import BaseModel, BeforeValidator, Field

from gnomon.errors import Invalid, Issue

T = TypeVar("T")

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50


class PageMeta(BaseModel):
    total: int
    page: int
    per_page: int


class PageLinks(BaseModel):
    self: str
    # Absent (not null) on the last page.
    next: str | None = Field(None, exclude_if=lambda v: v is None)
    last: str


class One(BaseModel, Generic[T]):
    data: T
    meta: dict[str, Any] = Field(default_factory=dict)
    links: dict[str, str] = Field(default_factory=dict)


class Many(BaseModel, Generic[T]):
    data: list[T]
    meta: PageMeta
    links: PageLinks


@dataclass(frozen=True)
class PageParams:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


async def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")] = 1,
    per_page: Annotated[
        int, Query(ge=1, le=MAX_PER_PAGE, description="Items per page (max 200).")
    ] = DEFAULT_PER_PAGE,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


def _url(request: Request, page: int, per_page: int) -> str:
    params = [
        (k, v) for k, v in request.query_params.multi_items() if k not in {"page", "per_page"}
    ]
    params += [("page", str(page)), ("per_page", str(per_page))]
    return f"{request.url.path}?{urlencode(params)}"


def one(data: Any, *, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"data": data, "meta": dict(meta or {}), "links": {}}


def many(request: Request, items: Sequence[Any], total: int, params: PageParams) -> dict[str, Any]:
    last = max(1, math.ceil(total / params.per_page))
    links: dict[str, str] = {
        "self": _url(request, params.page, params.per_page),
        "last": _url(request, last, params.per_page),
    }
    if params.page < last:
        links["next"] = _url(request, params.page + 1, params.per_page)
    return {
        "data": list(items),
        "meta": {"total": total, "page": params.page, "per_page": params.per_page},
        "links": links,
    }


def sort_query(allowed: Sequence[str]) -> Any:
    """The ``sort`` query parameter: a field name, ``-`` for descending; the pattern documents
    (and enforces) the allowed fields."""
    names = "|".join(re.escape(a) for a in allowed)
    return Query(
        pattern=f"^[-+]?({names})$",
        max_length=100,
        description="Sort by " + ", ".join(f"`{a}`" for a in allowed) + "; prefix `-` = desc.",
    )


def _iso_only(value: Any) -> Any:
    # Pydantic would read a bare number as a Unix timestamp; the API documents ISO 8601 only.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("expected an ISO 8601 date or date-time, e.g. 2026-01-31T00:00:00Z")
    return value


_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)

IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]


@dataclass(frozen=True)
class SortSpec:
    field: str
    descending: bool


def parse_sort(value: str | None, allowed: Sequence[str], default: str) -> SortSpec:
    """``sort=name`` or ``sort=-created_at``; an unknown field is a 422 naming the valid ones."""
    raw = (value or default).strip()
    descending = raw.startswith("-")
    name = raw.lstrip("-+")
    if name not in allowed:
        raise Invalid(
            f"cannot sort by {name!r}",
            [
                Issue(
                    f"unknown sort field {name!r}",
                    path=("query", "sort"),
                    code="unknown_sort_field",
                    hint="one of: " + ", ".join(allowed) + " (prefix with - for descending)",
                )
            ],
        )
    return SortSpec(field=name, descending=descending)
