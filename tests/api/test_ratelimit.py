"""Rate limiting: rate parsing, the in-memory token bucket (fake clock) and the Redis one (real)."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from gnomon.api.ratelimit import (
    Decision,
    MemoryRateLimiter,
    Rate,
    RedisRateLimiter,
    create_rate_limiter,
    parse_rate,
)

_LimiterFactory = Callable[[Rate], RedisRateLimiter]


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- parse_rate -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("600/minute", Rate(600, 60.0)),
        ("10/second", Rate(10, 1.0)),
        ("100/hour", Rate(100, 3600.0)),
        ("5000/day", Rate(5000, 86400.0)),
        ("50/30s", Rate(50, 30.0)),
        ("100/5m", Rate(100, 300.0)),
        (" 7 per Minutes ", Rate(7, 60.0)),
        ("3/1.5s", Rate(3, 1.5)),
    ],
)
def test_parse_rate_accepts_documented_forms(text: str, expected: Rate) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "expected"),
        ("600", "expected"),
        ("abc/minute", "expected"),
        ("10/fortnight", "unknown unit 'fortnight'"),
        ("0/minute", "positive"),
        ("10/0s", "positive"),
        ("-1/minute", "expected"),
    ],
)
def test_parse_rate_rejects_bad_input_with_clear_message(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment) as info:
        parse_rate(text)
    assert repr(text) in str(info.value)


def test_rate_refuses_nonsense_directly() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Rate(0, 60.0)
    with pytest.raises(ValueError, match="positive"):
        Rate(5, 0.0)


def test_decision_headers_include_retry_after_only_when_denied() -> None:
    allowed = Decision(allowed=True, limit=10, remaining=9, reset_s=6, retry_after_s=0)
    denied = Decision(allowed=False, limit=10, remaining=0, reset_s=60, retry_after_s=6)
    assert allowed.headers() == {
        "RateLimit-Limit": "10",
        "RateLimit-Remaining": "9",
        "RateLimit-Reset": "6",
    }
    assert denied.headers()["Retry-After"] == "6"
    assert denied.headers()["RateLimit-Remaining"] == "0"


# -- memory limiter ---------------------------------------------------------------------------


def test_memory_burst_allows_exactly_limit_then_denies() -> None:
    limiter = MemoryRateLimiter(Rate(5, 60.0), clock=FakeClock())
    decisions = [limiter.hit("k") for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0, 0]
    assert all(d.limit == 5 for d in decisions)


def test_memory_refills_at_limit_per_period() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(Rate(6, 60.0), clock=clock)  # one token every 10 s
    for _ in range(6):
        assert limiter.hit("k").allowed
    assert not limiter.hit("k").allowed
    clock.advance(9.9)
    assert not limiter.hit("k").allowed
    clock.advance(0.1)
    first = limiter.hit("k")
    assert first.allowed
    assert first.remaining == 0
    assert not limiter.hit("k").allowed
    clock.advance(25.0)  # 2.5 tokens
    assert limiter.hit("k").allowed
    assert limiter.hit("k").allowed
    assert not limiter.hit("k").allowed


def test_memory_refill_never_exceeds_capacity() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(Rate(3, 30.0), clock=clock)
    limiter.hit("k")
    clock.advance(10_000.0)
    results = [limiter.hit("k").allowed for _ in range(4)]
    assert results == [True, True, True, False]


def test_memory_retry_after_is_time_until_next_token() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(Rate(2, 60.0), clock=clock)  # one token every 30 s
    limiter.hit("k")
    limiter.hit("k")
    denied = limiter.hit("k")
    assert not denied.allowed
    assert denied.retry_after_s == 30
    assert denied.reset_s == 60  # until the bucket is full again
    clock.advance(20.5)
    later = limiter.hit("k")
    assert later.retry_after_s == 10  # 9.5 s rounded up to whole seconds
    clock.advance(9.5)
    assert limiter.hit("k").allowed


def test_memory_retry_after_is_at_least_one_second() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(Rate(100, 1.0), clock=clock)  # a token every 10 ms
    for _ in range(100):
        limiter.hit("k")
    denied = limiter.hit("k")
    assert not denied.allowed
    assert denied.retry_after_s == 1


def test_memory_reset_counts_down_to_full() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(Rate(10, 100.0), clock=clock)  # a token every 10 s
    d = limiter.hit("k")
    assert (d.remaining, d.reset_s, d.retry_after_s) == (9, 10, 0)
    d = limiter.hit("k", cost=4)
    assert (d.remaining, d.reset_s) == (5, 50)


def test_memory_cost_takes_several_tokens() -> None:
    limiter = MemoryRateLimiter(Rate(10, 60.0), clock=FakeClock())
    assert limiter.hit("k", cost=7).allowed
    denied = limiter.hit("k", cost=4)
    assert not denied.allowed
    assert denied.remaining == 3
    assert limiter.hit("k", cost=3).allowed


def test_memory_rejects_cost_outside_capacity() -> None:
    limiter = MemoryRateLimiter(Rate(10, 60.0), clock=FakeClock())
    with pytest.raises(ValueError, match="cost"):
        limiter.hit("k", cost=11)
    with pytest.raises(ValueError, match="cost"):
        limiter.hit("k", cost=0)


def test_memory_keys_are_isolated() -> None:
    limiter = MemoryRateLimiter(Rate(2, 60.0), clock=FakeClock())
    limiter.hit("alice")
    limiter.hit("alice")
    assert not limiter.hit("alice").allowed
    bob = limiter.hit("bob")
    assert bob.allowed
    assert bob.remaining == 1


def test_memory_evicts_buckets_idle_for_a_period() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(Rate(5, 60.0), clock=clock)
    for i in range(50):
        limiter.hit(f"key-{i}")
    assert len(limiter) == 50
    clock.advance(30.0)
    limiter.hit("key-0")  # still within a period: nobody is provably full yet
    assert len(limiter) == 50
    clock.advance(30.0)
    limiter.hit("fresh")  # key-1..49 idle a whole period: full, so forgotten
    assert len(limiter) == 2


def test_memory_eviction_forgets_nothing_that_still_counts() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(Rate(2, 60.0), clock=clock)
    limiter.hit("k")
    limiter.hit("k")
    clock.advance(59.0)
    limiter.hit("other")  # k is not full yet and must be kept
    decision = limiter.hit("k")
    assert decision.allowed  # 59 s refilled 1.97 tokens, not the full 2
    assert decision.remaining == 0


def test_memory_max_keys_caps_memory() -> None:
    limiter = MemoryRateLimiter(Rate(5, 60.0), clock=FakeClock(), max_keys=10)
    for i in range(25):
        limiter.hit(f"key-{i}")
    assert len(limiter) == 10


def test_memory_clock_going_backwards_does_not_drain() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(Rate(3, 60.0), clock=clock)
    limiter.hit("k")
    clock.advance(-100.0)
    assert limiter.hit("k").remaining == 1


def test_memory_threads_never_exceed_limit() -> None:
    limiter = MemoryRateLimiter(Rate(50, 86400.0))
    allowed = _hammer(limiter, threads=8, hits_each=20)
    assert allowed == 50


# -- redis limiter ----------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    return os.environ.get("GNOMON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    value = f"gnomon-test:rl:{uuid.uuid4().hex}:"
    yield value
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=value + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def make_limiter(redis_url: str, prefix: str) -> Iterator[_LimiterFactory]:
    made: list[RedisRateLimiter] = []

    def factory(rate: Rate) -> RedisRateLimiter:
        limiter = RedisRateLimiter(redis_url, rate, prefix=prefix)
        made.append(limiter)
        return limiter

    yield factory
    for limiter in made:
        limiter.close()


@pytest.mark.redis
def test_redis_burst_then_deny(make_limiter: _LimiterFactory) -> None:
    limiter = make_limiter(Rate(3, 3600.0))
    decisions = [limiter.hit("k") for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert decisions[-1].retry_after_s in (1199, 1200)  # a token every 1200 s
    assert decisions[-1].reset_s in (3599, 3600)


@pytest.mark.redis
def test_redis_keys_are_isolated(make_limiter: _LimiterFactory) -> None:
    limiter = make_limiter(Rate(1, 3600.0))
    assert limiter.hit("alice").allowed
    assert not limiter.hit("alice").allowed
    assert limiter.hit("bob").allowed


@pytest.mark.redis
def test_redis_two_instances_share_a_bucket(make_limiter: _LimiterFactory) -> None:
    first = make_limiter(Rate(4, 3600.0))
    second = make_limiter(Rate(4, 3600.0))
    assert first.hit("shared").allowed
    assert second.hit("shared").allowed
    assert first.hit("shared").allowed
    last = second.hit("shared")
    assert last.allowed
    assert last.remaining == 0
    assert not first.hit("shared").allowed
    assert not second.hit("shared").allowed


@pytest.mark.redis
def test_redis_refill_uses_server_time(
    make_limiter: _LimiterFactory, redis_url: str, prefix: str
) -> None:
    limiter = make_limiter(Rate(2, 60.0))
    limiter.hit("k")
    limiter.hit("k")
    assert not limiter.hit("k").allowed
    # Pretend the last hit happened 45 s ago by the server's clock: 1.5 tokens refilled.
    client = redis.Redis.from_url(redis_url)
    try:
        seconds, micros = client.time()
        client.hset(prefix + "k", "ts", repr(seconds + micros / 1e6 - 45.0))
    finally:
        client.close()
    refilled = limiter.hit("k")
    assert refilled.allowed
    assert refilled.remaining == 0
    assert not limiter.hit("k").allowed


@pytest.mark.redis
def test_redis_bucket_expires_when_full(
    make_limiter: _LimiterFactory, redis_url: str, prefix: str
) -> None:
    limiter = make_limiter(Rate(10, 100.0))
    limiter.hit("k", cost=3)  # full again in 30 s
    client = redis.Redis.from_url(redis_url)
    try:
        ttl_ms = client.pttl(prefix + "k")
    finally:
        client.close()
    assert 29_000 < ttl_ms <= 31_000


@pytest.mark.redis
def test_redis_survives_script_flush(make_limiter: _LimiterFactory, redis_url: str) -> None:
    limiter = make_limiter(Rate(2, 3600.0))
    assert limiter.hit("k").allowed
    client = redis.Redis.from_url(redis_url)
    try:
        client.script_flush()
    finally:
        client.close()
    second = limiter.hit("k")
    assert second.allowed
    assert second.remaining == 0


@pytest.mark.redis
def test_redis_eight_threads_never_exceed_limit(make_limiter: _LimiterFactory) -> None:
    limiters = [make_limiter(Rate(20, 86400.0)) for _ in range(2)]
    allowed = _hammer_many(limiters, threads=8, hits_each=10)
    assert allowed == 20


def test_redis_down_falls_back_to_process_limits(caplog: pytest.LogCaptureFixture) -> None:
    # Port 1 on loopback refuses connections immediately: a real, fast "Redis is down".
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", Rate(2, 3600.0), socket_timeout_s=0.2)
    try:
        with caplog.at_level(logging.WARNING, logger="gnomon.api.ratelimit"):
            decisions = [limiter.hit("k") for _ in range(3)]
    finally:
        limiter.close()
    assert [d.allowed for d in decisions] == [True, True, False]
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not per request


# -- factory ----------------------------------------------------------------------------------


def test_create_rate_limiter_none_without_rate() -> None:
    assert create_rate_limiter(None, None) is None
    assert create_rate_limiter("  ", "redis://127.0.0.1:6379/0") is None


def test_create_rate_limiter_memory_without_redis() -> None:
    limiter = create_rate_limiter("2/minute", None)
    assert isinstance(limiter, MemoryRateLimiter)
    assert limiter.rate == Rate(2, 60.0)


@pytest.mark.redis
def test_create_rate_limiter_redis_with_url(redis_url: str) -> None:
    limiter = create_rate_limiter("50/30s", redis_url)
    assert isinstance(limiter, RedisRateLimiter)
    try:
        assert limiter.rate == Rate(50, 30.0)
    finally:
        limiter.close()


def test_create_rate_limiter_rejects_bad_rate() -> None:
    with pytest.raises(ValueError, match="invalid rate"):
        create_rate_limiter("lots", None)


# -- helpers ----------------------------------------------------------------------------------


def _hammer(limiter: MemoryRateLimiter | RedisRateLimiter, *, threads: int, hits_each: int) -> int:
    return _hammer_many([limiter], threads=threads, hits_each=hits_each)


def _hammer_many(
    limiters: list[MemoryRateLimiter] | list[RedisRateLimiter], *, threads: int, hits_each: int
) -> int:
    """Hit one key from many threads released together; return how many hits were allowed."""
    barrier = threading.Barrier(threads)
    counts = [0] * threads

    def work(index: int) -> None:
        limiter = limiters[index % len(limiters)]
        barrier.wait()
        for _ in range(hits_each):
            if limiter.hit("burst").allowed:
                counts[index] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts)
