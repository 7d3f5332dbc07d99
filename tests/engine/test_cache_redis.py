from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis

from gnomon.engine import CachedResult, Column, RedisCache

pytestmark = pytest.mark.redis


@pytest.fixture
def cache(redis_url: str) -> Iterator[RedisCache]:
    prefix = f"gnomon:test:{uuid.uuid4().hex}:"
    store = RedisCache(redis_url, prefix=prefix)
    yield store
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()
    store.close()


def sample() -> CachedResult:
    return CachedResult(
        [Column("n", "number"), Column("d", "date"), Column("x", "string")],
        [
            (Decimal("1.50"), dt.date(2024, 1, 2), {"k": [1, 2]}),
            (2.5, dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC), b"\x01"),
            (None, dt.timedelta(seconds=90), uuid.UUID(int=5)),
            (float("inf"), ("a", 1), "plain"),
        ],
        created_at=1700000000.5,
        truncated=True,
        duration_ms=12.5,
        data_json=b'[{"n":1.5}]',
    )


def test_round_trip_keeps_python_types(cache: RedisCache) -> None:
    value = sample()
    cache.set("k1", value, ttl_s=60, tags=["conn:1"])

    hit = cache.get("k1")

    assert hit is not None
    assert hit.data_json == b'[{"n":1.5}]'
    assert hit.columns == value.columns
    assert hit.truncated is True
    assert hit.rows == value.rows
    assert hit == value


def test_missing_key_is_a_miss(cache: RedisCache) -> None:
    assert cache.get("absent") is None


def test_values_carry_the_ttl(cache: RedisCache, redis_url: str) -> None:
    cache.set("k1", sample(), ttl_s=30, tags=["conn:1"])
    client = redis.Redis.from_url(redis_url)
    try:
        value_ttl = client.pttl(f"{cache.prefix}v:k1")
        tag_ttl = client.pttl(f"{cache.prefix}t:conn:1")
    finally:
        client.close()

    assert 0 < value_ttl <= 30_000
    assert 0 < tag_ttl <= 30_000


def test_tag_ttl_grows_to_longest_member(cache: RedisCache, redis_url: str) -> None:
    cache.set("long", sample(), ttl_s=300, tags=["conn:1"])
    cache.set("short", sample(), ttl_s=5, tags=["conn:1"])
    client = redis.Redis.from_url(redis_url)
    try:
        tag_ttl = client.pttl(f"{cache.prefix}t:conn:1")
    finally:
        client.close()

    assert tag_ttl > 5_000


def test_invalidate_tag_drops_tagged_entries(cache: RedisCache) -> None:
    cache.set("a", sample(), ttl_s=60, tags=["conn:1", "model:9"])
    cache.set("b", sample(), ttl_s=60, tags=["conn:1"])
    cache.set("c", sample(), ttl_s=60, tags=["conn:2"])

    assert cache.invalidate_tag("conn:1") == 2
    assert cache.get("a") is None
    assert cache.get("b") is None
    assert cache.get("c") is not None
    assert cache.invalidate_tag("model:9") == 0


def test_foreign_bytes_are_a_miss_not_an_error(cache: RedisCache, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        client.set(f"{cache.prefix}v:bad", b"\x80\x04not ours")
    finally:
        client.close()

    assert cache.get("bad") is None


def test_unreachable_redis_degrades_to_no_cache() -> None:
    store = RedisCache("redis://127.0.0.1:1/0")
    store.set("k", sample(), ttl_s=60, tags=["conn:1"])

    assert store.get("k") is None
    assert store.invalidate_tag("conn:1") == 0
