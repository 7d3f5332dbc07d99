"""One page of a list, and the envelope fields that walk to the next one.

The server's list envelope is ``{"data": [...], "meta": {total, page, per_page},
"links": {self, next, last}}`` with ``next`` absent on the last page, so iterators follow
``links.next`` rather than counting pages: filters and sort stay exactly what the server echoed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["Page", "parse_page"]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    next_url: str | None

    @property
    def has_next(self) -> bool:
        return self.next_url is not None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def parse_page(body: Any, parse: Callable[[Any], T]) -> Page[T]:
    data = body.get("data") if isinstance(body, dict) else None
    meta = body.get("meta") or {} if isinstance(body, dict) else {}
    links = body.get("links") or {} if isinstance(body, dict) else {}
    items = [parse(item) for item in (data or [])]
    return Page(
        items=items,
        total=int(meta.get("total", len(items))),
        page=int(meta.get("page", 1)),
        per_page=int(meta.get("per_page", len(items))),
        next_url=links.get("next"),
    )
