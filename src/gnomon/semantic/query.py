"""The query request and its resolution: names → fields, filter values → parsed specs.

Resolution collects every problem (unknown field with a suggestion, ambiguous bare name with
its candidates, bad filter value with its path) and raises them together, so a caller fixes a
request in one round trip.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from gnomon.errors import Invalid, Issue, QueryError
from gnomon.semantic.expressions import summarise
from gnomon.semantic.filters import (
    FieldKind,
    FilterError,
    FilterSpec,
    parse_date_range,
    parse_filter,
)
from gnomon.semantic.graph import FieldRef, TopicGraph, topic_graph
from gnomon.semantic.model import AccessFilter, Dimension, Measure, SemanticModel
from gnomon.semantic.timegrains import GRAINS, grain_result_kind

DEFAULT_LIMIT = 1000
_GRAIN_RE = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<grain>[a-z_]+)\]$")
# Omni writes the day grain as `date`; `day` is accepted too.
_GRAIN_ALIASES: dict[str, str] = {"day": "date"}


class SortSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    descending: bool = False


class QueryRequest(BaseModel):
    """The seed's query body. Unknown keys are ignored here (the API layer reads its own)."""

    model_config = ConfigDict(extra="ignore")

    topic: str
    dimensions: list[str] = Field(default_factory=list)
    measures: list[str] = Field(default_factory=list)
    filters: dict[str, Any] = Field(default_factory=dict)
    sorts: list[SortSpec | str] = Field(default_factory=list)
    limit: int | None = Field(default=None, ge=1)
    timezone: str | None = None


@dataclass(frozen=True)
class QueryField:
    """A field as the query uses it: ``name`` is the output column (what was asked for)."""

    name: str
    ref: FieldRef
    grain: str | None
    type: FieldKind

    @property
    def kind(self) -> Literal["dimension", "measure"]:
        return "measure" if self.ref.is_measure else "dimension"

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.ref.alias, self.ref.name, self.grain)


@dataclass(frozen=True)
class QueryFilter:
    label: str
    field: QueryField
    spec: FilterSpec
    source: Literal["query", "default", "always_where", "date_range"]


@dataclass(frozen=True)
class AccessPredicate:
    """``field IN values``; ``values`` None means the user may see nothing (FALSE)."""

    field: QueryField
    values: tuple[Any, ...] | None
    attribute: str


@dataclass(frozen=True)
class ResolvedQuery:
    graph: TopicGraph
    dimensions: tuple[QueryField, ...]
    measures: tuple[QueryField, ...]
    filters: tuple[QueryFilter, ...]
    access: tuple[AccessPredicate, ...]
    sorts: tuple[tuple[QueryField, bool], ...]
    limit: int
    source_tz: str
    query_tz: str
    now: datetime | None
    week_start: str

    @property
    def fields(self) -> tuple[QueryField, ...]:
        return (*self.dimensions, *self.measures)


def _field_type(ref: FieldRef, grain: str | None) -> FieldKind:
    fld = ref.field
    if isinstance(fld, Dimension):
        if grain is not None and grain != "raw":
            return grain_result_kind(grain)
        return fld.field_type
    return "number"


def _canonical_grain(grain: str) -> str | None:
    grain = _GRAIN_ALIASES.get(grain, grain) if grain not in GRAINS else grain
    return grain if grain in GRAINS or grain == "raw" else None


class _Resolver:
    def __init__(self, graph: TopicGraph) -> None:
        self.graph = graph
        self.issues: list[Issue] = []

    def _candidates(self) -> list[str]:
        return [*self.graph.visible, *self.graph.by_name]

    def _lookup(self, name: str) -> list[FieldRef] | str:
        """Refs matching a field name without grain; a string explains a failure."""
        if "." in name:
            view, _, fld = name.partition(".")
            alias = self.graph.node_for_view(view)
            ref = self.graph.visible.get(f"{alias}.{fld}") if alias else None
            if ref is not None:
                return [ref]
            if alias is not None and self.graph.lookup(alias, fld) is not None:
                return f"field '{name}' is not available in topic '{self.graph.topic.name}'"
            return []
        return list(self.graph.by_name.get(name, []))

    def field(
        self, name: str, path: tuple[str | int, ...], *, prefer_base: bool = False
    ) -> QueryField | None:
        grain: str | None = None
        base = name
        match = _GRAIN_RE.match(name)
        if match:
            base, grain = match.group("name"), match.group("grain")
        found = self._lookup(base)
        if isinstance(found, str):
            self._add(found, path, "field_not_in_topic", "Add it to the topic's `fields`.")
            return None
        if not found and grain is None:
            found, grain = self._time_suffix(base)
        if not found:
            close = difflib.get_close_matches(base, self._candidates(), n=3)
            self._add(
                f"unknown field '{name}' in topic '{self.graph.topic.name}'",
                path,
                "unknown_field",
                f"Did you mean {' or '.join(repr(c) for c in close)}?" if close else None,
            )
            return None
        if len(found) > 1 and prefer_base:
            on_base = [r for r in found if r.alias == self.graph.base]
            found = on_base or found
        if len(found) > 1:
            names = ", ".join(sorted(r.qualified for r in found))
            self._add(
                f"'{name}' is ambiguous in topic '{self.graph.topic.name}': {names}",
                path,
                "ambiguous_field",
                "Qualify it with its view, e.g. " + repr(found[0].qualified) + ".",
            )
            return None
        ref = found[0]
        if grain is not None:
            canonical = _canonical_grain(grain)
            dim = ref.field
            if not isinstance(dim, Dimension) or not dim.is_time:
                self._add(
                    f"'{name}': only time dimensions take a grain",
                    path,
                    "bad_grain",
                    f"Use '{ref.qualified}' without a grain.",
                )
                return None
            if canonical is None:
                self._add(
                    f"'{name}': unknown time grain '{grain}'",
                    path,
                    "bad_grain",
                    f"Grains: {', '.join(GRAINS)}.",
                )
                return None
            grain = None if canonical == "raw" else canonical
        return QueryField(name=name, ref=ref, grain=grain, type=_field_type(ref, grain))

    def _time_suffix(self, name: str) -> tuple[list[FieldRef], str | None]:
        """The seed's ``date_month`` form: a time dimension followed by ``_<grain>``."""
        spellings = sorted({*GRAINS, *_GRAIN_ALIASES, "raw"}, key=len, reverse=True)
        for grain in spellings:
            suffix = "_" + grain
            if name.endswith(suffix) and len(name) > len(suffix):
                found = self._lookup(name[: -len(suffix)])
                refs = [
                    r
                    for r in (found if isinstance(found, list) else [])
                    if isinstance(r.field, Dimension) and r.field.is_time
                ]
                if refs:
                    return refs, grain
        return [], None

    def _add(self, message: str, path: tuple[str | int, ...], code: str, hint: str | None) -> None:
        self.issues.append(Issue(message=message, path=path, code=code, hint=hint))


def _coerce_access(value: Any, kind: FieldKind) -> Any:
    """User attribute values are strings; compare them as the field's type."""
    text = str(value).strip()
    try:
        if kind == "number":
            number = Decimal(text)
            return int(number) if number == number.to_integral_value() else number
        if kind == "boolean":
            lowered = text.lower()
            if lowered in ("true", "t", "1", "yes"):
                return True
            if lowered in ("false", "f", "0", "no"):
                return False
            return None
        if kind == "date":
            return date.fromisoformat(text[:10])
        if kind == "timestamp":
            return datetime.fromisoformat(text)
    except (InvalidOperation, ValueError):
        return None
    return text


def _default_time_dimension(resolver: _Resolver) -> QueryField | str | None:
    graph = resolver.graph
    configured = graph.topic.default_time_dimension
    if configured:
        found = resolver.field(configured, ("topics", graph.topic.name, "default_time_dimension"))
        return found if found is not None else "invalid"
    times = [
        r for r in graph.visible.values() if isinstance(r.field, Dimension) and r.field.is_time
    ]
    on_base = [r for r in times if r.alias == graph.base]
    pick = on_base if on_base else times
    if len(pick) != 1:
        return None
    ref = pick[0]
    return QueryField(name=ref.qualified, ref=ref, grain=None, type=_field_type(ref, None))


class _Ctx(TypedDict):
    timezone: str
    now: datetime | None
    week_start: str


def _parse(
    resolver: _Resolver,
    field: QueryField,
    value: Any,
    path: tuple[str | int, ...],
    ctx: _Ctx,
) -> FilterSpec | None:
    try:
        return parse_filter(value, kind=field.type, **ctx)
    except FilterError as err:
        hint = err.hint
        message = err.issues[0].message if err.issues else err.message
        resolver._add(f"filter '{path[-1]}': {message}", path, "invalid_filter", hint)
        return None


def resolve_query(
    model: SemanticModel,
    request: QueryRequest,
    *,
    attributes: Mapping[str, Sequence[str]] | None,
    now: datetime | None = None,
) -> ResolvedQuery:
    """Resolve every name and filter of ``request``; ``attributes`` None = unrestricted."""
    issues: list[Issue] = []
    topic = model.topics.get(request.topic)
    enabled = model.settings.enabled_topics
    if topic is None or (enabled is not None and request.topic not in enabled):
        names = [t for t in model.topics if enabled is None or t in enabled]
        close = difflib.get_close_matches(request.topic, names, n=1)
        what = "is not enabled" if topic is not None else "does not exist"
        raise Invalid(
            f"topic '{request.topic}' {what}",
            [
                Issue(
                    message=f"topic '{request.topic}' {what}",
                    path=("topic",),
                    code="unknown_topic",
                    hint=f"Did you mean '{close[0]}'?"
                    if close
                    else f"Topics: {', '.join(sorted(names)) or 'none'}.",
                )
            ],
        )
    graph = topic_graph(model, request.topic)
    if graph.issues:
        raise Invalid(f"topic '{request.topic}' is not valid", graph.issues)
    resolver = _Resolver(graph)
    source_tz = model.settings.timezone
    query_tz = request.timezone or source_tz
    week_start = model.settings.week_start_day
    ctx = _Ctx(timezone=query_tz, now=now, week_start=week_start)

    dims = [resolver.field(n, ("dimensions", i)) for i, n in enumerate(request.dimensions)]
    meas = [resolver.field(n, ("measures", i)) for i, n in enumerate(request.measures)]
    for i, f in enumerate(dims):
        if f is not None and f.ref.is_measure:
            resolver._add(
                f"'{f.name}' is a measure", ("dimensions", i), "wrong_kind", "List it in measures."
            )
    for i, f in enumerate(meas):
        if f is not None and not f.ref.is_measure:
            resolver._add(
                f"'{f.name}' is a dimension",
                ("measures", i),
                "wrong_kind",
                "List it in dimensions.",
            )
    if not request.dimensions and not request.measures:
        resolver._add(
            "the query asks for no fields", (), "empty_query", "Add dimensions or measures."
        )

    filters: list[QueryFilter] = []
    filtered: set[tuple[str, str]] = set()
    for key, value in request.filters.items():
        path: tuple[str | int, ...] = ("filters", key)
        if key == "date_range":
            target = _default_time_dimension(resolver)
            if target is None:
                resolver._add(
                    f"topic '{graph.topic.name}' has no default time dimension for date_range",
                    path,
                    "no_time_dimension",
                    "Set `default_time_dimension` on the topic, or filter a time field by name.",
                )
                continue
            if isinstance(target, str):
                continue
            try:
                spec = parse_date_range(value, **ctx)
            except FilterError as err:
                resolver._add(f"filter 'date_range': {err.message}", path, "invalid_filter", None)
                continue
            filters.append(QueryFilter(key, target, spec, "date_range"))
            filtered.add((target.ref.alias, target.ref.name))
            continue
        fld = resolver.field(key, path)
        if fld is None:
            continue
        parsed = _parse(resolver, fld, value, path, ctx)
        if parsed is not None:
            filters.append(QueryFilter(key, fld, parsed, "query"))
            filtered.add((fld.ref.alias, fld.ref.name))
    topic_path = ("topics", graph.topic.name)
    for key, value in graph.topic.default_filters.items():
        fld = resolver.field(key, (*topic_path, "default_filters", key))
        if fld is None or (fld.ref.alias, fld.ref.name) in filtered:
            continue
        parsed = _parse(resolver, fld, value, (*topic_path, "default_filters", key), ctx)
        if parsed is not None:
            filters.append(QueryFilter(key, fld, parsed, "default"))
    for key, value in graph.topic.always_where_filters.items():
        fld = resolver.field(key, (*topic_path, "always_where_filters", key))
        if fld is None:
            continue
        parsed = _parse(resolver, fld, value, (*topic_path, "always_where_filters", key), ctx)
        if parsed is not None:
            filters.append(QueryFilter(key, fld, parsed, "always_where"))

    access = (
        ()
        if attributes is None
        else _access(resolver, model, graph, attributes, issues_before=len(resolver.issues))
    )

    sorts = _sorts(resolver, request, [f for f in (*dims, *meas) if f is not None])
    issues.extend(resolver.issues)
    if issues:
        raise Invalid(summarise("query", issues), issues)
    return ResolvedQuery(
        graph=graph,
        dimensions=tuple(f for f in dims if f is not None),
        measures=tuple(f for f in meas if f is not None),
        filters=tuple(filters),
        access=access,
        sorts=sorts,
        limit=request.limit or DEFAULT_LIMIT,
        source_tz=source_tz,
        query_tz=query_tz,
        now=now,
        week_start=week_start,
    )


def _access(
    resolver: _Resolver,
    model: SemanticModel,
    graph: TopicGraph,
    attributes: Mapping[str, Sequence[str]],
    *,
    issues_before: int,
) -> tuple[AccessPredicate, ...]:
    rules: list[tuple[AccessFilter, bool]] = [
        *((f, True) for f in model.settings.default_topic_access_filters),
        *((f, False) for f in graph.topic.access_filters),
    ]
    out: list[AccessPredicate] = []
    for rule, is_default in rules:
        probe = _Resolver(graph)
        fld = probe.field(rule.field, ("access_filters",), prefer_base=True)
        if fld is None:
            where = "default_topic_access_filters" if is_default else "access_filters"
            raise QueryError(
                f"access filter field '{rule.field}' ({where}) cannot be resolved in topic "
                f"'{graph.topic.name}', so restricted users cannot query it",
                error_type="permission_denied",
            )
        raw = attributes.get(rule.user_attribute)
        values: list[Any] = [v for v in (raw or ()) if v is not None]
        if not values and rule.default_value is not None:
            default = rule.default_value
            values = list(default) if isinstance(default, list | tuple) else [default]
        coerced = [_coerce_access(v, fld.type) for v in values]
        kept = tuple(v for v in coerced if v is not None)
        out.append(AccessPredicate(field=fld, values=kept or None, attribute=rule.user_attribute))
    return tuple(out)


def _sorts(
    resolver: _Resolver, request: QueryRequest, fields: list[QueryField]
) -> tuple[tuple[QueryField, bool], ...]:
    by_name = {f.name: f for f in fields}
    out: list[tuple[QueryField, bool]] = []
    for i, sort in enumerate(request.sorts):
        if isinstance(sort, str):
            descending = sort.startswith("-")
            name = sort[1:] if descending else sort
        else:
            name, descending = sort.field, sort.descending
        target = by_name.get(name)
        if target is None:
            probe = _Resolver(resolver.graph)
            resolved = probe.field(name, ("sorts", i))
            if resolved is not None:
                target = next((f for f in fields if f.key == resolved.key), None)
        if target is None:
            resolver._add(
                f"cannot sort by '{name}': it is not one of the query's fields",
                ("sorts", i),
                "bad_sort",
                f"Sort by one of: {', '.join(by_name) or 'no fields'}.",
            )
            continue
        out.append((target, descending))
    if out or not fields:
        return tuple(out)
    time_dims = [
        f for f in fields if isinstance(f.ref.field, Dimension) and f.type in ("date", "timestamp")
    ]
    if time_dims:
        return ((time_dims[0], False),)
    measures = [f for f in fields if isinstance(f.ref.field, Measure)]
    if measures:
        return ((measures[0], True),)
    return ((fields[0], False),)
