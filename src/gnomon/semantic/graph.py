"""A topic's join tree and its fields' SQL, built once per (model, topic) and cached.

The tree is rooted at the topic's base view. Every node is an *alias* (a view name, or the
``join_to_view_as`` name of an aliased relationship) and every edge carries the relationship
type oriented from parent to child: that orientation is what the planner reads to decide whether
a measure's rows can be fanned out by the joins a query needs.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from gnomon.errors import Issue
from gnomon.semantic.expressions import SnippetError, bind, parse_snippet, split_ref, wrap
from gnomon.semantic.model import (
    Dimension,
    JoinType,
    Measure,
    Relationship,
    RelationshipType,
    SemanticModel,
    Topic,
    View,
)

FLIP: dict[str, RelationshipType] = {
    "many_to_one": "one_to_many",
    "one_to_many": "many_to_one",
    "one_to_one": "one_to_one",
    "many_to_many": "many_to_many",
}
FANS_OUT: frozenset[str] = frozenset({"one_to_many", "many_to_many"})


class ResolveError(Exception):
    """A reference inside model SQL that cannot be resolved in this topic."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Edge:
    """One join of the tree, oriented parent → child."""

    parent: str
    child: str
    relationship: Relationship
    reverse: bool

    @property
    def type(self) -> RelationshipType:
        rel_type = self.relationship.relationship_type
        return FLIP[rel_type] if self.reverse else rel_type

    @property
    def join_type(self) -> JoinType:
        return self.relationship.join_type


@dataclass(frozen=True)
class FieldRef:
    """A field of a node of the tree."""

    alias: str
    view: str
    name: str
    field: Dimension | Measure

    @property
    def is_measure(self) -> bool:
        return isinstance(self.field, Measure)

    @property
    def qualified(self) -> str:
        return f"{self.alias}.{self.name}"


def _rel_edges(model: SemanticModel) -> dict[str, list[tuple[str, Relationship, bool]]]:
    """Adjacency over aliases: both directions of every relationship."""
    adj: dict[str, list[tuple[str, Relationship, bool]]] = {}
    for rel in model.relationships:
        adj.setdefault(rel.join_from_view, []).append((rel.target_alias, rel, False))
        adj.setdefault(rel.target_alias, []).append((rel.join_from_view, rel, True))
    return adj


@dataclass
class TopicGraph:
    """Join tree + field lookup for one topic. Build with :func:`topic_graph`."""

    model: SemanticModel
    topic: Topic
    nodes: dict[str, str] = field(default_factory=dict)  # alias -> view name
    edges: dict[str, Edge] = field(default_factory=dict)  # child alias -> edge from its parent
    issues: list[Issue] = field(default_factory=list)
    visible: dict[str, FieldRef] = field(default_factory=dict)  # "alias.name" -> ref
    by_name: dict[str, list[FieldRef]] = field(default_factory=dict)
    _dim_cache: dict[tuple[str, str], tuple[exp.Expr, frozenset[str]]] = field(default_factory=dict)
    _on_cache: dict[str, tuple[exp.Expr | None, frozenset[str]]] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.topic.base_view

    @property
    def dialect(self) -> str:
        return self.model.settings.dialect or "duckdb"

    def view(self, alias: str) -> View:
        return self.model.views[self.nodes[alias]]

    def path(self, alias: str) -> list[Edge]:
        """Edges from the base down to ``alias``."""
        out: list[Edge] = []
        while alias in self.edges:
            edge = self.edges[alias]
            out.append(edge)
            alias = edge.parent
        return list(reversed(out))

    def node_for_view(self, name: str) -> str | None:
        """The alias a ``${view.field}`` reference means: the alias itself, else the only
        node showing that view."""
        if name in self.nodes:
            return name
        matches = [a for a, v in self.nodes.items() if v == name]
        return matches[0] if len(matches) == 1 else None

    # ---- building -------------------------------------------------------------------------

    def _issue(self, message: str, *path: str | int, code: str, hint: str | None) -> None:
        loc = self.model.loc("topics", self.topic.name, *path)
        self.issues.append(
            Issue(
                message=message,
                path=("topics", self.topic.name, *path),
                code=code,
                hint=hint,
                file=loc.file,
                line=loc.line,
            )
        )

    def _shortest(
        self, adj: Mapping[str, list[tuple[str, Relationship, bool]]], start: str, goal: str
    ) -> list[list[tuple[str, str, Relationship, bool]]]:
        """All shortest relationship paths start → goal that avoid nodes already in the tree."""
        frontier: list[list[tuple[str, str, Relationship, bool]]] = [[]]
        seen = {start}
        while frontier:
            nxt: list[list[tuple[str, str, Relationship, bool]]] = []
            found: list[list[tuple[str, str, Relationship, bool]]] = []
            level_seen: set[str] = set()
            for path in frontier:
                here = path[-1][1] if path else start
                for target, rel, rev in adj.get(here, []):
                    if target in seen or (target in self.nodes and target != goal):
                        continue
                    step = [*path, (here, target, rel, rev)]
                    if target == goal:
                        found.append(step)
                    else:
                        nxt.append(step)
                        level_seen.add(target)
            if found:
                return found
            seen |= level_seen
            frontier = nxt
        return []

    def _add_path(self, steps: list[tuple[str, str, Relationship, bool]]) -> None:
        for parent, child, rel, rev in steps:
            if child in self.nodes:
                continue
            self.nodes[child] = rel.join_from_view if rev else rel.join_to_view
            self.edges[child] = Edge(parent=parent, child=child, relationship=rel, reverse=rev)

    def _join_nested(
        self,
        adj: Mapping[str, list[tuple[str, Relationship, bool]]],
        parent: str,
        joins: Mapping[str, Any],
        path: tuple[str, ...],
    ) -> None:
        for key, sub in joins.items():
            where = ("joins", *path, key)
            if key in self.nodes:
                self._issue(
                    f"join cycle: '{key}' is already joined in topic '{self.topic.name}'",
                    *where,
                    code="join_cycle",
                    hint=f"Join '{key}' once; nest the views that need it under that one join.",
                )
                continue
            paths = self._shortest(adj, parent, key)
            if not paths:
                known = sorted({r.target_alias for r in self.model.relationships} | set(adj))
                close = difflib.get_close_matches(key, known, n=1)
                self._issue(
                    f"no relationship connects '{parent}' to '{key}'",
                    *where,
                    code="unknown_join",
                    hint=(f"Did you mean '{close[0]}'? " if close else "")
                    + f"Add a relationship between '{parent}' and '{key}'.",
                )
                continue
            if len(paths) > 1:
                shown = [" -> ".join([parent, *(s[1] for s in p)]) for p in paths]
                self._issue(
                    f"ambiguous join path from '{parent}' to '{key}': {'; '.join(shown)}",
                    *where,
                    code="ambiguous_join_path",
                    hint="Nest the intermediate view explicitly in `joins` to pick one path.",
                )
            self._add_path(paths[0])
            if isinstance(sub, Mapping) and sub:
                self._join_nested(adj, key, sub, (*path, key))

    def _join_all(self, adj: Mapping[str, list[tuple[str, Relationship, bool]]]) -> None:
        """No ``joins``: every view reachable from the base, by the shortest path."""
        queue: deque[str] = deque([self.base])
        depth = {self.base: 0}
        while queue:
            here = queue.popleft()
            for target, rel, rev in adj.get(here, []):
                if target not in depth:
                    depth[target] = depth[here] + 1
                    self._add_path([(here, target, rel, rev)])
                    queue.append(target)
                elif depth[target] == depth[here] + 1 and self.edges[target].parent != here:
                    self._issue(
                        f"ambiguous join path to '{target}' (via '{self.edges[target].parent}'"
                        f" or '{here}')",
                        "base_view",
                        code="ambiguous_join_path",
                        hint="List the views to join in `joins` to pick one path.",
                    )

    def _curate(self) -> None:
        everything: dict[str, FieldRef] = {}
        for alias, view_name in self.nodes.items():
            view = self.model.views.get(view_name)
            if view is None:
                continue
            fields: list[tuple[str, Dimension | Measure]] = [
                *view.dimensions.items(),
                *view.measures.items(),
            ]
            for name, fld in fields:
                everything[f"{alias}.{name}"] = FieldRef(alias, view_name, name, fld)
        patterns = self.topic.fields
        if patterns is None or all(p.startswith("-") for p in patterns):
            chosen = dict(everything)
        else:
            chosen = {}
        for i, pattern in enumerate(patterns or ()):
            negate = pattern.startswith("-")
            body = pattern[1:] if negate else pattern
            matched = [k for k in everything if _matches(body, k)]
            if not matched:
                self._issue(
                    f"field pattern '{pattern}' matches nothing in topic '{self.topic.name}'",
                    "fields",
                    i,
                    code="curation_no_match",
                    hint="Use 'view.field', 'view.*' or 'all_views.*' with a joined view.",
                )
            for key in matched:
                if negate:
                    chosen.pop(key, None)
                else:
                    chosen[key] = everything[key]
        self.visible = chosen
        for ref in chosen.values():
            self.by_name.setdefault(ref.name, []).append(ref)

    # ---- field SQL ------------------------------------------------------------------------

    def lookup(self, alias: str, name: str) -> FieldRef | None:
        view = self.nodes.get(alias)
        if view is None or view not in self.model.views:
            return None
        fld = self.model.views[view].field(name)
        return None if fld is None else FieldRef(alias, view, name, fld)

    def resolve_ref(self, alias: str, ref: str) -> FieldRef:
        """A ``${}`` reference written in ``alias``'s view."""
        view_name, name = split_ref(ref)
        target = alias if view_name is None else self.node_for_view(view_name)
        if target is None:
            raise ResolveError(
                f"'${{{ref}}}' refers to view '{view_name}', which topic "
                f"'{self.topic.name}' does not join",
                f"Join '{view_name}' in the topic.",
            )
        found = self.lookup(target, name)
        if found is None:
            view = self.model.views.get(self.nodes[target])
            names = [*view.dimensions, *view.measures] if view else []
            close = difflib.get_close_matches(name, names, n=1)
            raise ResolveError(
                f"unknown field '${{{ref}}}'",
                f"Did you mean '{close[0]}'?" if close else None,
            )
        return found

    def dimension_sql(
        self, alias: str, name: str, _stack: tuple[tuple[str, str], ...] = ()
    ) -> tuple[exp.Expr, frozenset[str]]:
        """The dimension's expression (columns qualified by alias) and the aliases it reads."""
        key = (alias, name)
        cached = self._dim_cache.get(key)
        if cached is not None:
            return cached
        if key in _stack:
            raise ResolveError(
                "reference cycle: " + " -> ".join(f"{a}.{n}" for a, n in (*_stack, key))
            )
        ref = self.lookup(alias, name)
        if ref is None or not isinstance(ref.field, Dimension):
            raise ResolveError(f"unknown dimension '{alias}.{name}'")
        deps: set[str] = {alias}
        if ref.field.sql is None:
            result: tuple[exp.Expr, frozenset[str]] = (
                exp.column(name, table=alias, quoted=False),
                frozenset(deps),
            )
        else:

            def resolve(r: str) -> exp.Expr:
                target = self.resolve_ref(alias, r)
                if target.is_measure:
                    raise ResolveError(
                        f"dimension '{alias}.{name}' refers to measure '${{{r}}}'",
                        "Dimensions can only refer to dimensions.",
                    )
                sub, sub_deps = self.dimension_sql(target.alias, target.name, (*_stack, key))
                deps.update(sub_deps)
                return wrap(sub.copy())

            try:
                tree, refs = parse_snippet(ref.field.sql, self.dialect)
            except SnippetError as err:
                raise ResolveError(f"cannot parse the SQL of '{alias}.{name}': {err}") from err
            expression = bind(tree, refs, table_alias=alias, resolve=resolve)
            result = (expression, frozenset(deps))
        self._dim_cache[key] = result
        return result

    def join_condition(self, child: str) -> tuple[exp.Expr | None, frozenset[str]]:
        """The ON condition of the edge into ``child`` (None for a cross join)."""
        if child in self._on_cache:
            return self._on_cache[child]
        edge = self.edges[child]
        rel = edge.relationship
        from_alias, to_alias = (child, edge.parent) if edge.reverse else (edge.parent, child)
        deps: set[str] = set()
        if rel.on_sql is None:
            result: tuple[exp.Expr | None, frozenset[str]] = (None, frozenset())
        else:

            def resolve(r: str) -> exp.Expr:
                view_name, name = split_ref(r)
                if view_name == rel.join_from_view:
                    alias = from_alias
                elif view_name in (rel.join_to_view, rel.join_to_view_as):
                    alias = to_alias
                else:
                    raise ResolveError(
                        f"on_sql of {rel.join_from_view} -> {rel.target_alias} refers to "
                        f"'${{{r}}}'",
                        "on_sql may only refer to the two views it joins.",
                    )
                sub, sub_deps = self.dimension_sql(alias, name)
                deps.update(sub_deps)
                return wrap(sub.copy())

            try:
                tree, refs = parse_snippet(rel.on_sql, self.dialect)
            except SnippetError as err:
                raise ResolveError(f"cannot parse on_sql: {err}") from err
            result = (bind(tree, refs, table_alias=None, resolve=resolve), frozenset(deps))
        self._on_cache[child] = result
        return result

    def iter_fields(self) -> Iterator[FieldRef]:
        return iter(self.visible.values())


def _matches(pattern: str, key: str) -> bool:
    view, _, name = pattern.partition(".")
    key_view, _, key_name = key.partition(".")
    if not name:
        return False
    if view not in ("all_views", "*", key_view):
        return False
    return name in ("*", key_name)


def topic_graph(model: SemanticModel, topic_name: str) -> TopicGraph:
    """The (cached) join tree of a topic; problems found are in ``.issues``."""
    key = f"topic:{topic_name}"
    cached = model.cache.get(key)
    if isinstance(cached, TopicGraph):
        return cached
    topic = model.topics[topic_name]
    graph = TopicGraph(model=model, topic=topic)
    if topic.base_view not in model.views:
        close = difflib.get_close_matches(topic.base_view, list(model.views), n=1)
        graph._issue(
            f"base_view '{topic.base_view}' is not a view",
            "base_view",
            code="unknown_base_view",
            hint=f"Did you mean '{close[0]}'?" if close else "Define the view or fix the name.",
        )
    else:
        graph.nodes[topic.base_view] = topic.base_view
        adj = _rel_edges(model)
        if topic.joins is None:
            graph._join_all(adj)
        else:
            graph._join_nested(adj, topic.base_view, topic.joins, ())
        missing = [a for a, v in graph.nodes.items() if v not in model.views]
        for alias in missing:
            graph.nodes.pop(alias)
            graph.edges.pop(alias, None)
        graph._curate()
    model.cache[key] = graph
    return graph


__all__ = ["FANS_OUT", "FLIP", "Edge", "FieldRef", "ResolveError", "TopicGraph", "topic_graph"]
