"""ResolvedQuery → Plan: which views to join and how each measure is aggregated safely.

The planner decides *fan-out*: a view's rows are duplicated when the joins a query needs include
an edge that, read from that view outward, is one-to-many or many-to-many (or a cross join).
Measures of such a view whose aggregate is not immune to duplicates (sum, count, average, median,
percentile) are computed in a *dedup block*: ``SELECT DISTINCT dims, <primary key>, <inputs>``
first, aggregated afterwards, so every row of the view counts exactly once per group. Everything
else goes into the single *direct block*; when it is the only block (and no period-over-period
measure is asked for) the compiler emits one plain ``SELECT ... GROUP BY``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlglot import exp

from gnomon.errors import Invalid, Issue
from gnomon.semantic.expressions import SnippetError, bind, parse_snippet, summarise, wrap
from gnomon.semantic.filters import FieldKind, FilterError, FilterSpec, parse_filter
from gnomon.semantic.graph import FANS_OUT, FLIP, Edge, FieldRef, ResolveError, TopicGraph
from gnomon.semantic.model import Dimension, Measure, PeriodOverPeriod
from gnomon.semantic.query import QueryField, ResolvedQuery, _Ctx

Strategy = Literal["direct", "dedup", "ranked"]
IMMUNE: frozenset[str] = frozenset({"count_distinct", "min", "max"})
DISTINCT_ON: frozenset[str] = frozenset(
    {"sum_distinct_on", "average_distinct_on", "count_distinct_on"}
)
QUANTILES: frozenset[str] = frozenset({"median", "percentile"})
MEASURE_PLACEHOLDER = "__gnomon_m_"


@dataclass(frozen=True)
class MeasureFilter:
    """One entry of a filtered measure's ``filters``: applied as ``CASE WHEN`` on its input."""

    ref: FieldRef
    kind: FieldKind
    spec: FilterSpec


@dataclass(frozen=True)
class MeasureSpec:
    """A measure the query needs (asked for, or needed by a derived/PoP measure or filter).

    ``key`` is its internal column name. Aggregates carry ``agg`` and ``input``; derived
    measures carry ``formula`` whose placeholder columns name other measures' keys; PoP
    measures carry ``pop`` and ``base`` (the compared measure's key).
    """

    key: str
    ref: FieldRef
    agg: str | None = None
    input: exp.Expr | None = None
    filters: tuple[MeasureFilter, ...] = ()
    dedup_key: exp.Expr | None = None
    percentile: float | None = None
    formula: exp.Expr | None = None
    deps: tuple[str, ...] = ()
    pop: PeriodOverPeriod | None = None
    base: str | None = None

    @property
    def is_aggregate(self) -> bool:
        return self.agg is not None


@dataclass(frozen=True)
class Block:
    """One aggregation pass over the joined rows; its result has one row per dims tuple."""

    name: str
    strategy: Strategy
    alias: str | None
    dedup_key: exp.Expr | None
    measures: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    query: ResolvedQuery
    aliases: tuple[str, ...]
    joins: tuple[Edge, ...]
    fanned: frozenset[str]
    measures: Mapping[str, MeasureSpec]
    outputs: tuple[tuple[QueryField, str], ...]
    blocks: tuple[Block, ...]
    pop_dimension: QueryField | None
    having: tuple[tuple[str, FieldKind, FilterSpec], ...]

    @property
    def single_select(self) -> bool:
        """One direct block and nothing computed on top of it: a plain GROUP BY query."""
        return (
            len(self.blocks) <= 1
            and all(b.strategy == "direct" for b in self.blocks)
            and not any(m.pop for m in self.measures.values())
        )

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly summary for ``plan_only``/debug output."""
        return {
            "topic": self.query.graph.topic.name,
            "views": list(self.aliases),
            "joins": [
                {"from": e.parent, "to": e.child, "type": e.type, "join": e.join_type}
                for e in self.joins
            ],
            "fanned_out_views": sorted(self.fanned),
            "blocks": [
                {"name": b.name, "strategy": b.strategy, "view": b.alias, "measures": b.measures}
                for b in self.blocks
            ],
            "single_select": self.single_select,
        }


@dataclass
class _Builder:
    query: ResolvedQuery
    graph: TopicGraph
    issues: list[Issue] = field(default_factory=list)
    specs: dict[str, MeasureSpec] = field(default_factory=dict)
    keys: dict[tuple[str, str], str] = field(default_factory=dict)
    deps: set[str] = field(default_factory=set)
    dedup_sql: dict[str, str] = field(default_factory=dict)  # measure key -> its dedup key SQL
    counter: int = 0

    def fail(self, message: str, path: tuple[str | int, ...], hint: str | None = None) -> None:
        self.issues.append(Issue(message=message, path=path, code="invalid_query", hint=hint))

    def dim(self, alias: str, name: str) -> exp.Expr:
        expression, deps = self.graph.dimension_sql(alias, name)
        self.deps.update(deps)
        return expression

    def measure(self, ref: FieldRef, stack: tuple[str, ...] = ()) -> str:
        ident = (ref.alias, ref.name)
        if ident in self.keys:
            return self.keys[ident]
        if ref.qualified in stack:
            raise ResolveError("reference cycle: " + " -> ".join((*stack, ref.qualified)))
        fld = ref.field
        assert isinstance(fld, Measure)
        stack = (*stack, ref.qualified)
        key = f"m{self.counter}"
        self.counter += 1
        if fld.period_over_period is not None:
            pop = fld.period_over_period
            base = self.graph.resolve_ref(ref.alias, pop.measure)
            if not base.is_measure:
                raise ResolveError(f"period_over_period of '{ref.qualified}' needs a measure")
            base_key = self.measure(base, stack)
            spec = MeasureSpec(key=key, ref=ref, pop=pop, base=base_key, deps=(base_key,))
        elif fld.aggregate_type is None:
            spec = self._derived(key, ref, fld, stack)
        else:
            spec = self._aggregate(key, ref, fld)
        self.keys[ident] = key
        self.specs[key] = spec
        return key

    def _derived(
        self, key: str, ref: FieldRef, fld: Measure, stack: tuple[str, ...]
    ) -> MeasureSpec:
        if not fld.sql:
            raise ResolveError(
                f"measure '{ref.qualified}' has neither aggregate_type nor sql",
                "Give it an aggregate_type, or sql over other measures.",
            )
        used: list[str] = []

        def resolve(r: str) -> exp.Expr:
            target = self.graph.resolve_ref(ref.alias, r)
            if not target.is_measure:
                raise ResolveError(
                    f"derived measure '{ref.qualified}' refers to dimension '${{{r}}}'",
                    "Derived measures combine measures; aggregate the dimension in a measure.",
                )
            sub = self.measure(target, stack)
            used.append(sub)
            return exp.column(MEASURE_PLACEHOLDER + sub)

        try:
            tree, refs = parse_snippet(fld.sql, self.graph.dialect)
        except SnippetError as err:
            raise ResolveError(f"cannot parse the SQL of '{ref.qualified}': {err}") from err
        formula = bind(tree, refs, table_alias=None, resolve=resolve, qualify_bare=False)
        return MeasureSpec(key=key, ref=ref, formula=formula, deps=tuple(dict.fromkeys(used)))

    def _aggregate(self, key: str, ref: FieldRef, fld: Measure) -> MeasureSpec:
        agg = fld.aggregate_type or ""
        static = _aggregate_input(self.graph, ref, fld)
        self.deps.update(static.deps)
        if static.dedup_sql is not None:
            self.dedup_sql[key] = static.dedup_sql
        filters: list[MeasureFilter] = []
        ctx = _Ctx(
            timezone=self.query.query_tz, now=self.query.now, week_start=self.query.week_start
        )
        for fkey, fvalue in fld.filters.items():
            target = self.graph.resolve_ref(ref.alias, fkey)
            if not isinstance(target.field, Dimension):
                raise ResolveError(f"filter '{fkey}' of measure '{ref.qualified}' is a measure")
            self.dim(target.alias, target.name)
            kind: FieldKind = target.field.field_type
            try:
                spec = parse_filter(fvalue, kind=kind, **ctx)
            except FilterError as err:
                raise ResolveError(
                    f"filter '{fkey}' of measure '{ref.qualified}': {err.message}"
                ) from err
            filters.append(MeasureFilter(target, kind, spec))
        return MeasureSpec(
            key=key,
            ref=ref,
            agg=agg,
            input=static.value,
            filters=tuple(filters),
            dedup_key=static.dedup,
            percentile=0.5 if agg == "median" else _fraction(fld.percentile),
        )


@dataclass(frozen=True)
class _AggregateInput:
    """The query-independent part of an aggregate measure, cached per (model, topic, field).

    ``value`` and ``dedup`` are shared by every compile: readers copy them before placing them
    in a tree. ``deps`` are the aliases they read; ``dedup_sql`` groups measures by dedup key.
    """

    value: exp.Expr | None
    dedup: exp.Expr | None
    dedup_sql: str | None
    deps: frozenset[str]


def _aggregate_input(graph: TopicGraph, ref: FieldRef, fld: Measure) -> _AggregateInput:
    cache: dict[Any, _AggregateInput] = graph.model.cache.setdefault("aggregate_input", {})
    cache_key = (graph.topic.name, ref.alias, ref.name)
    cached = cache.get(cache_key)
    if cached is not None:
        return cached
    agg = fld.aggregate_type or ""
    view = graph.view(ref.alias)
    deps: set[str] = set()

    def dim(alias: str, name: str) -> exp.Expr:
        expression, dim_deps = graph.dimension_sql(alias, name)
        deps.update(dim_deps)
        return expression

    value: exp.Expr | None = None
    if fld.sql:

        def resolve(r: str) -> exp.Expr:
            target = graph.resolve_ref(ref.alias, r)
            if target.is_measure:
                raise ResolveError(
                    f"measure '{ref.qualified}' (aggregate_type {agg}) refers to measure "
                    f"'${{{r}}}'",
                    "Drop aggregate_type to make it a derived measure.",
                )
            return wrap(dim(target.alias, target.name).copy())

        try:
            tree, refs = parse_snippet(fld.sql, graph.dialect)
        except SnippetError as err:
            raise ResolveError(f"cannot parse the SQL of '{ref.qualified}': {err}") from err
        value = bind(tree, refs, table_alias=ref.alias, resolve=resolve)
    elif agg != "count":
        value = exp.column(ref.name, table=ref.alias)
    deps.add(ref.alias)
    dedup: exp.Expr | None = None
    if agg in DISTINCT_ON:
        if not fld.custom_primary_key_sql:
            raise ResolveError(
                f"measure '{ref.qualified}' ({agg}) needs custom_primary_key_sql",
                "Set custom_primary_key_sql to the key whose rows count once.",
            )
        tree, refs = parse_snippet(fld.custom_primary_key_sql, graph.dialect)

        def resolve_key(r: str) -> exp.Expr:
            target = graph.resolve_ref(ref.alias, r)
            return wrap(dim(target.alias, target.name).copy())

        dedup = bind(tree, refs, table_alias=ref.alias, resolve=resolve_key)
    elif view.primary_key is not None:
        dedup = dim(ref.alias, view.primary_key.name)
    result = _AggregateInput(
        value=value,
        dedup=dedup,
        dedup_sql=dedup.sql() if dedup is not None else None,
        deps=frozenset(deps),
    )
    cache[cache_key] = result
    return result


def _fraction(value: float | None) -> float | None:
    """``percentile: 90`` and ``percentile: 0.9`` both mean the 90th percentile."""
    if value is None:
        return None
    return value / 100 if value > 1 else value


def _ancestors(graph: TopicGraph, aliases: set[str]) -> list[str]:
    """``aliases`` plus every node on their paths from the base, in join order."""
    needed: set[str] = {graph.base}
    for alias in aliases:
        needed.add(alias)
        needed.update(e.parent for e in graph.path(alias))
    order = [graph.base]
    for alias in graph.nodes:
        if alias in needed and alias != graph.base:
            order.append(alias)
    # parents before children: sort by depth, stable on tree insertion order
    return sorted(order, key=lambda a: len(graph.path(a)))


def _fanned(graph: TopicGraph, alias: str, edges: list[Edge]) -> bool:
    """Whether ``alias``'s rows are duplicated by the joined ``edges``."""
    on_path = {e.child for e in graph.path(alias)}
    for edge in edges:
        if edge.join_type == "cross":
            return True
        # Walking outward from `alias`, an edge on its own path is crossed child -> parent.
        seen = FLIP[edge.type] if edge.child in on_path else edge.type
        if seen in FANS_OUT:
            return True
    return False


def plan_query(query: ResolvedQuery, *, native_quantiles: bool = True) -> Plan:
    """Decide joins and aggregation blocks for a resolved query.

    ``native_quantiles``: the target dialect has an exact percentile aggregate; otherwise
    median/percentile measures get a ``ranked`` block (window-function interpolation).
    """
    graph = query.graph
    b = _Builder(query=query, graph=graph)
    outputs: list[tuple[QueryField, str]] = []
    for i, dim in enumerate(query.dimensions):
        try:
            b.dim(dim.ref.alias, dim.ref.name)
        except ResolveError as err:
            b.fail(err.message, ("dimensions", i), err.hint)
        outputs.append((dim, f"d{i}"))
    for i, mea in enumerate(query.measures):
        try:
            outputs.append((mea, b.measure(mea.ref)))
        except ResolveError as err:
            b.fail(err.message, ("measures", i), err.hint)
    having: list[tuple[str, FieldKind, FilterSpec]] = []
    for flt in query.filters:
        try:
            if flt.field.ref.is_measure:
                having.append((b.measure(flt.field.ref), flt.field.type, flt.spec))
            else:
                b.dim(flt.field.ref.alias, flt.field.ref.name)
        except ResolveError as err:
            b.fail(err.message, ("filters", flt.label), err.hint)
    for acc in query.access:
        try:
            b.dim(acc.field.ref.alias, acc.field.ref.name)
        except ResolveError as err:
            b.fail(err.message, ("access_filters", acc.field.name), err.hint)
    pop_dimension = next(
        (d for d in query.dimensions if d.grain is not None and d.type in ("date", "timestamp")),
        None,
    )
    if pop_dimension is None:
        for field_, key in outputs:
            spec = b.specs.get(key)
            if spec is not None and spec.pop is not None:
                b.fail(
                    f"'{field_.name}' compares periods, so the query needs a time dimension "
                    "with a grain",
                    ("measures", field_.name),
                    "Add e.g. 'orders.created_at[month]' to dimensions.",
                )
    if b.issues:
        raise Invalid(summarise("query", b.issues), b.issues)
    # on_sql may read dimensions that live on further views: add them until stable
    aliases = _ancestors(graph, b.deps)
    while True:
        extra: set[str] = set()
        for alias in aliases:
            if alias in graph.edges:
                extra |= graph.join_condition(alias)[1]
        grown = _ancestors(graph, set(aliases) | extra)
        if set(grown) == set(aliases):
            break
        aliases = grown
    edges = [graph.edges[a] for a in aliases if a in graph.edges]
    fanned = frozenset(a for a in aliases if _fanned(graph, a, edges))
    blocks = _blocks(b, fanned, native_quantiles)
    return Plan(
        query=query,
        aliases=tuple(aliases),
        joins=tuple(edges),
        fanned=fanned,
        measures=dict(b.specs),
        outputs=tuple(outputs),
        blocks=tuple(blocks),
        pop_dimension=pop_dimension,
        having=tuple(having),
    )


def _blocks(b: _Builder, fanned: frozenset[str], native_quantiles: bool) -> list[Block]:
    direct: list[str] = []
    dedup: dict[tuple[str, str], list[str]] = {}
    dedup_keys: dict[tuple[str, str], exp.Expr] = {}
    ranked: list[tuple[str, str | None, exp.Expr | None]] = []
    issues: list[Issue] = []
    for key, spec in b.specs.items():
        if spec.agg is None:
            continue
        alias = spec.ref.alias
        needs_dedup = spec.agg in DISTINCT_ON or (alias in fanned and spec.agg not in IMMUNE)
        if needs_dedup and spec.dedup_key is None:
            issues.append(
                Issue(
                    message=f"measure '{spec.ref.qualified}' would be inflated by the joins this "
                    f"query needs, and view '{spec.ref.view}' has no primary key",
                    path=("measures", spec.ref.qualified),
                    code="fanout_without_primary_key",
                    hint=f"Mark the key dimension of view '{spec.ref.view}' with "
                    "`primary_key: true`.",
                )
            )
            continue
        if spec.agg in QUANTILES and not native_quantiles:
            ranked.append(
                (key, alias if needs_dedup else None, spec.dedup_key if needs_dedup else None)
            )
            continue
        if not needs_dedup:
            direct.append(key)
            continue
        assert spec.dedup_key is not None
        group = (alias, b.dedup_sql.get(key) or spec.dedup_key.sql())
        dedup.setdefault(group, []).append(key)
        dedup_keys[group] = spec.dedup_key
    if issues:
        raise Invalid(summarise("query", issues), issues)
    blocks: list[Block] = []
    if direct or (not dedup and not ranked):
        blocks.append(Block("agg_main", "direct", None, None, tuple(direct)))
    for group, keys in dedup.items():
        view_alias = group[0]
        blocks.append(
            Block(f"agg_{view_alias}", "dedup", view_alias, dedup_keys[group], tuple(keys))
        )
    for key, ranked_alias, dedup_key in ranked:
        blocks.append(Block(f"agg_{key}", "ranked", ranked_alias, dedup_key, (key,)))
    names: dict[str, int] = {}
    unique: list[Block] = []
    for block in blocks:
        count = names.get(block.name, 0)
        names[block.name] = count + 1
        if count:
            block = Block(
                f"{block.name}_{count}",
                block.strategy,
                block.alias,
                block.dedup_key,
                block.measures,
            )
        unique.append(block)
    return unique
