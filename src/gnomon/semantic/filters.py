"""The filter language: request filter values -> :class:`FilterSpec` -> a sqlglot condition.

Parsing is pure and needs only the field's kind, the query timezone, ``now`` and the week
start, so the compiler can call it without a database. Values never become SQL text: every
literal is a sqlglot node, so a value such as ``"x' OR 1=1 --"`` is just a string to compare.

Examples:
    >>> spec = parse_filter({"gte": 10, "lt": 20}, kind="number")
    >>> filter_to_sql(spec, exp.column("amount"), kind="number").sql("duckdb")
    'amount >= 10 AND amount < 20'
    >>> spec = parse_filter("last 7 days", kind="date", now=datetime(2024, 6, 30, 12))
    >>> filter_to_sql(spec, exp.column("day"), kind="date").sql("postgres")
    "day >= CAST('2024-06-24' AS DATE) AND day < CAST('2024-07-01' AS DATE)"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlglot import exp

from gnomon.semantic.filters_dates import (
    DATE_FORMS_HELP,
    DateContext,
    Span,
    make_context,
    parse_date_string,
    parse_point,
    span_between,
    span_compare,
    span_condition,
    span_of_value,
    zone,
)
from gnomon.semantic.filters_spec import (
    FIELD_KINDS,
    TEMPORAL_KINDS,
    Condition,
    FieldKind,
    FilterError,
    FilterSpec,
    Op,
    single,
)
from gnomon.semantic.filters_strings import (
    coerce_bool,
    coerce_number,
    coerce_string,
    parse_boolean_filter,
    parse_number_filter,
    parse_string_filter,
)

__all__ = [
    "Condition",
    "FieldKind",
    "FilterError",
    "FilterSpec",
    "Op",
    "filter_to_sql",
    "parse_date_range",
    "parse_filter",
]

# Request operator names (DESIGN §5 and Omni's spellings) -> canonical operator.
OPERATOR_ALIASES: Final[dict[str, str]] = {
    "eq": "eq",
    "is": "eq",
    "equals": "eq",
    "ne": "ne",
    "not": "ne",
    "not_equals": "ne",
    "gt": "gt",
    "greater_than": "gt",
    "gte": "gte",
    "greater_than_or_equal": "gte",
    "greater_than_or_equal_to": "gte",
    "lt": "lt",
    "less_than": "lt",
    "lte": "lte",
    "less_than_or_equal": "lte",
    "less_than_or_equal_to": "lte",
    "in": "in",
    "not_in": "not_in",
    "between": "between",
    "not_between": "not_between",
    "contains": "contains",
    "not_contains": "not_contains",
    "starts_with": "starts_with",
    "not_starts_with": "not_starts_with",
    "ends_with": "ends_with",
    "not_ends_with": "not_ends_with",
    "is_null": "is_null",
    "not_null": "not_null",
    "is_not_null": "not_null",
}
_TEXT_MATCH: Final = frozenset({"contains", "starts_with", "ends_with"})
_ORDERED: Final = frozenset({"gt", "gte", "lt", "lte", "between", "not_between"})


def _check_kind(kind: str) -> FieldKind:
    if kind not in FIELD_KINDS:
        raise FilterError(f"unknown field kind {kind!r}", hint="one of " + ", ".join(FIELD_KINDS))
    return kind


def parse_filter(
    value: Any,
    *,
    kind: FieldKind,
    timezone: str = "UTC",
    now: datetime | None = None,
    week_start: str = "monday",
) -> FilterSpec:
    """Read one request filter value for a field of ``kind``.

    ``None`` is ``is_null``; a list is ``in`` (an empty list matches nothing); a mapping is an
    operator object whose keys are AND-ed; a string is read with the kind's filter-string
    grammar; any other scalar is equality. Relative dates are evaluated at ``now`` (default:
    the current time) on the wall clock of ``timezone``; weeks begin on ``week_start``.

    >>> parse_filter({"not": ["cancelled"]}, kind="string")
    FilterSpec(conditions=(Condition(op='not_in', values=('cancelled',), negate=False),), any_of=False, groups=())
    """
    kind = _check_kind(kind)
    zone(timezone)
    ctx = make_context(now, timezone, week_start)
    if value is None:
        return single(Condition("is_null"))
    if isinstance(value, Mapping):
        return _operator_object(value, kind, ctx)
    if isinstance(value, list | tuple):
        return _membership(value, kind, ctx, negate=False)
    if isinstance(value, str):
        return _filter_string(value, kind, ctx)
    return _equality(value, kind, ctx, negate=False)


def parse_date_range(
    value: Any,
    *,
    timezone: str,
    now: datetime | None,
    week_start: str,
    kind: FieldKind = "timestamp",
) -> FilterSpec:
    """The seed's ``date_range`` filter for a topic's default time dimension.

    Accepts a ``[start, end]`` pair, ``{"start": ..., "end": ...}`` (``from``/``to`` too), a
    date filter string, or a date/datetime. Either end may be ``None`` (open). The end is
    inclusive at its own precision (``["2024-01-01", "2024-03-31"]`` covers all of March 31);
    an end written with a time of day is exclusive. ``None`` means no range at all.
    """
    kind = _check_kind(kind)
    if kind not in TEMPORAL_KINDS:
        raise FilterError(f"date_range needs a date or timestamp field, not a {kind} field")
    zone(timezone)
    ctx = make_context(now, timezone, week_start)
    if value is None:
        return FilterSpec()
    if isinstance(value, Mapping):
        unknown = set(value) - {"start", "end", "from", "to"}
        if unknown:
            raise FilterError(
                f"date_range has unknown keys {sorted(unknown)}",
                hint="use {'start': ..., 'end': ...}, a [start, end] pair or a date string",
            )
        return _range(
            value.get("start", value.get("from")), value.get("end", value.get("to")), kind, ctx
        )
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise FilterError(
                f"date_range needs two items [start, end], got {len(value)}",
                hint="use [start, end] with null for an open end",
            )
        return _range(value[0], value[1], kind, ctx)
    if isinstance(value, str):
        return single(parse_date_string(value, kind, ctx))
    return _equality(value, kind, ctx, negate=False)


def _range(start: Any, end: Any, kind: FieldKind, ctx: DateContext) -> FilterSpec:
    text = f"{start} to {end}"
    low = _span(start, ctx) if start is not None else None
    high = _span(end, ctx) if end is not None else None
    if low is not None and high is not None:
        return single(span_between(low, high, kind, text))
    if low is not None:
        return single(span_compare("gte", low, kind, text))
    if high is not None:
        return single(span_compare("lte", high, kind, text))
    return FilterSpec()


# --- reading values ------------------------------------------------------------------------


def _span(value: Any, ctx: DateContext) -> Span:
    if isinstance(value, str):
        return parse_point(value, ctx)
    span = span_of_value(value, ctx.timezone)
    if span is None:
        raise FilterError(f"{value!r} is not a date", hint=DATE_FORMS_HELP)
    return span


def _scalar(value: Any, kind: FieldKind) -> Any:
    coerce: dict[str, Callable[[Any], Any]] = {
        "string": coerce_string,
        "number": coerce_number,
        "boolean": coerce_bool,
    }
    return coerce[kind](value)


def _filter_string(text: str, kind: FieldKind, ctx: DateContext) -> FilterSpec:
    if kind in TEMPORAL_KINDS:
        return single(parse_date_string(text, kind, ctx))
    grammar: dict[str, Callable[[str], FilterSpec]] = {
        "string": parse_string_filter,
        "number": parse_number_filter,
        "boolean": parse_boolean_filter,
    }
    return grammar[kind](text)


def _equality(value: Any, kind: FieldKind, ctx: DateContext, *, negate: bool) -> FilterSpec:
    if value is None:
        return single(Condition("not_null" if negate else "is_null"))
    if kind in TEMPORAL_KINDS:
        return single(span_condition(_span(value, ctx), kind, str(value), negate=negate))
    return single(Condition("ne" if negate else "eq", (_scalar(value, kind),)))


def _membership(
    values: Sequence[Any], kind: FieldKind, ctx: DateContext, *, negate: bool
) -> FilterSpec:
    """``in``/``not_in`` over literal values (list items are values, never filter strings);
    a ``None`` item stands for NULL."""
    has_null = any(v is None for v in values)
    items = [v for v in values if v is not None]
    if kind in TEMPORAL_KINDS:
        conds = [span_condition(_span(v, ctx), kind, str(v), negate=negate) for v in items]
        if all(c.op in ("eq", "ne") for c in conds):
            plain = Condition("not_in" if negate else "in", tuple(c.values[0] for c in conds))
            members: tuple[Condition, ...] = (plain,)
        else:
            members = tuple(conds)
    else:
        coerced = tuple(_scalar(v, kind) for v in items)
        members = (Condition("not_in" if negate else "in", coerced),)
    if has_null:
        members = (*members, Condition("not_null" if negate else "is_null"))
    if len(members) == 1:
        return FilterSpec(members)
    # "in" is any member; "not in" must differ from every member.
    return FilterSpec(members, any_of=not negate)


def _operator_object(value: Mapping[str, Any], kind: FieldKind, ctx: DateContext) -> FilterSpec:
    if not value:
        raise FilterError("empty operator object", hint=_operators_hint())
    conditions: list[Condition] = []
    groups: list[FilterSpec] = []
    for key, operand in value.items():
        op = OPERATOR_ALIASES.get(str(key))
        if op is None:
            raise FilterError(f"unknown filter operator {key!r}", hint=_operators_hint())
        spec = _operator(op, operand, kind, ctx)
        if len(spec.conditions) == 1 and not spec.groups:
            conditions.append(spec.conditions[0])
        elif not spec.any_of:
            conditions.extend(spec.conditions)
            groups.extend(spec.groups)
        else:
            groups.append(spec)
    if len(conditions) == 0 and len(groups) == 1:
        return groups[0]
    return FilterSpec(tuple(conditions), groups=tuple(groups))


def _operators_hint() -> str:
    return "valid operators: " + ", ".join(OPERATOR_ALIASES)


def _operator(op: str, operand: Any, kind: FieldKind, ctx: DateContext) -> FilterSpec:
    if op in ("is_null", "not_null"):
        wanted = coerce_bool(operand) if operand is not None else True
        return single(Condition("is_null" if wanted == (op == "is_null") else "not_null"))
    if op in ("eq", "ne"):
        if isinstance(operand, list | tuple):
            return _membership(operand, kind, ctx, negate=op == "ne")
        return _equality(operand, kind, ctx, negate=op == "ne")
    if op in ("in", "not_in"):
        items = operand if isinstance(operand, list | tuple) else [operand]
        return _membership(items, kind, ctx, negate=op == "not_in")
    if op in _ORDERED and kind == "boolean":
        raise FilterError(
            f"operator {op!r} does not apply to a boolean field", hint="use is / not / in / is_null"
        )
    if op in ("between", "not_between"):
        return single(_between(operand, kind, ctx, negate=op == "not_between"))
    base = op.removeprefix("not_")
    if base in _TEXT_MATCH:
        return _text_match(base, operand, kind, negate=op.startswith("not_"))
    if operand is None or isinstance(operand, list | tuple | Mapping):
        raise FilterError(f"operator {op!r} needs a single value, got {operand!r}")
    if kind in TEMPORAL_KINDS:
        return single(span_compare(op, _span(operand, ctx), kind, str(operand)))
    return single(Condition(op, (_scalar(operand, kind),)))  # type: ignore[arg-type]


def _between(operand: Any, kind: FieldKind, ctx: DateContext, *, negate: bool) -> Condition:
    if isinstance(operand, Mapping):
        operand = [operand.get("start", operand.get("from")), operand.get("end", operand.get("to"))]
    if not isinstance(operand, list | tuple) or len(operand) != 2 or None in operand:
        raise FilterError(
            f"between needs two values [low, high], got {operand!r}",
            hint="for an open range use gte / lte",
        )
    if kind in TEMPORAL_KINDS:
        cond = span_between(_span(operand[0], ctx), _span(operand[1], ctx), kind, str(operand))
    else:
        low, high = _scalar(operand[0], kind), _scalar(operand[1], kind)
        cond = Condition("between", (low, high))
    return Condition(cond.op, cond.values, negate=negate)


def _text_match(op: str, operand: Any, kind: FieldKind, *, negate: bool) -> FilterSpec:
    if kind != "string":
        raise FilterError(f"operator {op!r} only applies to string fields, not {kind} fields")
    items = operand if isinstance(operand, list | tuple) else [operand]
    conds = tuple(Condition(op, (coerce_string(v),), negate=negate) for v in items)  # type: ignore[arg-type]
    # Several patterns: any of them matches; negated, none of them may match.
    return FilterSpec(conds, any_of=not negate and len(conds) > 1)


# --- SQL -----------------------------------------------------------------------------------


def _literal(value: Any, kind: FieldKind) -> exp.Expr:
    """A value as a sqlglot node, typed by the *field* kind.

    A midnight datetime compared to a date field is written as a DATE (and a date compared to
    a timestamp as a TIMESTAMP), because SQLite stores both as text and compares them as text.
    """
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, datetime):
        if kind == "date" and value == datetime(value.year, value.month, value.day):
            return exp.cast(
                exp.Literal.string(value.date().isoformat()), exp.DataType.Type.DATE, copy=False
            )
        return exp.cast(
            exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP, copy=False
        )
    if isinstance(value, date):
        if kind == "timestamp":
            text = datetime(value.year, value.month, value.day).isoformat(sep=" ")
            return exp.cast(exp.Literal.string(text), exp.DataType.Type.TIMESTAMP, copy=False)
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE, copy=False)
    if isinstance(value, int | float | Decimal):
        return exp.convert(value)
    return exp.Literal.string(str(value))


def _lower(node: exp.Expr) -> exp.Expr:
    return exp.Lower(this=node)


def _text_sql(op: str, col: exp.Expr, needle: exp.Expr) -> exp.Expr:
    """Case-insensitive substring tests without LIKE, so ``%`` and ``_`` in the user's text
    are ordinary characters on every dialect (BigQuery's LIKE has no ESCAPE clause).
    Both sides go through the database's own LOWER so they fold the same way."""
    hay, pin = _lower(col), _lower(needle)
    if op == "contains":
        return exp.GT(this=exp.StrPosition(this=hay, substr=pin), expression=exp.Literal.number(0))
    length = exp.Length(this=pin.copy())
    if op == "starts_with":
        start: exp.Expr = exp.Literal.number(1)
    else:
        back = exp.Sub(this=exp.Length(this=hay.copy()), expression=length.copy())
        start = exp.Add(this=back, expression=exp.Literal.number(1))
    prefix = exp.Substring(this=hay, start=start, length=length if op == "starts_with" else None)
    return exp.EQ(this=prefix, expression=pin)


def _condition_sql(c: Condition, column: exp.Expression, kind: FieldKind) -> exp.Expr:
    def col() -> exp.Expr:
        return column.copy()

    vals = [_literal(v, kind) for v in c.values]
    temporal = kind in TEMPORAL_KINDS
    builders: dict[str, Callable[[], exp.Expr]] = {
        "eq": lambda: exp.EQ(this=col(), expression=vals[0]),
        "ne": lambda: exp.NEQ(this=col(), expression=vals[0]),
        "gt": lambda: exp.GT(this=col(), expression=vals[0]),
        "gte": lambda: exp.GTE(this=col(), expression=vals[0]),
        "lt": lambda: exp.LT(this=col(), expression=vals[0]),
        "lte": lambda: exp.LTE(this=col(), expression=vals[0]),
        "in": lambda: exp.In(this=col(), expressions=vals) if vals else exp.false(),
        "not_in": lambda: (
            exp.not_(exp.In(this=col(), expressions=vals), copy=False) if vals else exp.true()
        ),
        "between": lambda: (
            exp.and_(
                exp.GTE(this=col(), expression=vals[0]),
                exp.LT(this=col(), expression=vals[1]),
                copy=False,
            )
            if temporal
            else exp.Between(this=col(), low=vals[0], high=vals[1])
        ),
        "contains": lambda: _text_sql("contains", col(), vals[0]),
        "starts_with": lambda: _text_sql("starts_with", col(), vals[0]),
        "ends_with": lambda: _text_sql("ends_with", col(), vals[0]),
        "is_null": lambda: exp.Is(this=col(), expression=exp.Null()),
        "not_null": lambda: exp.not_(exp.Is(this=col(), expression=exp.Null()), copy=False),
    }
    # Every node here is built for this call, so sqlglot's builders need not copy them.
    sql = builders[c.op]()
    if c.op in ("is_null", "not_null"):
        return exp.not_(sql, copy=False) if c.negate else sql
    if c.negate:
        sql = exp.not_(
            exp.paren(sql, copy=False) if isinstance(sql, exp.Connector) else sql, copy=False
        )
    if c.negate or (c.op in ("ne", "not_in") and vals):
        # Negative filters keep rows whose value is unknown ("not cancelled" keeps NULLs).
        return exp.paren(
            exp.or_(sql, exp.Is(this=col(), expression=exp.Null()), copy=False), copy=False
        )
    return sql


def filter_to_sql(spec: FilterSpec, column: exp.Expression, *, kind: FieldKind) -> exp.Expression:
    """The spec as a dialect-neutral sqlglot condition on ``column``.

    Render it with ``.sql(dialect=...)``; an empty spec is ``TRUE``. ``column`` is only read:
    every use is a copy, so callers may pass a cached tree they share.

    >>> spec = parse_filter("contains 50%", kind="string")
    >>> filter_to_sql(spec, exp.column("name"), kind="string").sql("sqlite")
    "INSTR(LOWER(name), LOWER('50%')) > 0"
    """
    kind = _check_kind(kind)
    return _node(_spec_sql(spec, column, kind))


def _node(tree: exp.Expr) -> exp.Expression:
    """sqlglot's builders are typed as returning ``Expr``; every node they build is an
    ``Expression``, which is what the compiler works with."""
    if not isinstance(tree, exp.Expression):  # pragma: no cover - sqlglot invariant
        raise TypeError(f"unexpected sqlglot node {type(tree).__name__}")
    return tree


def _spec_sql(spec: FilterSpec, column: exp.Expression, kind: FieldKind) -> exp.Expr:
    parts = [_condition_sql(c, column, kind) for c in spec.conditions]
    parts += [exp.paren(_spec_sql(g, column, kind), copy=False) for g in spec.groups]
    if not parts:
        return exp.true()
    if len(parts) == 1:
        return parts[0]
    if spec.any_of:
        return exp.paren(exp.or_(*parts, copy=False), copy=False)
    return exp.and_(*parts, copy=False)
