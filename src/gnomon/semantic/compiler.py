"""Plan → sqlglot tree → SQL text for one dialect; the public ``compile_query``.

Shapes emitted (see docs/model.md, "Fan-out guarantees"):

* no fan-out, no period-over-period: one ``SELECT dims, aggregates FROM joins WHERE ...
  GROUP BY dims HAVING ... ORDER BY ... LIMIT``;
* otherwise one CTE per aggregation block (``agg_main`` for duplicate-free measures, one
  ``agg_<view>`` per fanned-out view, deduplicated on its primary key), merged on the dimension
  columns by ``UNION ALL`` + ``GROUP BY`` (NULL-safe, and portable to engines without FULL
  OUTER JOIN), then derived and period-over-period measures computed on top.

Every block reads the same joins under the same WHERE (query filters, topic filters and access
predicates), so pre-aggregation can never see rows a user is not allowed to see.

>>> from gnomon.semantic.loader import load_document
>>> m = load_document({"views": {"orders": {"table_name": "orders", "dimensions":
...     {"id": {"primary_key": True}, "status": {}}, "measures": {"count":
...     {"aggregate_type": "count"}}}}, "topics": {"sales": {"base_view": "orders"}}})
>>> print(compile_query(m, QueryRequest(topic="sales", dimensions=["status"],
...     measures=["count"]), dialect="duckdb").sql)
SELECT
  orders.status AS "status",
  COUNT(orders.id) AS "count"
FROM orders AS orders
GROUP BY
  orders.status
ORDER BY
  "count" DESC
LIMIT 1000
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, cast

from sqlglot import exp

from gnomon.errors import Invalid, Issue
from gnomon.semantic.expressions import wrap
from gnomon.semantic.filters import Condition, FilterSpec, filter_to_sql
from gnomon.semantic.graph import FieldRef, ResolveError, TopicGraph
from gnomon.semantic.model import Dimension, Measure, SemanticModel
from gnomon.semantic.planner import MEASURE_PLACEHOLDER, Block, MeasureSpec, Plan, plan_query
from gnomon.semantic.pop import shift_spec
from gnomon.semantic.query import QueryField, QueryRequest, ResolvedQuery, resolve_query
from gnomon.semantic.rendered import derived_table
from gnomon.semantic.sqlparts import JOIN_KINDS, has_native_quantile, quantile
from gnomon.semantic.timegrains import DIALECTS, convert_timezone, shift, truncate

FieldType = Literal["string", "number", "boolean", "date", "timestamp"]


@dataclass(frozen=True)
class AccessContext:
    """Who is asking: user attribute values (multi-valued); ``unrestricted`` for org keys."""

    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unrestricted: bool = False


@dataclass(frozen=True)
class FieldMeta:
    name: str
    type: FieldType
    label: str
    format: str | None
    kind: Literal["dimension", "measure"]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "label": self.label, "format": self.format}


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    dialect: str
    fields: tuple[FieldMeta, ...]
    topic: str
    views: tuple[str, ...]
    plan: Plan


@dataclass(frozen=True)
class _Shift:
    """Period-over-period: read the time dimension ``periods`` grains later."""

    alias: str
    name: str
    grain: str
    periods: int


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def _x(node: exp.Expr) -> exp.Expression:
    """sqlglot's builders are typed on ``Expr``; the time-grain and filter helpers take its
    ``Expression`` subclass, which every node built here is."""
    return cast(exp.Expression, node)


@lru_cache(maxsize=1024)
def _parsed_table(name: str) -> exp.Table:
    return exp.to_table(name)


@lru_cache(maxsize=1024)
def _parsed_table_alias(name: str) -> exp.TableAlias:
    return exp.maybe_parse(name, into=exp.TableAlias)


def _table(name: str) -> exp.Table:
    """``exp.to_table(name)`` without parsing ``name`` again on every compile."""
    return _parsed_table(name).copy()


def _table_alias(name: str) -> exp.TableAlias:
    """The CTE name node ``select.with_(name, ...)`` would parse, without parsing it again."""
    return _parsed_table_alias(name).copy()


def _and(parts: Sequence[exp.Expr]) -> exp.Expr | None:
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = exp.and_(out, part, copy=False)
    return out


class _Emitter:
    def __init__(self, plan: Plan, dialect: str) -> None:
        self.plan = plan
        self.query: ResolvedQuery = plan.query
        self.graph: TopicGraph = plan.query.graph
        self.dialect = dialect
        self.dims: list[tuple[QueryField, str]] = [
            (f, k) for f, k in plan.outputs if not f.ref.is_measure
        ]

    # ---- row-level pieces -----------------------------------------------------------------

    def field_sql(self, ref: FieldRef, grain: str | None, shift_by: _Shift | None) -> exp.Expr:
        """A private copy of the field's expression, to place in the output tree."""
        return self.field_tree(ref, grain, shift_by).copy()

    def field_tree(self, ref: FieldRef, grain: str | None, shift_by: _Shift | None) -> exp.Expr:
        """The field's expression, cached on the model and shared by every compile: only for
        readers that copy what they place (``filter_to_sql`` does), never to be modified."""
        cache: dict[Any, exp.Expr] = self.graph.model.cache.setdefault("field_sql", {})
        shifted = shift_by is not None and (ref.alias, ref.name) == (shift_by.alias, shift_by.name)
        key = (
            self.graph.topic.name,
            self.dialect,
            ref.alias,
            ref.name,
            grain,
            self.query.query_tz,
            (shift_by.grain, shift_by.periods) if shifted and shift_by is not None else None,
        )
        cached = cache.get(key)
        if cached is not None:
            return cached
        base, _ = self.graph.dimension_sql(ref.alias, ref.name)
        expression = base.copy()
        dim = ref.field
        if isinstance(dim, Dimension) and dim.field_type == "timestamp":
            expression = convert_timezone(
                _x(expression),
                source_tz=self.query.source_tz,
                target_tz=self.query.query_tz,
                dialect=self.dialect,
            )
        if grain is not None:
            expression = truncate(
                _x(expression), grain, self.dialect, week_start=self.query.week_start
            )
        if shifted and shift_by is not None:
            # Previous-period labels move forward onto the period they are compared with;
            # truncating again keeps the label's type identical to the current block's.
            expression = truncate(
                shift(_x(expression), shift_by.grain, shift_by.periods, self.dialect),
                shift_by.grain,
                self.dialect,
                week_start=self.query.week_start,
            )
        cache[key] = expression
        return expression

    def from_clause(self, select: exp.Select) -> exp.Select:
        def table(alias: str) -> exp.Expr:
            view = self.graph.view(alias)
            if view.sql:
                src_dialect = self.graph.model.settings.dialect or self.dialect
                return derived_table(view.sql, src_dialect, self.dialect, alias)
            return exp.Table(
                this=exp.to_identifier(view.table_name or view.name),
                db=exp.to_identifier(view.schema_name) if view.schema_name else None,
                catalog=exp.to_identifier(view.catalog) if view.catalog else None,
                alias=exp.TableAlias(this=exp.to_identifier(alias)),
            )

        select = select.from_(table(self.graph.base), copy=False)
        for edge in self.plan.joins:
            condition, _ = self.graph.join_condition(edge.child)
            side, kind = JOIN_KINDS[edge.join_type]
            join = exp.Join(this=table(edge.child), side=side, kind=kind)
            if condition is not None and kind != "CROSS":
                join.set("on", condition.copy())
            select.append("joins", join)
        return select

    def where(self, shift_by: _Shift | None) -> exp.Expr | None:
        parts: list[exp.Expr] = []
        for flt in self.query.filters:
            if flt.field.ref.is_measure:
                continue
            column = self.field_tree(flt.field.ref, flt.field.grain, None)
            spec = flt.spec
            if shift_by is not None and (flt.field.ref.alias, flt.field.ref.name) == (
                shift_by.alias,
                shift_by.name,
            ):
                spec = shift_spec(spec, shift_by.grain, -shift_by.periods)
            parts.append(filter_to_sql(spec, _x(column), kind=flt.field.type))
        for acc in self.query.access:
            if acc.values is None:
                parts.append(exp.false())
                continue
            column = self.field_tree(acc.field.ref, acc.field.grain, None)
            spec = FilterSpec((Condition("in", acc.values),))
            parts.append(filter_to_sql(spec, _x(column), kind=acc.field.type))
        return _and([exp.paren(p, copy=False) if len(parts) > 1 else p for p in parts])

    def base_select(self, shift_by: _Shift | None) -> exp.Select:
        select = self.from_clause(exp.Select())
        condition = self.where(shift_by)
        if condition is not None:
            select = select.where(condition, copy=False)
        return select

    def dim_values(self, shift_by: _Shift | None) -> list[tuple[str, exp.Expr]]:
        return [(k, self.field_sql(f.ref, f.grain, shift_by)) for f, k in self.dims]

    # ---- aggregates -----------------------------------------------------------------------

    def measure_condition(self, spec: MeasureSpec, shift_by: _Shift | None) -> exp.Expr | None:
        parts = [
            filter_to_sql(f.spec, _x(self.field_tree(f.ref, None, shift_by)), kind=f.kind)
            for f in spec.filters
        ]
        return _and([exp.paren(p, copy=False) for p in parts] if len(parts) > 1 else parts)

    def row_value(
        self, spec: MeasureSpec, shift_by: _Shift | None, *, key: exp.Expr | None
    ) -> exp.Expr | None:
        """The per-row input of an aggregate (filtered measures: ``CASE WHEN ... END``)."""
        counting = spec.agg in ("count", "count_distinct_on")
        value = spec.input.copy() if spec.input is not None and not counting else None
        if counting:
            if spec.input is not None and spec.agg == "count":
                value = spec.input.copy()
            else:
                value = key.copy() if key is not None else None
        condition = self.measure_condition(spec, shift_by)
        if condition is None:
            return value
        return exp.Case(ifs=[exp.If(this=condition, true=value or exp.Literal.number(1))])

    def aggregate(self, spec: MeasureSpec, value: exp.Expr | None) -> exp.Expr:
        agg = spec.agg or ""
        if agg in ("count", "count_distinct_on"):
            return exp.Count(this=value if value is not None else exp.Star())
        assert value is not None
        if agg == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[value]))
        if agg in ("sum", "sum_distinct_on"):
            return exp.Sum(this=value)
        if agg in ("average", "average_distinct_on"):
            return exp.Avg(this=value)
        if agg == "min":
            return exp.Min(this=value)
        if agg == "max":
            return exp.Max(this=value)
        if agg in ("median", "percentile"):
            return quantile(
                value, spec.percentile if spec.percentile is not None else 0.5, self.dialect
            )
        raise ResolveError(f"unknown aggregate_type '{agg}' on '{spec.ref.qualified}'")

    def direct_value(self, spec: MeasureSpec, shift_by: _Shift | None) -> exp.Expr:
        key = spec.dedup_key if spec.agg == "count" else None
        return self.aggregate(spec, self.row_value(spec, shift_by, key=key))

    def block_select(
        self, block: Block, shift_by: _Shift | None, keys: tuple[str, ...]
    ) -> exp.Select:
        """A block as a SELECT producing ``d0.. , m..`` (one row per dims tuple)."""
        dims = self.dim_values(shift_by)
        specs = [self.plan.measures[k] for k in keys]
        if block.strategy == "direct":
            select = self.base_select(shift_by)
            select = select.select(
                *(exp.alias_(e, k, copy=False) for k, e in dims),
                *(exp.alias_(self.direct_value(s, shift_by), s.key, copy=False) for s in specs),
                copy=False,
            )
            if dims:
                select = select.group_by(*(e.copy() for _, e in dims), copy=False)
            return select
        inner = self.base_select(shift_by)
        dedup_key = block.dedup_key.copy() if block.dedup_key is not None else None
        projections: list[exp.Expr] = [exp.alias_(e, k, copy=False) for k, e in dims]
        if dedup_key is not None:
            projections.append(exp.alias_(dedup_key, "__k", copy=False))
        for i, spec in enumerate(specs):
            value = self.row_value(spec, shift_by, key=block.dedup_key)
            projections.append(
                exp.alias_(value if value is not None else exp.null(), f"__v{i}", copy=False)
            )
        inner = inner.select(*projections, copy=False)
        if dedup_key is not None:
            inner = inner.distinct(copy=False)
        dim_cols = [_col(k) for k, _ in dims]
        if block.strategy == "dedup":
            outer = exp.select(
                *(c.copy() for c in dim_cols),
                *(
                    exp.alias_(self.aggregate(s, _col(f"__v{i}")), s.key, copy=False)
                    for i, s in enumerate(specs)
                ),
            ).from_(
                exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("__rows"))),
                copy=False,
            )
            if dim_cols:
                outer = outer.group_by(*(c.copy() for c in dim_cols), copy=False)
            return outer
        return self.ranked(specs[0], inner, dim_cols)

    def ranked(
        self, spec: MeasureSpec, inner: exp.Select, dim_cols: list[exp.Column]
    ) -> exp.Select:
        """Exact percentile with window functions, for engines without a percentile aggregate:
        rank the values per group and interpolate between the two neighbouring ranks."""
        q = spec.percentile if spec.percentile is not None else 0.5
        partition = [c.copy() for c in dim_cols]
        window_order = exp.Order(expressions=[exp.Ordered(this=_col("__v0"))])
        rn = exp.Window(this=exp.RowNumber(), partition_by=partition or None, order=window_order)
        cnt = exp.Window(
            this=exp.Count(this=_col("__v0")), partition_by=[c.copy() for c in dim_cols] or None
        )
        ranked = (
            exp.select(
                *(c.copy() for c in dim_cols),
                _col("__v0"),
                exp.alias_(rn, "__rn", copy=False),
                exp.alias_(cnt, "__n", copy=False),
            )
            .from_(
                exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("__rows"))),
                copy=False,
            )
            .where(exp.Not(this=exp.Is(this=_col("__v0"), expression=exp.null())), copy=False)
        )
        position = exp.Mul(
            this=exp.Literal.number(q),
            expression=exp.paren(
                exp.Sub(this=_col("__n"), expression=exp.Literal.number(1)), copy=False
            ),
        )
        low_rank = exp.Add(this=exp.Floor(this=position.copy()), expression=exp.Literal.number(1))
        frac = exp.Sub(this=position.copy(), expression=exp.Floor(this=position.copy()))

        def at(rank: exp.Expr) -> exp.Expr:
            return exp.Max(
                this=exp.Case(
                    ifs=[exp.If(this=exp.EQ(this=_col("__rn"), expression=rank), true=_col("__v0"))]
                )
            )

        low = at(low_rank)
        high = exp.Coalesce(
            this=at(exp.Add(this=low_rank.copy(), expression=exp.Literal.number(1))),
            expressions=[low.copy()],
        )
        value = exp.Add(
            this=low.copy(),
            expression=exp.Mul(
                this=exp.Max(this=frac),
                expression=exp.paren(exp.Sub(this=high, expression=low.copy()), copy=False),
            ),
        )
        outer = exp.select(
            *(c.copy() for c in dim_cols), exp.alias_(value, spec.key, copy=False)
        ).from_(
            exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier("__ranked"))),
            copy=False,
        )
        if dim_cols:
            outer = outer.group_by(*(c.copy() for c in dim_cols), copy=False)
        return outer

    # ---- measures on top of aggregates ----------------------------------------------------

    def value(
        self, key: str, column: Callable[[str], exp.Expr], prev: Mapping[int, str]
    ) -> exp.Expr:
        spec = self.plan.measures[key]
        if spec.is_aggregate:
            return column(key)
        if spec.pop is not None:
            assert spec.base is not None
            source = prev[spec.pop.periods]
            current = self.value(spec.base, column, prev)
            previous = self.value(spec.base, lambda k: _col(k, source), prev)
            output = spec.pop.output
            if output == "value":
                return previous
            change = exp.Sub(this=wrap(current), expression=wrap(previous))
            if output == "change":
                return change
            return exp.Div(
                this=exp.paren(change, copy=False),
                expression=exp.Nullif(this=previous.copy(), expression=exp.Literal.number(0)),
            )
        assert spec.formula is not None

        def swap(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Column) and node.name.startswith(MEASURE_PLACEHOLDER):
                return wrap(self.value(node.name[len(MEASURE_PLACEHOLDER) :], column, prev))
            return node

        return spec.formula.copy().transform(swap, copy=False)

    def order_and_limit(self, select: exp.Select) -> exp.Select:
        keys = [
            exp.Ordered(this=exp.column(_ident(f.name)), desc=desc) for f, desc in self.query.sorts
        ]
        if keys:
            select = select.order_by(*keys, copy=False)
        return select.limit(exp.Literal.number(self.query.limit), copy=False)

    # ---- whole query ----------------------------------------------------------------------

    def single(self) -> exp.Select:
        dims = self.dim_values(None)
        select = self.base_select(None)
        direct = {
            k: self.direct_value(self.plan.measures[k], None)
            for k in self.plan.measures
            if self.plan.measures[k].is_aggregate
        }

        def column(k: str) -> exp.Expr:
            return direct[k].copy()

        outs: list[exp.Expr] = []
        dim_exprs = dict(dims)
        for fld, key in self.plan.outputs:
            # each dimension is output once; GROUP BY below gets copies
            expr = dim_exprs[key] if not fld.ref.is_measure else self.value(key, column, {})
            outs.append(exp.alias_(expr, _ident(fld.name), copy=False))
        select = select.select(*outs, copy=False)
        if dims:
            select = select.group_by(*(e.copy() for _, e in dims), copy=False)
        having = [
            filter_to_sql(spec, _x(self.value(key, column, {})), kind=kind)
            for key, kind, spec in self.plan.having
        ]
        condition = _and(having)
        if condition is not None:
            select = select.having(condition, copy=False)
        return self.order_and_limit(select)

    def combined(
        self, prefix: str, shift_by: _Shift | None, keys: set[str]
    ) -> tuple[list[tuple[str, exp.Expr]], str]:
        """CTEs computing the aggregate measures ``keys``; returns (ctes, merged cte name)."""
        ctes: list[tuple[str, exp.Expr]] = []
        made: list[tuple[str, tuple[str, ...]]] = []
        for block in self.plan.blocks:
            wanted = tuple(k for k in block.measures if k in keys)
            if not wanted and (block.strategy != "direct" or made):
                continue
            name = f"{prefix}{block.name}"
            ctes.append((name, self.block_select(block, shift_by, wanted)))
            made.append((name, wanted))
        dim_cols = [k for _, k in self.dims]
        if len(made) == 1:
            return ctes, made[0][0]
        everything = [k for _, ks in made for k in ks]
        branches: list[exp.Select] = []
        for name, ks in made:
            branches.append(
                exp.select(
                    *(_col(d) for d in dim_cols),
                    *(
                        _col(k) if k in ks else exp.alias_(exp.null(), k, copy=False)
                        for k in everything
                    ),
                ).from_(_table(name), copy=False)
            )
        union: exp.Expr = branches[0]
        for branch in branches[1:]:
            union = exp.union(union, branch, distinct=False, copy=False)
        merged = exp.select(
            *(_col(d) for d in dim_cols),
            *(exp.alias_(exp.Max(this=_col(k)), k, copy=False) for k in everything),
        ).from_(
            exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("__blocks"))),
            copy=False,
        )
        if dim_cols:
            merged = merged.group_by(*(_col(d) for d in dim_cols), copy=False)
        name = f"{prefix}merged"
        ctes.append((name, merged))
        return ctes, name

    def layered(self) -> exp.Select:
        aggregates = {k for k, s in self.plan.measures.items() if s.is_aggregate}
        ctes, current = self.combined("", None, aggregates)
        prev: dict[int, str] = {}
        pops = [s for s in self.plan.measures.values() if s.pop is not None]
        dim = self.plan.pop_dimension
        dim_cols = [k for _, k in self.dims]
        select = exp.select().from_(_table(current), copy=False)
        for periods in sorted({s.pop.periods for s in pops if s.pop is not None}):
            assert dim is not None
            assert dim.grain is not None
            needed = self._closure(
                [s.base for s in pops if s.pop and s.pop.periods == periods and s.base]
            )
            shift_by = _Shift(dim.ref.alias, dim.ref.name, dim.grain, periods)
            more, merged = self.combined(f"prev{periods}_", shift_by, needed & aggregates)
            ctes.extend(more)
            prev[periods] = merged
            on = _and(
                [
                    exp.NullSafeEQ(this=_col(d, current), expression=_col(d, merged))
                    for d in dim_cols
                ]
            )
            # built directly: the join builder parses its join_type string on every call
            join = (
                exp.Join(this=_table(merged), side="LEFT", on=on)
                if on is not None
                else exp.Join(this=_table(merged), kind="CROSS")
            )
            select.append("joins", join)

        def column(k: str) -> exp.Expr:
            return _col(k, current)

        outs: list[exp.Expr] = []
        for fld, key in self.plan.outputs:
            expr = _col(key, current) if not fld.ref.is_measure else self.value(key, column, prev)
            outs.append(exp.alias_(expr, _ident(fld.name), copy=False))
        select = select.select(*outs, copy=False)
        condition = _and(
            [
                filter_to_sql(spec, _x(self.value(key, column, prev)), kind=kind)
                for key, kind, spec in self.plan.having
            ]
        )
        if condition is not None:
            select = select.where(condition, copy=False)
        for name, body in ctes:
            select = select.with_(_table_alias(name), as_=body, copy=False)
        return self.order_and_limit(select)

    def _closure(self, keys: list[str]) -> set[str]:
        out: set[str] = set()
        stack = list(keys)
        while stack:
            key = stack.pop()
            if key in out:
                continue
            out.add(key)
            stack.extend(self.plan.measures[key].deps)
        return out

    def build(self) -> exp.Select:
        return self.single() if self.plan.single_select else self.layered()


def _label(ref: FieldRef, grain: str | None) -> str:
    fld = ref.field
    text = fld.label or ref.name.replace("_", " ").title()
    if grain is not None:
        text = f"{text} ({grain.replace('_', ' ')})"
    return text


def _meta(f: QueryField) -> FieldMeta:
    fld = f.ref.field
    fmt = fld.format
    if isinstance(fld, Measure) and fld.period_over_period is not None and fmt is None:
        fmt = "percent_1" if fld.period_over_period.output == "percent_change" else None
    return FieldMeta(
        name=f.name, type=f.type, label=_label(f.ref, f.grain), format=fmt, kind=f.kind
    )


def compile_query(
    model: SemanticModel,
    request: QueryRequest | Mapping[str, Any],
    *,
    dialect: str,
    access: AccessContext | None = None,
    now: datetime | None = None,
) -> CompiledQuery:
    """Compile a query against a topic of ``model`` to SQL for ``dialect``.

    ``access`` None or ``unrestricted`` applies no access filters (trusted internal callers and
    organization keys); otherwise every access filter of the topic is injected. Raises
    :class:`~gnomon.errors.Invalid` listing every problem of the request.
    """
    if dialect not in DIALECTS:
        raise Invalid(
            f"unsupported dialect '{dialect}'",
            [
                Issue(
                    message=f"unsupported dialect '{dialect}'",
                    path=("dialect",),
                    hint=f"One of: {', '.join(DIALECTS)}.",
                )
            ],
        )
    if not isinstance(request, QueryRequest):
        request = QueryRequest.model_validate(dict(request))
    attributes = None if access is None or access.unrestricted else access.attributes
    resolved = resolve_query(model, request, attributes=attributes, now=now)
    try:
        plan = plan_query(resolved, native_quantiles=has_native_quantile(dialect))
        tree = _Emitter(plan, dialect).build()
    except ResolveError as err:
        raise Invalid(
            err.message, [Issue(message=err.message, code="invalid_model_sql", hint=err.hint)]
        ) from err
    # Every node of ``tree`` was built or copied for this compile (nothing cached is placed in
    # it), so the generator may work on it directly instead of deep-copying it first.
    sql = tree.sql(dialect=dialect, pretty=True, copy=False)
    graph = resolved.graph
    return CompiledQuery(
        sql=sql,
        dialect=dialect,
        fields=tuple(_meta(f) for f in resolved.fields),
        topic=graph.topic.name,
        views=tuple(dict.fromkeys(graph.nodes[a] for a in plan.aliases)),
        plan=plan,
    )
