"""The seed's Query API requests against the demo model, each with hand-written reference SQL.

Each :class:`SeedQuery` pairs a request body exactly as the seed sends it to
``POST /api/v1/queries/run`` with DuckDB SQL, written directly against the warehouse tables
without the semantic layer, that computes the same numbers. Tests compare the two, so a compiler
bug and a model bug both show up as a disagreement; the CLI and docs use the same requests as
runnable examples.

The reference SQL mirrors the demo model's definitions on purpose: revenue is the amount of
completed and shipped orders, test accounts are excluded (every topic's always-where filter), a
``date_range`` is inclusive of its end date, and ``revenue_growth`` compares each month with the
calendar month before it, even when that month is outside the range.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class SeedQuery:
    """One seed request and the reference SQL that answers it.

    ``reference_sql`` takes ``parameters`` as DuckDB named parameters (``$name``) and returns
    one column per requested field, named as in the request (months as ``DATE``), ordered by
    ``key`` (the requested dimensions), so a result row can be compared with the API's row
    keyed by the same names.
    """

    name: str
    request: Mapping[str, Any]
    reference_sql: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    key: tuple[str, ...] = ()


def quarter_range(day: date) -> tuple[date, date]:
    """First and last day of the calendar quarter holding ``day`` (what the seed's
    ``getQuarterRange(reportDate)`` returns)."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    next_start = (
        date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    )
    return start, next_start - timedelta(days=1)


def previous_quarter_range(day: date) -> tuple[date, date]:
    """The last complete quarter before the one holding ``day``."""
    start, _ = quarter_range(day)
    return quarter_range(start - timedelta(days=1))


_REVENUE_STATUSES = "('completed', 'shipped')"

MONTHLY_REVENUE_FOR_CUSTOMER = f"""
select
    cast(date_trunc('month', o.created_at) as date) as date_month,
    sum(case when o.status in {_REVENUE_STATUSES} then o.amount end) as total_revenue
from main.orders as o
join main.customers as c on c.id = o.customer_id
where o.customer_id = $customer_id and not c.is_test
group by 1
order by 1
"""

ACTIVE_USERS_FOR_CUSTOMER = """
select count(distinct u.user_id) as active_users_count
from main.daily_usage as u
join main.customers as c on c.id = u.customer_id
where u.customer_id = $customer_id and not c.is_test
"""

# Months of the range, each with the month before it: growth needs the previous period's revenue
# even for the first month of the range.
QUARTER_REVENUE_GROWTH = f"""
with monthly as (
    select
        date_trunc('month', o.created_at) as month,
        sum(case when o.status in {_REVENUE_STATUSES} then o.amount end) as revenue
    from main.orders as o
    join main.customers as c on c.id = o.customer_id
    where not c.is_test
      and o.created_at >= date_trunc('month', cast($start as date)) - interval 1 month
      and o.created_at < cast($end as date) + interval 1 day
    group by 1
)
select
    cast(cur.month as date) as date_month,
    cur.revenue as total_revenue,
    (cur.revenue - prev.revenue) / nullif(prev.revenue, 0) as revenue_growth
from monthly as cur
left join monthly as prev on prev.month = cur.month - interval 1 month
where cur.month >= cast($start as date)
order by 1
"""

CUSTOMERS_BY_CHANNEL = f"""
with churn as (
    select customer_id, max(churned_at) as churned_at
    from main.subscriptions group by customer_id
),
ltv as (
    select customer_id,
        sum(case when status in {_REVENUE_STATUSES} then amount else 0 end) as revenue
    from main.orders group by customer_id
)
select
    c.acquisition_channel,
    count(*) as new_customers,
    count(ch.churned_at) * 1.0 / count(*) as churn_rate,
    coalesce(sum(l.revenue), 0) / count(*) as customer_ltv
from main.customers as c
left join churn as ch on ch.customer_id = c.id
left join ltv as l on l.customer_id = c.id
where not c.is_test
  and c.signup_date between cast($start as date) and cast($end as date)
group by 1
order by 1
"""

DAILY_KPIS = f"""
select
    (select sum(case when o.status in {_REVENUE_STATUSES} then o.amount else 0 end)
     from main.orders as o join main.customers as c on c.id = o.customer_id
     where not c.is_test and cast(o.created_at as date) = cast($day as date)) as daily_revenue,
    (select count(distinct u.user_id)
     from main.daily_usage as u join main.customers as c on c.id = u.customer_id
     where not c.is_test and u.date = cast($day as date)) as active_users
"""


def seed_queries(
    today: date, customer_id: int, *, quarter: tuple[date, date] | None = None
) -> list[SeedQuery]:
    """The seed's five topic queries for a warehouse built for ``today``.

    ``customer_id`` is the customer of the seed's per-customer dashboard tiles; ``quarter``
    (default: the quarter holding ``today``, as the seed's report does) is the executive
    report's ``date_range``.
    """
    start, end = quarter or quarter_range(today)
    date_range = [start.isoformat(), end.isoformat()]
    return [
        SeedQuery(
            name="monthly_revenue_trend",
            request={
                "topic": "revenue_analytics",
                "dimensions": ["date_month"],
                "measures": ["total_revenue"],
                "filters": {"customer_id": customer_id},
            },
            reference_sql=MONTHLY_REVENUE_FOR_CUSTOMER,
            parameters={"customer_id": customer_id},
            key=("date_month",),
        ),
        SeedQuery(
            name="active_users",
            request={
                "topic": "usage_metrics",
                "measures": ["active_users_count"],
                "filters": {"customer_id": customer_id},
            },
            reference_sql=ACTIVE_USERS_FOR_CUSTOMER,
            parameters={"customer_id": customer_id},
        ),
        SeedQuery(
            name="revenue_summary",
            request={
                "name": "revenue_summary",
                "topic": "financial_metrics",
                "measures": ["total_revenue", "revenue_growth"],
                "dimensions": ["date_month"],
                "filters": {"date_range": date_range},
            },
            reference_sql=QUARTER_REVENUE_GROWTH,
            parameters={"start": start, "end": end},
            key=("date_month",),
        ),
        SeedQuery(
            name="customer_metrics",
            request={
                "name": "customer_metrics",
                "topic": "customer_analytics",
                "measures": ["new_customers", "churn_rate", "customer_ltv"],
                "dimensions": ["acquisition_channel"],
                "filters": {"date_range": date_range},
            },
            reference_sql=CUSTOMERS_BY_CHANNEL,
            parameters={"start": start, "end": end},
            key=("acquisition_channel",),
        ),
        SeedQuery(
            name="business_kpis",
            request={
                "topic": "business_metrics",
                "measures": ["daily_revenue", "active_users"],
                "filters": {"date": today.isoformat()},
            },
            reference_sql=DAILY_KPIS,
            parameters={"day": today},
        ),
    ]
