"""Prometheus metrics for one gnomon app.

Each :class:`Metrics` owns its own ``CollectorRegistry`` instead of using prometheus_client's
global one: registering the same metric name twice in one registry is an error, and tests (and
embedding apps) build several apps in one process. ``create_app`` makes one ``Metrics`` and
serves ``render()`` at the metrics endpoint.

Metric names carry a namespace prefix (``gnomon_`` by default) as Prometheus naming practice
asks, so they do not collide with other exporters scraped into the same server.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

__all__ = ["QUERY_BUCKETS", "Metrics"]

# Queries run from milliseconds (cache hits, small DuckDB scans) to minutes (warehouse scans up
# to the query timeout), so they get wider buckets than HTTP requests' defaults.
QUERY_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
)


class Metrics:
    """The app's counters and histograms, in a registry of their own.

    ``route`` labels must be route *templates* (``/api/v1/documents/{id}``), never raw paths:
    each label value is a time series, and raw ids would grow them without bound.
    """

    def __init__(self, namespace: str = "gnomon") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ns = namespace
        reg = self.registry
        self.http_requests_total = Counter(
            "http_requests",
            "HTTP requests served, by method, route template and status code.",
            ["method", "route", "status"],
            namespace=ns,
            registry=reg,
        )
        self.http_request_duration_seconds = Histogram(
            "http_request_duration_seconds",
            "Time to serve an HTTP request, by method and route template.",
            ["method", "route"],
            namespace=ns,
            registry=reg,
        )
        self.queries_total = Counter(
            "queries",
            "Semantic and SQL queries run, by outcome (ok, error, timeout, ...).",
            ["status"],
            namespace=ns,
            registry=reg,
        )
        self.query_duration_seconds = Histogram(
            "query_duration_seconds",
            "Time to run a query, including compilation and fetching the rows.",
            namespace=ns,
            registry=reg,
            buckets=QUERY_BUCKETS,
        )
        self.cache_hits_total = Counter(
            "cache_hits",
            "Queries answered from the query cache.",
            namespace=ns,
            registry=reg,
        )
        # Misses alongside hits so the hit ratio can be graphed without deriving it from
        # queries_total (which also counts bypassed and failed runs).
        self.cache_misses_total = Counter(
            "cache_misses",
            "Cacheable queries that were not in the query cache.",
            namespace=ns,
            registry=reg,
        )
        self.webhook_deliveries_total = Counter(
            "webhook_deliveries",
            "Webhook delivery attempts, by outcome (success, failure, ...).",
            ["outcome"],
            namespace=ns,
            registry=reg,
        )

    def observe_request(self, method: str, route: str, status: int, duration_s: float) -> None:
        """Record one served HTTP request (what the API middleware calls)."""
        self.http_requests_total.labels(
            method=method.upper(), route=route, status=str(status)
        ).inc()
        self.http_request_duration_seconds.labels(method=method.upper(), route=route).observe(
            duration_s
        )

    def observe_query(self, status: str, duration_s: float, *, cache_hit: bool | None) -> None:
        """Record one query run; ``cache_hit`` is None when the cache was not consulted."""
        self.queries_total.labels(status=status).inc()
        self.query_duration_seconds.observe(duration_s)
        if cache_hit is True:
            self.cache_hits_total.inc()
        elif cache_hit is False:
            self.cache_misses_total.inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition body and its content type, for the metrics endpoint."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
