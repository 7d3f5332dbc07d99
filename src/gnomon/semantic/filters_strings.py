"""Coercion of filter values and the filter-string grammars for strings, numbers, booleans.

Omni lets a filter be written as a short string (``">100"``, ``"contains acme"``). Those
strings are read here per field kind; dates have their own grammar in ``filters_dates``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from gnomon.semantic.filters_spec import Condition, FilterError, FilterSpec, single

NUMBER_FORMS_HELP: Final = (
    "accepted number forms: 5, '5', '>100', '>=10', '<5', '<=5', '=5', '!=5', '1 to 10' "
    "(inclusive), '[1, 10]' / '(1, 10)' intervals, '1, 2, 3' (any of), 'not 5', "
    "'not 1 to 10', 'null', 'not null'"
)
STRING_FORMS_HELP: Final = (
    "accepted string forms: 'X' (equals, commas included), 'contains X', 'starts with X', "
    "'ends with X', 'not contains X', 'not starts with X', 'not ends with X', 'not X', "
    "'null', 'not null'"
)
BOOLEAN_FORMS_HELP: Final = (
    "accepted boolean forms: true, false, 'true', 'false', 'yes', 'no', '1', '0', "
    "'null', 'not null'"
)

_TRUE: Final = frozenset({"true", "yes", "t", "y", "1"})
_FALSE: Final = frozenset({"false", "no", "f", "n", "0"})


# --- coercion ------------------------------------------------------------------------------


def coerce_number(value: Any) -> int | float | Decimal:
    """A number from a JSON number or a numeric string; text keeps full precision."""
    if isinstance(value, bool):  # bool is an int in Python, never a number in a filter
        raise FilterError(f"{value!r} is not a number", hint=NUMBER_FORMS_HELP)
    if isinstance(value, int | Decimal):
        if isinstance(value, Decimal) and not value.is_finite():
            raise FilterError(f"{value!r} is not a finite number", hint=NUMBER_FORMS_HELP)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FilterError(f"{value!r} is not a finite number", hint=NUMBER_FORMS_HELP)
        return value
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = Decimal("NaN")
        if text and number.is_finite():
            return number
    raise FilterError(f"{value!r} is not a number", hint=NUMBER_FORMS_HELP)


def coerce_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise FilterError(f"{value!r} is not a boolean", hint=BOOLEAN_FORMS_HELP)


def coerce_string(value: Any) -> str:
    """Strings as they are; numbers as their text (an id column may be a string)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    raise FilterError(f"{value!r} is not a string", hint=STRING_FORMS_HELP)


# --- strings -------------------------------------------------------------------------------

# Keyword prefixes are lower-case and matched exactly, so that a value which merely starts
# with a capitalised word ("Not applicable") stays a plain value.
_STRING_PREFIXES: Final[tuple[tuple[str, str, bool], ...]] = (
    ("not contains ", "contains", True),
    ("does not contain ", "contains", True),
    ("not starts with ", "starts_with", True),
    ("does not start with ", "starts_with", True),
    ("not ends with ", "ends_with", True),
    ("does not end with ", "ends_with", True),
    ("contains ", "contains", False),
    ("starts with ", "starts_with", False),
    ("ends with ", "ends_with", False),
)


def parse_string_filter(text: str) -> FilterSpec:
    """A string-field filter string; a plain value is equality and is never split on commas
    (customer names contain commas)."""
    if text.strip() == "null":
        return single(Condition("is_null"))
    if text.strip() == "not null":
        return single(Condition("not_null"))
    for prefix, op, negate in _STRING_PREFIXES:
        if text.startswith(prefix):
            return single(Condition(op, (text[len(prefix) :],), negate=negate))  # type: ignore[arg-type]
    if text.startswith("not "):
        return single(Condition("ne", (text[4:],)))
    return single(Condition("eq", (text,)))


# --- numbers -------------------------------------------------------------------------------

_NUM = r"[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?"
_COMPARE = re.compile(rf"^(>=|<=|!=|<>|>|<|=)\s*({_NUM})$")
_RANGE = re.compile(rf"^({_NUM})\s+to\s+({_NUM})$")
_INTERVAL = re.compile(rf"^([\[(])\s*({_NUM})?\s*,\s*({_NUM})?\s*([\])])$")
_COMPARE_OPS: Final[dict[str, str]] = {
    ">": "gt",
    ">=": "gte",
    "<": "lt",
    "<=": "lte",
    "=": "eq",
    "!=": "ne",
    "<>": "ne",
}


def _number_term(term: str) -> Condition:
    if m := _COMPARE.match(term):
        return Condition(_COMPARE_OPS[m[1]], (coerce_number(m[2]),))  # type: ignore[arg-type]
    if m := _RANGE.match(term):
        low, high = coerce_number(m[1]), coerce_number(m[2])
        return Condition("between", (min(low, high), max(low, high)))
    return Condition("eq", (coerce_number(term),))


def _interval(m: re.Match[str]) -> FilterSpec:
    conditions: list[Condition] = []
    if m[2] is not None:
        conditions.append(Condition("gte" if m[1] == "[" else "gt", (coerce_number(m[2]),)))
    if m[3] is not None:
        conditions.append(Condition("lte" if m[4] == "]" else "lt", (coerce_number(m[3]),)))
    return FilterSpec(tuple(conditions))


def parse_number_filter(text: str) -> FilterSpec:
    t = " ".join(text.strip().lower().split())
    try:
        if t == "null":
            return single(Condition("is_null"))
        if t == "not null":
            return single(Condition("not_null"))
        if m := _INTERVAL.match(t):
            return _interval(m)
        if t.startswith("not "):
            inner = parse_number_filter(t[4:])
            if len(inner.conditions) == 1 and not inner.groups:
                c = inner.conditions[0]
                flipped = {"eq": "ne", "in": "not_in"}
                if c.op in flipped:
                    return single(Condition(flipped[c.op], c.values))  # type: ignore[arg-type]
                return single(Condition(c.op, c.values, negate=not c.negate))
            raise FilterError(f"cannot negate {text!r}", hint=NUMBER_FORMS_HELP)
        terms = [p.strip() for p in t.split(",")] if "," in t else [t]
        conditions = tuple(_number_term(term) for term in terms)
    except FilterError as err:
        raise FilterError(
            f"cannot read {text!r} as a number filter", hint=NUMBER_FORMS_HELP
        ) from err
    if len(conditions) == 1:
        return FilterSpec(conditions)
    if all(c.op == "eq" for c in conditions):
        return single(Condition("in", tuple(c.values[0] for c in conditions)))
    return FilterSpec(conditions, any_of=True)


# --- booleans ------------------------------------------------------------------------------


def parse_boolean_filter(text: str) -> FilterSpec:
    t = " ".join(text.strip().lower().split())
    if t == "null":
        return single(Condition("is_null"))
    if t == "not null":
        return single(Condition("not_null"))
    if t.startswith("not "):
        return single(Condition("ne", (coerce_bool(t[4:]),)))
    return single(Condition("eq", (coerce_bool(t),)))
