"""``${}`` references in user SQL snippets.

Snippets are parsed by sqlglot, never pasted: each ``${ref}`` is first replaced by a placeholder
identifier, the snippet is parsed in the model's dialect, and the placeholder column nodes are
then swapped for the referenced field's own expression tree. The parse is cached per
``(sql, dialect)`` because the same snippets are compiled over and over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from gnomon.errors import Issue

REF_RE = re.compile(r"\$\{\s*([^}]*?)\s*\}")
# Token positions the parser records in ``node.meta``; the generator never reads them.
_POSITION_KEYS: tuple[str, ...] = ("line", "col", "start", "end")
TABLE_REF = "TABLE"
_PLACEHOLDER = "__gnomon_ref_"
_TABLE_PLACEHOLDER = "__gnomon_table__"


class SnippetError(ValueError):
    """A snippet that sqlglot cannot parse."""


def references(sql: str | None) -> list[str]:
    """The ``${}`` references of a snippet, in order (``TABLE`` included)."""
    return [m.group(1) for m in REF_RE.finditer(sql or "")]


def strip_positions(tree: exp.Expr) -> exp.Expr:
    """Drop the parser's token positions from a freshly parsed tree that is about to be cached.

    They point into the snippet's own text, which no output refers to, and every copy of a
    cached tree deep-copied their dicts (most of the cost of copying it). Other meta keys
    (a function's original spelling, BigQuery's quoting marks) affect the SQL and are kept.
    """
    for node in tree.walk():
        meta = node._meta
        if meta:
            for key in _POSITION_KEYS:
                meta.pop(key, None)
            if not meta:
                node._meta = None
    return tree


def split_ref(ref: str) -> tuple[str | None, str]:
    """``"orders.amount"`` → ``("orders", "amount")``; ``"amount"`` → ``(None, "amount")``."""
    if "." in ref:
        view, _, field = ref.partition(".")
        return view, field
    return None, ref


@lru_cache(maxsize=4096)
def _parse(sql: str, dialect: str) -> tuple[exp.Expr, tuple[str, ...]]:
    refs: list[str] = []

    def repl(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref == TABLE_REF:
            return _TABLE_PLACEHOLDER
        refs.append(ref)
        return f"{_PLACEHOLDER}{len(refs) - 1}"

    text = REF_RE.sub(repl, sql)
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except (ParseError, sqlglot.errors.TokenError) as err:
        raise SnippetError(str(err).splitlines()[0]) from err
    if tree is None:
        raise SnippetError("empty SQL")
    return strip_positions(tree), tuple(refs)


def parse_snippet(sql: str, dialect: str) -> tuple[exp.Expr, tuple[str, ...]]:
    """Parse ``sql`` with ``${}`` placeholders; returns a private copy of the tree."""
    tree, refs = _parse(sql, dialect)
    return tree.copy(), refs


def bind(
    tree: exp.Expr,
    refs: tuple[str, ...],
    *,
    table_alias: str | None,
    resolve: Callable[[str], exp.Expr],
    qualify_bare: bool = True,
) -> exp.Expr:
    """Replace placeholders with resolved expressions and qualify bare columns.

    Bare columns (no table) in a dimension snippet mean the view's own columns, so they are
    qualified with the view's alias: the same snippet stays right once other views are joined.
    ``tree`` is modified in place (pass a private copy); ``resolve`` must return a tree of its
    own (e.g. a copy of a cached one), which is placed as is.
    """
    resolved: Mapping[str, exp.Expr] = {
        f"{_PLACEHOLDER}{i}": resolve(ref) for i, ref in enumerate(refs)
    }
    placed: set[str] = set()

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column):
            name = node.name
            table = node.table
            if not table and name in resolved:
                if name in placed:  # the same placeholder twice: never share a node
                    return resolved[name].copy()
                placed.add(name)
                return resolved[name]
            if table == _TABLE_PLACEHOLDER:
                return exp.column(name, table=table_alias) if table_alias else exp.column(name)
            if qualify_bare and not table and table_alias and not name.startswith(_PLACEHOLDER):
                return exp.column(node.this.copy(), table=table_alias)
        return node

    if isinstance(tree, exp.Column):
        return swap(tree)
    return tree.transform(swap, copy=False)


def wrap(expression: exp.Expr) -> exp.Expr:
    """Parenthesise compound expressions so substitution keeps operator precedence."""
    if isinstance(expression, exp.Binary | exp.Not | exp.Neg) and not isinstance(
        expression, exp.Dot
    ):
        return exp.Paren(this=expression)
    return expression


def summarise(what: str, issues: Sequence[Issue]) -> str:
    """A one-line error message naming the first problems (details carry all of them)."""
    shown = "; ".join(i.message for i in issues[:3])
    more = f" (+{len(issues) - 3} more)" if len(issues) > 3 else ""
    return f"the {what} has {len(issues)} problem(s): {shown}{more}"
