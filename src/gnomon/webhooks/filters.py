"""Payload filters of a webhook subscription.

A filter is a JSON object mirroring the event's ``data``:

- a list means "one of": ``{"user_attributes": {"department": ["Sales", "Marketing"]}}``;
- an object of operators compares: ``{"execution_time": {"gte": 30}}`` (``eq ne gt gte lt lte
  in nin contains exists``);
- a plain value means equality; any other object descends one level;
- several keys AND together.

Two rules make one subscription useful across several event types, as in the seed's
``query_performance_webhook`` (``execution_time >= 30`` AND ``error_type in [...]`` for both
``query.slow_execution`` and ``query.error``):

1. A path is looked up in ``data``; when its first key is not there, in the event's subject
   objects (``data.user``, ``data.document``…), so ``user_attributes`` finds
   ``data.user.user_attributes``.
2. A condition applies to an event only when the event type has its first key: declared in the
   type's data schema (event catalog) or present in the payload. ``error_type`` is not a field of
   ``query.slow_execution``, so it does not filter those events out; a user event *without* a
   department still fails a department filter, because user events have ``user_attributes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gnomon.errors import Issue

OPERATORS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "exists"})
MAX_DEPTH = 6
Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class Condition:
    path: tuple[str, ...]
    op: str
    operand: Any


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _operator_issues(op: str, operand: Any, path: tuple[str, ...]) -> list[Issue]:
    where: tuple[str | int, ...] = ("filters", *path, op)
    if op in {"in", "nin"}:
        if not isinstance(operand, list) or not operand or not all(map(_is_scalar, operand)):
            return [Issue(f"`{op}` takes a non-empty list of values", where)]
    elif op in {"gt", "gte", "lt", "lte"}:
        if not (_is_number(operand) or isinstance(operand, str)):
            return [Issue(f"`{op}` compares with a number or a string", where)]
    elif op == "exists":
        if not isinstance(operand, bool):
            return [Issue("`exists` takes true or false", where)]
    elif not _is_scalar(operand):
        return [Issue(f"`{op}` takes a single value", where)]
    return []


def _compile(spec: Mapping[str, Any], prefix: tuple[str, ...], out: list[Condition]) -> list[Issue]:
    issues: list[Issue] = []
    for key, value in spec.items():
        path = (*prefix, key)
        where: tuple[str | int, ...] = ("filters", *path)
        if not key or (key in OPERATORS and not prefix):
            issues.append(Issue(f"{key!r} is not a field name", where, hint="name a data field"))
        elif isinstance(value, list):
            if not value or not all(map(_is_scalar, value)):
                issues.append(Issue("a list filter needs one or more plain values", where))
            else:
                out.append(Condition(path, "in", tuple(value)))
        elif isinstance(value, Mapping):
            ops = [k for k in value if k in OPERATORS]
            if not value:
                issues.append(Issue("an empty object filters nothing", where))
            elif ops and len(ops) != len(value):
                others = ", ".join(sorted(k for k in value if k not in OPERATORS))
                issues.append(
                    Issue(
                        f"mixes operators with field names ({others})",
                        where,
                        hint="operators: " + ", ".join(sorted(OPERATORS)),
                    )
                )
            elif ops:
                for op, operand in value.items():
                    found = _operator_issues(op, operand, path)
                    issues.extend(found)
                    if not found:
                        operand = tuple(operand) if isinstance(operand, list) else operand
                        out.append(Condition(path, op, operand))
            elif len(path) >= MAX_DEPTH:
                issues.append(Issue(f"filters nest at most {MAX_DEPTH} levels", where))
            else:
                issues.extend(_compile(value, path, out))
        else:
            out.append(Condition(path, "eq", value))
    return issues


def compile_filters(filters: Mapping[str, Any]) -> tuple[tuple[Condition, ...], list[Issue]]:
    """The conditions of a filter object, and every problem with it."""
    out: list[Condition] = []
    issues = _compile(filters, (), out)
    return tuple(out), issues


def _subjects(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [v for v in data.values() if isinstance(v, Mapping)]


def resolve(data: Mapping[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    """``(found, value)`` of a filter path in an event's data (rule 1 of the module doc)."""
    roots = [data] if path[0] in data else [s for s in _subjects(data) if path[0] in s]
    if not roots:
        return False, None
    node: Any = roots[0]
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _ordered(value: Any, operand: Any) -> bool:
    return (_is_number(value) and _is_number(operand)) or (
        isinstance(value, str) and isinstance(operand, str)
    )


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: bool(a > b),
    "gte": lambda a, b: bool(a >= b),
    "lt": lambda a, b: bool(a < b),
    "lte": lambda a, b: bool(a <= b),
}


def _holds(op: str, found: bool, value: Any, operand: Any) -> bool:
    if op == "exists":
        return bool(found == operand)
    if op in {"ne", "nin"} and not found:
        return True
    if not found:
        return False
    values = value if isinstance(value, list) else [value]
    if op == "eq":
        return any(v == operand for v in values)
    if op == "ne":
        return all(v != operand for v in values)
    if op == "in":
        return any(v in operand for v in values if _is_scalar(v))
    if op == "nin":
        return not any(v in operand for v in values if _is_scalar(v))
    if op == "contains":
        if isinstance(value, str) and isinstance(operand, str):
            return operand in value
        return isinstance(value, list) and operand in value
    compare = _COMPARE[op]
    return any(_ordered(v, operand) and compare(v, operand) for v in values)


def matches(
    conditions: tuple[Condition, ...], data: Mapping[str, Any], declared: frozenset[str]
) -> bool:
    """Whether an event's data passes every applicable condition (rule 2 of the module doc)."""
    for cond in conditions:
        head = cond.path[0]
        present = head in data or any(head in s for s in _subjects(data))
        if not present and head not in declared:
            continue
        found, value = resolve(data, cond.path)
        if not _holds(cond.op, found, value, cond.operand):
            return False
    return True


def _deref(schema: Mapping[str, Any], node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The object schemas a property may be (following ``$ref`` and ``anyOf``)."""
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"))
        return _deref(schema, target) if isinstance(target, Mapping) else []
    out: list[Mapping[str, Any]] = []
    for alt in node.get("anyOf", []) or []:
        if isinstance(alt, Mapping):
            out.extend(_deref(schema, alt))
    if "properties" in node:
        out.append(node)
    return out


def declared_fields(schema: Mapping[str, Any]) -> frozenset[str]:
    """Field names an event type's data schema declares at the top and one level down."""
    names: set[str] = set()
    for obj in _deref(schema, schema):
        for name, prop in obj.get("properties", {}).items():
            names.add(name)
            if isinstance(prop, Mapping):
                for sub in _deref(schema, prop):
                    names.update(sub.get("properties", {}))
    return frozenset(names)


_declared_cache: dict[str, tuple[object, frozenset[str]]] = {}


def declared_fields_of(event_type: str) -> frozenset[str]:
    """Declared fields of a catalog event type (cached per catalog entry)."""
    from gnomon.events import CATALOG

    entry = CATALOG.get(event_type)
    if entry is None:
        return frozenset()
    cached = _declared_cache.get(event_type)
    if cached is not None and cached[0] is entry:
        return cached[1]
    fields = declared_fields(entry.data_schema)
    _declared_cache[event_type] = (entry, fields)
    return fields


def pattern_matches(pattern: str, event_type: str) -> bool:
    """``*`` matches everything, ``user.*`` every ``user.<x>``, else the exact name."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type
