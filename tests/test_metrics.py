"""Prometheus metrics: separate registries, recorded values, exposition output."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from gnomon.metrics import Metrics


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse render() output back into {(sample name, sorted labels): value}."""
    body, _ = metrics.render()
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_two_instances_do_not_clash_or_share_values() -> None:
    first = Metrics()
    second = Metrics()
    first.cache_hits_total.inc()
    assert samples(first)[("gnomon_cache_hits_total", ())] == 1.0
    assert samples(second)[("gnomon_cache_hits_total", ())] == 0.0


def test_render_returns_prometheus_text_content_type() -> None:
    body, content_type = Metrics().render()
    assert content_type.startswith("text/plain")
    assert "charset=utf-8" in content_type
    assert content_type == CONTENT_TYPE_LATEST
    assert b"# TYPE gnomon_http_requests_total counter" in body


def test_observe_request_counts_by_labels_and_times() -> None:
    metrics = Metrics()
    metrics.observe_request("get", "/api/v1/documents/{id}", 200, 0.02)
    metrics.observe_request("GET", "/api/v1/documents/{id}", 200, 0.03)
    metrics.observe_request("POST", "/api/v1/queries/run", 422, 0.5)
    got = samples(metrics)
    doc = (("method", "GET"), ("route", "/api/v1/documents/{id}"))
    assert got[("gnomon_http_requests_total", (*doc, ("status", "200")))] == 2.0
    run = (("method", "POST"), ("route", "/api/v1/queries/run"), ("status", "422"))
    assert got[("gnomon_http_requests_total", run)] == 1.0
    assert got[("gnomon_http_request_duration_seconds_count", doc)] == 2.0
    assert abs(got[("gnomon_http_request_duration_seconds_sum", doc)] - 0.05) < 1e-9
    # 0.02 and 0.03 both fall under the 0.05 bucket, neither under 0.01.
    assert got[("gnomon_http_request_duration_seconds_bucket", (("le", "0.05"), *doc))] == 2.0
    assert got[("gnomon_http_request_duration_seconds_bucket", (("le", "0.01"), *doc))] == 0.0


def test_observe_query_counts_status_and_cache() -> None:
    metrics = Metrics()
    metrics.observe_query("ok", 0.2, cache_hit=True)
    metrics.observe_query("ok", 4.0, cache_hit=False)
    metrics.observe_query("timeout", 120.0, cache_hit=None)
    got = samples(metrics)
    assert got[("gnomon_queries_total", (("status", "ok"),))] == 2.0
    assert got[("gnomon_queries_total", (("status", "timeout"),))] == 1.0
    assert got[("gnomon_cache_hits_total", ())] == 1.0
    assert got[("gnomon_cache_misses_total", ())] == 1.0
    assert got[("gnomon_query_duration_seconds_count", ())] == 3.0
    # Query buckets reach minutes: the 120 s timeout lands in a finite bucket.
    assert got[("gnomon_query_duration_seconds_bucket", (("le", "120.0"),))] == 3.0
    assert got[("gnomon_query_duration_seconds_bucket", (("le", "60.0"),))] == 2.0


def test_webhook_deliveries_by_outcome() -> None:
    metrics = Metrics()
    metrics.webhook_deliveries_total.labels(outcome="success").inc()
    metrics.webhook_deliveries_total.labels(outcome="failure").inc(2)
    got = samples(metrics)
    assert got[("gnomon_webhook_deliveries_total", (("outcome", "success"),))] == 1.0
    assert got[("gnomon_webhook_deliveries_total", (("outcome", "failure"),))] == 2.0


def test_custom_namespace_prefixes_every_metric() -> None:
    metrics = Metrics(namespace="acme")
    metrics.observe_request("GET", "/x", 200, 0.1)
    names = {name for name, _ in samples(metrics)}
    assert "acme_http_requests_total" in names
    assert not any(name.startswith("gnomon_") for name in names)
