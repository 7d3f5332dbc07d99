"""Derived-table views (``sql:`` views) spliced into the output as pre-rendered SQL text.

A derived table is usually the largest subtree of a compiled query (the demo's ``customers``
view is a three-way join with two grouped subqueries), and it never changes between compiles:
deep-copying its parsed tree and generating it again on every compile was most of the compile
time. sqlglot's pretty generator renders a subquery's body on its own and then indents the
resulting text (``Generator.wrap`` → ``Generator.indent``), so the body can be rendered once per
(sql, read dialect, write dialect) and placed in the tree as a text leaf (an ``exp.Var``, which
the generator writes verbatim), giving the same bytes.

Generation is not always context-free, though: Spark/Hive hoist nested CTEs to the top level,
a multi-line string literal must not be re-indented, and the Snowflake, BigQuery and Trino
generators analyse the scopes of the whole query (which a text leaf hides from them). So before
the text is trusted it is checked once against a full generation of the same derived table
placed in FROM, in a JOIN and inside a CTE: if the two differ, or the text leaf makes sqlglot
fail or warn, the tree is copied into every compile as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from gnomon.semantic.expressions import strip_positions


@lru_cache(maxsize=512)
def parse_view_sql(sql: str, dialect: str) -> exp.Expr:
    """The parsed body of a derived table; shared, so callers must never modify it."""
    parsed = sqlglot.parse_one(sql, read=dialect)
    assert parsed is not None
    return strip_positions(parsed)


def _subquery(inner: exp.Expr, alias: str) -> exp.Subquery:
    return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _probe(inner: Callable[[], exp.Expr]) -> exp.Select:
    """``WITH w AS (SELECT * FROM (v) AS a LEFT JOIN (v) AS b ON TRUE) SELECT * FROM w``."""
    body = exp.Select(
        expressions=[exp.Star()],
        joins=[exp.Join(this=_subquery(inner(), "b"), side="LEFT", on=exp.true())],
    )
    body.set("from_", exp.From(this=_subquery(inner(), "a")))
    cte = exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier("w")))
    return exp.Select(
        expressions=[exp.Star()],
        from_=exp.From(this=exp.Table(this=exp.to_identifier("w"))),
        with_=exp.With(expressions=[cte]),
    )


class _Swallow(logging.Filter):
    """Records (and keeps out of the logs) what sqlglot says while the text leaf is probed."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = False

    def filter(self, record: logging.LogRecord) -> bool:
        self.seen = True
        return False


@lru_cache(maxsize=512)
def _rendered(sql: str, read: str, write: str) -> str | None:
    """The body's pretty SQL in ``write``, or None when splicing it as text would not
    reproduce a full generation byte for byte."""
    tree = parse_view_sql(sql, read)
    try:
        text = Dialect.get_or_raise(write).generator(pretty=True).sql(tree.copy())
        full = _probe(tree.copy).sql(dialect=write, pretty=True, copy=False)
    except Exception:  # the compile itself reports it, from the tree
        return None
    logger = logging.getLogger("sqlglot")
    swallow = _Swallow()
    logger.addFilter(swallow)
    try:
        spliced = _probe(lambda: exp.Var(this=text)).sql(dialect=write, pretty=True, copy=False)
    except Exception:  # a generator that needs to see inside the derived table
        return None
    finally:
        logger.removeFilter(swallow)
    return text if full == spliced and not swallow.seen else None


def derived_table(sql: str, read: str, write: str, alias: str) -> exp.Subquery:
    """``(<sql>) AS alias`` as a fresh node the caller may place in its tree."""
    text = _rendered(sql, read, write)
    inner = exp.Var(this=text) if text is not None else parse_view_sql(sql, read).copy()
    return _subquery(inner, alias)
