"""The vocabulary shared by the filter parser and the SQL builder.

A parsed filter is data (:class:`FilterSpec` of :class:`Condition`), not SQL: the compiler can
inspect it (for example to know that a filter pins a single day), combine it with access
filters, and only then turn it into a sqlglot tree with
:func:`gnomon.semantic.filters.filter_to_sql`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from gnomon.errors import Invalid, Issue

FieldKind = Literal["string", "number", "boolean", "date", "timestamp"]
Op = Literal[
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "not_in",
    "between",
    "contains",
    "starts_with",
    "ends_with",
    "is_null",
    "not_null",
]

FIELD_KINDS: tuple[FieldKind, ...] = get_args(FieldKind)
TEMPORAL_KINDS: frozenset[str] = frozenset({"date", "timestamp"})


@dataclass(frozen=True)
class Condition:
    """One test on one field.

    ``values`` are Python values already coerced to the field kind: ``str``; ``int``,
    ``float`` or ``Decimal``; ``bool``; ``date`` / naive ``datetime`` local to the query
    timezone. ``between`` holds ``(low, high)``: inclusive on both ends for numbers and
    strings, ``high`` *exclusive* for dates and timestamps (a range of whole periods).

    ``negate`` inverts the test; like ``ne``/``not_in`` a negated test keeps rows where the
    field is NULL ("not shipped" should not silently drop orders with no status).
    """

    op: Op
    values: tuple[Any, ...] = ()
    negate: bool = False


@dataclass(frozen=True)
class FilterSpec:
    """Conditions AND-ed together, or OR-ed when ``any_of``.

    ``groups`` are nested specs combined with the same connective as ``conditions``; they are
    only needed for the rare shapes a flat list cannot say (``{"in": ["2024-01", "2024-03"]}``
    on a timestamp is two ranges OR-ed, next to other AND-ed keys). A spec with nothing in it
    filters nothing.
    """

    conditions: tuple[Condition, ...] = ()
    any_of: bool = False
    groups: tuple[FilterSpec, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.conditions and not self.groups


def single(condition: Condition) -> FilterSpec:
    return FilterSpec((condition,))


class FilterError(Invalid):
    """A filter value that cannot be understood for the field it is applied to.

    It is an :class:`~gnomon.errors.Invalid` (so the API reports it like any other bad input)
    whose single issue carries ``hint``: the forms that *are* accepted, because "invalid
    filter" alone leaves the person guessing. ``path`` lets the caller say which filter.
    """

    code = "invalid_filter"

    def __init__(
        self, message: str, *, hint: str | None = None, path: tuple[str | int, ...] = ()
    ) -> None:
        self.hint = hint
        full = f"{message}; {hint}" if hint else message
        super().__init__(
            full, [Issue(message=message, path=path, code="invalid_filter", hint=hint)]
        )
