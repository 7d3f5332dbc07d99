"""Model validation: independent rule objects, every issue reported at once.

Each rule has a ``code`` and yields :class:`~gnomon.errors.Issue` objects pointing at the file
and line the problem was written on, with a hint that says how to fix it. Rules never stop at
the first problem: a modeler should see the whole list after one save.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol

from gnomon.errors import Issue
from gnomon.semantic.expressions import (
    TABLE_REF,
    SnippetError,
    parse_snippet,
    references,
    split_ref,
)
from gnomon.semantic.graph import ResolveError, topic_graph
from gnomon.semantic.model import AGGREGATE_TYPES, Dimension, Measure, SemanticModel, View
from gnomon.semantic.timegrains import GRAINS

_TIMEFRAME_ALIASES = frozenset({"day"})


class Rule(Protocol):
    code: ClassVar[str]

    def check(self, model: SemanticModel) -> Iterator[Issue]: ...


def _issue(
    model: SemanticModel, code: str, message: str, path: tuple[str | int, ...], hint: str | None
) -> Issue:
    loc = model.loc(*path)
    return Issue(message=message, path=path, code=code, hint=hint, file=loc.file, line=loc.line)


def _fields(model: SemanticModel) -> Iterator[tuple[View, str, Dimension | Measure, str]]:
    for view in model.views.values():
        for name, dim in view.dimensions.items():
            yield view, name, dim, "dimensions"
        for mname, measure in view.measures.items():
            yield view, mname, measure, "measures"


def _targets(model: SemanticModel) -> dict[str, str]:
    """Names a ``${view.field}`` may use: views and relationship aliases → view name."""
    out = {name: name for name in model.views}
    for rel in model.relationships:
        if rel.join_to_view_as:
            out[rel.join_to_view_as] = rel.join_to_view
    return out


@dataclass(frozen=True)
class UnknownReference:
    """``${field}`` / ``${view.field}`` that names nothing (with a did-you-mean hint)."""

    code: ClassVar[str] = "unknown_reference"

    def check(self, model: SemanticModel) -> Iterator[Issue]:
        targets = _targets(model)
        for view, name, fld, section in _fields(model):
            snippets: list[tuple[str, str | None]] = [("sql", fld.sql)]
            if isinstance(fld, Measure):
                snippets.append(("custom_primary_key_sql", fld.custom_primary_key_sql))
                snippets.extend((f"filters/{k}", "${" + k + "}") for k in fld.filters)
                if fld.period_over_period is not None:
                    snippets.append(
                        ("period_over_period", "${" + fld.period_over_period.measure + "}")
                    )
            for key, sql in snippets:
                for ref in references(sql):
                    if ref == TABLE_REF:
                        continue
                    problem = self._resolve(model, targets, view, ref)
                    if problem is not None:
                        message, hint = problem
                        path = ("views", view.name, section, name, *key.split("/"))
                        yield _issue(model, self.code, message, path, hint)
        for i, rel in enumerate(model.relationships):
            for ref in references(rel.on_sql):
                view_name, _ = split_ref(ref)
                if view_name is None:
                    yield _issue(
                        model,
                        self.code,
                        f"on_sql reference '${{{ref}}}' must name its view",
                        ("relationships", i, "on_sql"),
                        "Write '${view.field}'.",
                    )
                    continue
                if view_name not in targets:
                    continue  # reported by UnknownRelationshipView
                problem = self._resolve(model, targets, model.views[targets[view_name]], ref)
                if problem is not None:
                    yield _issue(
                        model, self.code, problem[0], ("relationships", i, "on_sql"), problem[1]
                    )

    @staticmethod
    def _resolve(
        model: SemanticModel, targets: dict[str, str], view: View, ref: str
    ) -> tuple[str, str | None] | None:
        view_name, field = split_ref(ref)
        target = view if view_name is None else model.views.get(targets.get(view_name, ""))
        if target is None:
            close = difflib.get_close_matches(view_name or "", list(targets), n=1)
            return (
                f"'${{{ref}}}' refers to unknown view '{view_name}'",
                f"Did you mean '{close[0]}'?" if close else "Define the view or fix the name.",
            )
        if target.field(field) is None:
            names = [*target.dimensions, *target.measures]
            close = difflib.get_close_matches(field, names, n=1)
            return (
                f"'${{{ref}}}' refers to unknown field '{field}' of view '{target.name}'",
                f"Did you mean '{close[0]}'?" if close else f"Fields: {', '.join(names)}.",
            )
        return None


@dataclass(frozen=True)
class ReferenceCycle:
    code: ClassVar[str] = "reference_cycle"

    def check(self, model: SemanticModel) -> Iterator[Issue]:
        targets = _targets(model)
        edges: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for view, name, fld, _ in _fields(model):
            outs: list[tuple[str, str]] = []
            refs = references(fld.sql)
            if isinstance(fld, Measure) and fld.period_over_period is not None:
                refs.append(fld.period_over_period.measure)
            for ref in refs:
                if ref == TABLE_REF:
                    continue
                view_name, field = split_ref(ref)
                outs.append((view.name if view_name is None else targets.get(view_name, ""), field))
            edges[(view.name, name)] = outs
        reported: set[frozenset[tuple[str, str]]] = set()
        state: dict[tuple[str, str], int] = {}

        def visit(node: tuple[str, str], stack: list[tuple[str, str]]) -> Iterator[Issue]:
            state[node] = 1
            stack.append(node)
            for nxt in edges.get(node, []):
                if state.get(nxt) == 1:
                    cycle = stack[stack.index(nxt) :]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        view, name = cycle[0]
                        section = (
                            "dimensions" if name in model.views[view].dimensions else "measures"
                        )
                        chain = " -> ".join(f"{v}.{f}" for v, f in (*cycle, nxt))
                        yield _issue(
                            model,
                            self.code,
                            f"reference cycle: {chain}",
                            ("views", view, section, name, "sql"),
                            "Break the cycle: one of these fields must use a column, not a reference.",
                        )
                elif state.get(nxt) is None and nxt in edges:
                    yield from visit(nxt, stack)
            stack.pop()
            state[node] = 2

        for node in list(edges):
            if node not in state:
                yield from visit(node, [])


@dataclass(frozen=True)
class UnknownRelationshipView:
    code: ClassVar[str] = "unknown_view"

    def check(self, model: SemanticModel) -> Iterator[Issue]:
        for i, rel in enumerate(model.relationships):
            for key in ("join_from_view", "join_to_view"):
                name = getattr(rel, key)
                if name not in model.views:
                    close = difflib.get_close_matches(name, list(model.views), n=1)
                    yield _issue(
                        model,
                        self.code,
                        f"relationship {i + 1} joins unknown view '{name}'",
                        ("relationships", i, key),
                        f"Did you mean '{close[0]}'?"
                        if close
                        else "Define the view or fix the name.",
                    )


@dataclass(frozen=True)
class AggregateTypes:
    """Unknown aggregate types and percentile without N."""

    code: ClassVar[str] = "unknown_aggregate_type"

    def check(self, model: SemanticModel) -> Iterator[Issue]:
        for view in model.views.values():
            for name, measure in view.measures.items():
                path = ("views", view.name, "measures", name)
                agg = measure.aggregate_type
                if agg is not None and agg not in AGGREGATE_TYPES:
                    close = difflib.get_close_matches(agg, AGGREGATE_TYPES, n=1)
                    yield _issue(
                        model,
                        self.code,
                        f"unknown aggregate_type '{agg}' on measure '{view.name}.{name}'",
                        (*path, "aggregate_type"),
                        f"Did you mean '{close[0]}'?"
                        if close
                        else f"One of: {', '.join(AGGREGATE_TYPES)}.",
                    )
                if agg == "percentile" and (
                    measure.percentile is None or not 0 <= measure.percentile <= 100
                ):
                    yield _issue(
                        model,
                        "percentile_without_n",
                        f"percentile measure '{view.name}.{name}' needs `percentile: N`",
                        path,
                        "Add e.g. `percentile: 0.9` (a fraction; values above 1 are read as percent).",
                    )
                if agg is None and measure.period_over_period is None and not measure.sql:
                    yield _issue(
                        model,
                        "empty_measure",
                        f"measure '{view.name}.{name}' has neither aggregate_type nor sql",
                        path,
                        "Add aggregate_type (and sql), or sql over other measures.",
                    )


@dataclass(frozen=True)
class Timeframes:
    code: ClassVar[str] = "bad_timeframe"

    def check(self, model: SemanticModel) -> Iterator[Issue]:
        for view in model.views.values():
            for name, dim in view.dimensions.items():
                for i, tf in enumerate(dim.timeframes or ()):
                    if tf not in GRAINS and tf not in _TIMEFRAME_ALIASES:
                        close = difflib.get_close_matches(tf, GRAINS, n=1)
                        yield _issue(
                            model,
                            self.code,
                            f"unknown timeframe '{tf}' on '{view.name}.{name}'",
                            ("views", view.name, "dimensions", name, "timeframes", i),
                            f"Did you mean '{close[0]}'?"
                            if close
                            else f"One of: {', '.join(GRAINS)}.",
                        )


@dataclass(frozen=True)
class DuplicateNames:
    code: ClassVar[str] = "duplicate_name"

    def check(self, model: SemanticModel) -> Iterator[Issue]:
        for view in model.views.values():
            for name in set(view.dimensions) & set(view.measures):
                yield _issue(
                    model,
                    self.code,
                    f"'{view.name}.{name}' is both a dimension and a measure",
                    ("views", view.name, "measures", name),
                    "Rename one of them (e.g. the measure to 'total_" + name + "').",
                )
            keys = [n for n, d in view.dimensions.items() if d.primary_key]
            if len(keys) > 1:
                yield _issue(
                    model,
                    "multiple_primary_keys",
                    f"view '{view.name}' has several primary keys: {', '.join(keys)}",
                    ("views", view.name, "dimensions", keys[1]),
                    "Mark one dimension as primary_key; use a compound sql key if needed.",
                )


@dataclass(frozen=True)
class ViewSource:
    code: ClassVar[str] = "missing_source"

    def check(self, model: SemanticModel) -> Iterator[Issue]:
        for view in model.views.values():
            if not view.table_name and not view.sql:
                yield _issue(
                    model,
                    self.code,
                    f"view '{view.name}' has neither table_name nor sql",
                    ("views", view.name),
                    "Add `table_name:` (and `schema:`) or `sql:` for a derived view.",
                )
            elif view.table_name and view.sql:
                yield _issue(
                    model,
                    "conflicting_source",
                    f"view '{view.name}' has both table_name and sql",
                    ("views", view.name, "sql"),
                    "Keep one: table_name for a table, sql for a derived view.",
                )
            if view.sql:
                try:
                    parse_snippet(view.sql, model.settings.dialect or "duckdb")
                except SnippetError as err:
                    yield _issue(
                        model,
                        "bad_sql",
                        f"view '{view.name}' sql: {err}",
                        ("views", view.name, "sql"),
                        None,
                    )


@dataclass(frozen=True)
class TopicRules:
    """Topic structure: base view, joins (cycles, ambiguity), curation, access filters,
    default time dimension, and measures whose references leave the topic."""

    code: ClassVar[str] = "topic"

    def check(self, model: SemanticModel) -> Iterator[Issue]:
        for name, topic in model.topics.items():
            graph = topic_graph(model, name)
            yield from graph.issues
            if topic.base_view not in model.views:
                continue
            for i, acc in enumerate(topic.access_filters):
                yield from self._field(
                    model,
                    graph,
                    acc.field,
                    ("topics", name, "access_filters", i, "field"),
                    "unknown_access_field",
                )
            if topic.default_time_dimension:
                yield from self._field(
                    model,
                    graph,
                    topic.default_time_dimension,
                    ("topics", name, "default_time_dimension"),
                    "unknown_field",
                )
            for section in ("default_filters", "always_where_filters"):
                for key in getattr(topic, section):
                    yield from self._field(
                        model, graph, key, ("topics", name, section, key), "unknown_field"
                    )
            for ref in graph.visible.values():
                fld = ref.field
                try:
                    if isinstance(fld, Dimension):
                        graph.dimension_sql(ref.alias, ref.name)
                    else:
                        for r in references(fld.sql):
                            if r != TABLE_REF and split_ref(r)[0] is not None:
                                graph.resolve_ref(ref.alias, r)
                except ResolveError as err:
                    if "unknown field" in err.message or "cycle" in err.message:
                        continue  # reported by the model-wide rules
                    section = "dimensions" if isinstance(fld, Dimension) else "measures"
                    yield _issue(
                        model,
                        "unreachable_view",
                        f"topic '{name}': {ref.qualified}: {err.message}",
                        ("views", ref.view, section, ref.name, "sql"),
                        err.hint or f"Join the view in topic '{name}', or hide the field there.",
                    )
        for key in ("enabled_topics",):
            for i, topic_name in enumerate(getattr(model.settings, key) or ()):
                if topic_name not in model.topics:
                    yield _issue(
                        model,
                        "unknown_topic",
                        f"enabled topic '{topic_name}' is not defined",
                        ("settings", "topics", i),
                        "Define the topic or remove it from the list.",
                    )

    @staticmethod
    def _field(
        model: SemanticModel, graph: object, field: str, path: tuple[str | int, ...], code: str
    ) -> Iterator[Issue]:
        from gnomon.semantic.graph import TopicGraph
        from gnomon.semantic.query import _Resolver

        assert isinstance(graph, TopicGraph)
        probe = _Resolver(graph)
        base = field.split("[", 1)[0]
        if probe.field(base, path, prefer_base=code == "unknown_access_field") is None:
            problem = probe.issues[0] if probe.issues else None
            yield _issue(
                model,
                code,
                f"{problem.message if problem else 'unknown field ' + field}",
                path,
                problem.hint if problem and problem.hint else "Use 'view.field' of a joined view.",
            )


RULES: tuple[Rule, ...] = (
    UnknownReference(),
    ReferenceCycle(),
    UnknownRelationshipView(),
    AggregateTypes(),
    Timeframes(),
    DuplicateNames(),
    ViewSource(),
    TopicRules(),
)


def validate(model: SemanticModel) -> list[Issue]:
    """Every problem of ``model`` (empty list: valid). Topic join trees are cached as a side
    effect, so a validated model compiles its first query faster."""
    issues: list[Issue] = []
    for rule in RULES:
        issues.extend(rule.check(model))
    return issues
