"""Per-dialect SQL pieces the compiler needs beyond what sqlglot transpiles, as data.

Exact quantiles are the one aggregate whose spelling (and existence) differs by engine: a
template per dialect that has an exact, interpolating percentile aggregate; dialects missing
from :data:`QUANTILE_TEMPLATES` get the portable window-function form built by the compiler.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

from gnomon.semantic.expressions import strip_positions

_X = "__gnomon_x__"
_Q = "__gnomon_q__"

# Exact linear-interpolation percentile (PERCENTILE_CONT semantics), written in each dialect.
QUANTILE_TEMPLATES: dict[str, str] = {
    "duckdb": f"QUANTILE_CONT({_X}, {_Q})",
    "postgres": f"PERCENTILE_CONT({_Q}) WITHIN GROUP (ORDER BY {_X})",
    "snowflake": f"PERCENTILE_CONT({_Q}) WITHIN GROUP (ORDER BY {_X})",
    "spark": f"PERCENTILE({_X}, {_Q})",
}

# relationship join_type -> (side, kind) of sqlglot's Join node
JOIN_KINDS: dict[str, tuple[str | None, str | None]] = {
    "always_left": ("LEFT", None),
    "inner": (None, "INNER"),
    "full_outer": ("FULL", "OUTER"),
    "cross": (None, "CROSS"),
}


@lru_cache(maxsize=64)
def _template(dialect: str) -> exp.Expr:
    parsed = sqlglot.parse_one(QUANTILE_TEMPLATES[dialect], read=dialect)
    assert parsed is not None
    return strip_positions(parsed)


def has_native_quantile(dialect: str) -> bool:
    return dialect in QUANTILE_TEMPLATES


def quantile(value: exp.Expr, q: float, dialect: str) -> exp.Expr:
    """The exact ``q`` quantile of ``value`` as an aggregate in ``dialect``.

    >>> quantile(exp.column("x"), 0.5, "postgres").sql("postgres")
    'PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x)'
    """
    literal = exp.Literal.number(q)

    def graft(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table:
            if node.name == _X:
                return value.copy()
            if node.name == _Q:
                return literal.copy()
        return node

    return _template(dialect).copy().transform(graft, copy=False)
