"""The semantic model: frozen objects in Omni's modeling vocabulary.

Objects are immutable so that one loaded model can be shared by every request and so that the
compiler can cache derived structures (topic join graphs, parsed field expressions) on it without
ever seeing them go stale. Enumerations that users type (aggregate types, timeframes) are kept as
plain strings here: a typo must become a validation issue with a file, a line and a hint, which a
pydantic ``Literal`` failure could not give alongside every other problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FieldType = Literal["string", "number", "boolean", "date", "timestamp"]
RelationshipType = Literal["many_to_one", "one_to_many", "one_to_one", "many_to_many"]
JoinType = Literal["always_left", "inner", "full_outer", "cross"]
PopOutput = Literal["value", "change", "percent_change"]

AGGREGATE_TYPES: tuple[str, ...] = (
    "sum",
    "count",
    "count_distinct",
    "average",
    "min",
    "max",
    "median",
    "percentile",
    "sum_distinct_on",
    "average_distinct_on",
    "count_distinct_on",
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Loc(_Frozen):
    """Where a model object was written: used to point every issue at a file and line."""

    file: str | None = None
    line: int | None = None


class Dimension(_Frozen):
    """A column-level field. ``sql`` defaults to the view column of the same name."""

    name: str = ""
    sql: str | None = None
    type: FieldType | None = None
    label: str | None = None
    description: str | None = None
    format: str | None = None
    hidden: bool = False
    timeframes: tuple[str, ...] | None = None
    primary_key: bool = False
    group_label: str | None = None

    @property
    def field_type(self) -> FieldType:
        """Declared type, else ``timestamp`` for a dimension with timeframes, else string."""
        if self.type is not None:
            return self.type
        return "timestamp" if self.timeframes is not None else "string"

    @property
    def is_time(self) -> bool:
        return self.timeframes is not None or self.field_type in ("date", "timestamp")


class PeriodOverPeriod(_Frozen):
    """``measure`` compared with itself ``periods`` time grains earlier (the query's grain)."""

    measure: str
    periods: int = 1
    output: PopOutput = "percent_change"


class Measure(_Frozen):
    """An aggregate. Without ``aggregate_type`` it is derived (``sql`` over other measures)."""

    name: str = ""
    sql: str | None = None
    aggregate_type: str | None = None
    percentile: float | None = None
    custom_primary_key_sql: str | None = None
    filters: Mapping[str, Any] = Field(default_factory=dict)
    label: str | None = None
    description: str | None = None
    format: str | None = None
    hidden: bool = False
    group_label: str | None = None
    period_over_period: PeriodOverPeriod | None = None

    @property
    def is_derived(self) -> bool:
        return self.aggregate_type is None and self.period_over_period is None


class View(_Frozen):
    """A table (``schema`` + ``table_name``) or derived table (``sql``) with its fields."""

    name: str = ""
    schema_name: str | None = Field(default=None, alias="schema")
    catalog: str | None = None
    table_name: str | None = None
    sql: str | None = None
    label: str | None = None
    description: str | None = None
    dimensions: Mapping[str, Dimension] = Field(default_factory=dict)
    measures: Mapping[str, Measure] = Field(default_factory=dict)

    @property
    def primary_key(self) -> Dimension | None:
        for dim in self.dimensions.values():
            if dim.primary_key:
                return dim
        return None

    def field(self, name: str) -> Dimension | Measure | None:
        dim = self.dimensions.get(name)
        if dim is not None:
            return dim
        return self.measures.get(name)


class Relationship(_Frozen):
    """A join between two views; ``join_to_view_as`` joins the target under another name."""

    join_from_view: str
    join_to_view: str
    on_sql: str | None = None
    relationship_type: RelationshipType = "many_to_one"
    join_type: JoinType = "always_left"
    join_to_view_as: str | None = None

    @property
    def target_alias(self) -> str:
        return self.join_to_view_as or self.join_to_view


class AccessFilter(_Frozen):
    """Row-level security: ``field IN (the user's values of user_attribute)``.

    With no value for the user and no ``default_value`` the topic returns no rows.
    """

    field: str
    user_attribute: str
    default_value: Any = None


class Topic(_Frozen):
    """A curated starting point for queries: a base view plus the views joined to it."""

    name: str = ""
    base_view: str
    label: str | None = None
    description: str | None = None
    joins: Mapping[str, Any] | None = None
    fields: tuple[str, ...] | None = None
    default_filters: Mapping[str, Any] = Field(default_factory=dict)
    always_where_filters: Mapping[str, Any] = Field(default_factory=dict)
    access_filters: tuple[AccessFilter, ...] = ()
    default_time_dimension: str | None = None
    cache_policy: str | None = None
    hidden: bool = False


class CachingPolicy(_Frozen):
    default_max_age: int | None = None


class ModelSettings(_Frozen):
    """Model-wide settings (the ``model`` file, or top-level keys of the combined document)."""

    default_topic_access_filters: tuple[AccessFilter, ...] = ()
    ai_chat_topics: tuple[str, ...] = ()
    caching_policy: CachingPolicy | None = None
    cache_policies: Mapping[str, Any] = Field(default_factory=dict)
    default_cache_policy: str | None = None
    week_start_day: str = "monday"
    enabled_topics: tuple[str, ...] | None = None
    timezone: str = "UTC"
    # The dialect ``sql:`` snippets are written in; one sqlglot reads (checked here so that a
    # bad value is a model issue, not a failure when a snippet is parsed).
    dialect: (
        Literal[
            "duckdb",
            "sqlite",
            "postgres",
            "mysql",
            "snowflake",
            "bigquery",
            "trino",
            "spark",
            "clickhouse",
        ]
        | None
    ) = None


class SemanticModel(_Frozen):
    """A whole model. ``locations`` maps a model path (``views/orders/measures/count``) to the
    place it was written; it is excluded from dumps and only feeds issue messages.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    views: Mapping[str, View] = Field(default_factory=dict)
    relationships: tuple[Relationship, ...] = ()
    topics: Mapping[str, Topic] = Field(default_factory=dict)
    settings: ModelSettings = Field(default_factory=ModelSettings)
    locations: Mapping[str, Loc] = Field(default_factory=dict, exclude=True, repr=False)

    def loc(self, *path: str | int) -> Loc:
        """The location of ``path`` or of its nearest ancestor that has one."""
        parts = [str(p) for p in path]
        while parts:
            found = self.locations.get("/".join(parts))
            if found is not None:
                return found
            parts.pop()
        return Loc()

    @cached_property
    def cache(self) -> dict[str, Any]:
        """A per-model scratch dict for compiled structures (join graphs, parsed snippets).

        The model is frozen, so anything derived from it stays valid for its whole lifetime.
        """
        return {}

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SemanticModel):
            return NotImplemented
        return self.model_dump() == other.model_dump()
