"""Tiles: ids and defaults, and checking tile queries against a semantic model (pure, no I/O).

A tile's query is compiled with the model's compiler exactly as the Query API would; every
problem of every tile is collected and reported at once, each located inside the request body.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from gnomon.content.schemas import DEFAULT_VISUALIZATION, TileIn
from gnomon.errors import GnomonError, Invalid, Issue
from gnomon.semantic import SemanticModel, compile_query

QUERY_TILES = ("query", "metric")


def build_tiles(
    raw: Sequence[TileIn], *, prefix: tuple[str | int, ...] = ("tiles",)
) -> tuple[list[dict[str, Any]], list[Issue]]:
    """Stored form of the tiles: ids assigned, visualizations defaulted, shape rules checked."""
    issues: list[Issue] = []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, tile in enumerate(raw):
        tile_id = tile.id or "t" + uuid.uuid4().hex[:10]
        if tile_id in seen:
            issues.append(
                Issue(f"tile id {tile_id!r} is used twice", (*prefix, i, "id"), code="duplicate")
            )
        seen.add(tile_id)
        if tile.type in QUERY_TILES and tile.query is None:
            issues.append(
                Issue(
                    f"a {tile.type} tile needs a query",
                    (*prefix, i, "query"),
                    code="missing",
                    hint='give {"topic": …, "measures": […]}',
                )
            )
        if tile.type == "markdown" and tile.query is not None:
            issues.append(
                Issue(
                    "a markdown tile has no query",
                    (*prefix, i, "query"),
                    hint="use type query or metric for data tiles",
                )
            )
        if tile.query is not None and not (tile.query.dimensions or tile.query.measures):
            issues.append(
                Issue(
                    "a tile query needs at least one dimension or measure",
                    (*prefix, i, "query"),
                    code="empty_query",
                )
            )
        stored = tile.model_dump(mode="json", exclude_none=True)
        stored["id"] = tile_id
        stored["title"] = tile.title
        stored["visualization"] = tile.visualization or DEFAULT_VISUALIZATION[tile.type]
        out.append(stored)
    return out, issues


def _compile_issues(
    model: SemanticModel, dialect: str, query: Mapping[str, Any]
) -> list[Issue] | None:
    try:
        compile_query(model, query, dialect=dialect)
    except Invalid as exc:
        return exc.issues or [Issue(exc.message)]
    except GnomonError as exc:
        return [Issue(exc.message)]
    return None


def check_tiles(
    model: SemanticModel,
    dialect: str,
    tiles: Sequence[Mapping[str, Any]],
    *,
    prefix: tuple[str | int, ...] = ("tiles",),
) -> list[Issue]:
    """Every problem of every tile's query against ``model``, paths inside the body."""
    issues: list[Issue] = []
    for i, tile in enumerate(tiles):
        query = tile.get("query")
        if tile.get("type") not in QUERY_TILES or not query:
            continue
        found = _compile_issues(model, dialect, query)
        for issue in found or []:
            issues.append(
                Issue(
                    issue.message,
                    (*prefix, i, "query", *issue.path),
                    code=issue.code,
                    hint=issue.hint,
                )
            )
    return issues


def applicable_filters(
    model: SemanticModel,
    dialect: str,
    query: Mapping[str, Any],
    filters: Mapping[str, Any],
) -> tuple[dict[str, Any], list[str]]:
    """Which dashboard filters apply to one tile: those naming a field of the tile's topic with
    a value the compiler accepts. Returns (applicable, skipped keys)."""
    applied: dict[str, Any] = {}
    skipped: list[str] = []
    base = {k: v for k, v in query.items() if k != "filters"}
    for key, value in filters.items():
        probe = {**base, "filters": {key: value}}
        if _compile_issues(model, dialect, probe) is None:
            applied[key] = value
        else:
            skipped.append(key)
    return applied, skipped


def check_default_filters(
    model: SemanticModel,
    dialect: str,
    tiles: Sequence[Mapping[str, Any]],
    default_filters: Mapping[str, Any],
) -> list[Issue]:
    """A default filter must apply to at least one query tile (else it filters nothing)."""
    queries = [t["query"] for t in tiles if t.get("type") in QUERY_TILES and t.get("query")]
    if not queries or not default_filters:
        return []
    used: set[str] = set()
    for q in queries:
        applied, _ = applicable_filters(model, dialect, q, default_filters)
        used |= set(applied)
    return [
        Issue(
            f"default filter {key!r} applies to no tile: no tile's topic has that field, or the "
            "value is not valid for it",
            ("default_filters", key),
            code="unused_filter",
            hint="name a field of one of the tiles' topics",
        )
        for key in default_filters
        if key not in used
    ]


def field_of(query: Mapping[str, Any], path: Sequence[str | int]) -> str | None:
    """The field a compiler issue is about, read from the query the issue points into."""
    if not path:
        return None
    head = path[0]
    if head in ("dimensions", "measures") and len(path) > 1 and isinstance(path[1], int):
        items = query.get(str(head)) or []
        return str(items[path[1]]) if path[1] < len(items) else None
    if head == "filters" and len(path) > 1:
        return str(path[1])
    if head == "sorts" and len(path) > 1 and isinstance(path[1], int):
        sorts = query.get("sorts") or []
        if path[1] < len(sorts):
            s = sorts[path[1]]
            return str(s.get("field") if isinstance(s, Mapping) else s).lstrip("-")
    if head == "topic":
        return str(query.get("topic"))
    return None
