"""Per-key rate limiting: a token bucket, in process memory or shared through Redis.

Why a token bucket: it allows a burst of up to ``limit`` requests and then a steady
``limit / period`` per second, which is what a client reading ``600/minute`` expects, without the
double-burst at window edges that fixed windows allow.

Both limiters answer with a :class:`Decision` carrying everything the API layer needs for the
``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` and ``Retry-After`` headers
(DESIGN §2). ``RateLimit-Reset`` follows the IETF ``RateLimit`` header draft: the number of
seconds until the quota resets, which for a token bucket is the time until it is full again.
``Retry-After`` is the whole number of seconds (at least 1) until enough tokens are back.

A Redis outage does not take the API down and does not switch limiting off: the Redis limiter
logs a warning and falls back to an in-process bucket until Redis answers again, so limits keep
holding per process (looser by the number of processes) instead of failing open or closed.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis
import redis.exceptions

__all__ = [
    "Decision",
    "MemoryRateLimiter",
    "Rate",
    "RateLimiter",
    "RedisRateLimiter",
    "create_rate_limiter",
    "parse_rate",
]

logger = logging.getLogger(__name__)

# Unit spellings accepted after the slash, mapped to seconds. Data, not an if-chain.
_UNIT_SECONDS: dict[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}

_RATE_RE = re.compile(
    r"^\s*(?P<limit>\d+)\s*(?:/|\s+per\s+)\s*(?P<count>\d+(?:\.\d+)?)?\s*(?P<unit>[a-z]+)\s*$",
    re.IGNORECASE,
)

# Float arithmetic turns "exactly 30 seconds" into 30.000000001; rounding that up to 31 would
# make Retry-After lie by a second, so values this close to a whole number count as whole.
_EPSILON = 1e-6


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``period_s`` seconds; also the bucket capacity (the burst)."""

    limit: int
    period_s: float

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"rate limit must be at least 1, got {self.limit}")
        if not self.period_s > 0:
            raise ValueError(f"rate period must be positive, got {self.period_s}")

    @property
    def per_second(self) -> float:
        """Refill speed of the bucket, in tokens per second."""
        return self.limit / self.period_s


def parse_rate(text: str) -> Rate:
    """Parse ``"600/minute"``, ``"10/second"``, ``"100/hour"``, ``"5000/day"``, ``"50/30s"``.

    Also accepted: short units (``s m h d``), plurals, ``per`` instead of the slash
    (``"10 per second"``) and a multiplier before any unit (``"100/5m"``).

    >>> parse_rate("50/30s")
    Rate(limit=50, period_s=30.0)
    >>> parse_rate("600 per minute")
    Rate(limit=600, period_s=60.0)
    """
    match = _RATE_RE.match(text)
    expected = 'expected "<count>/<period>" such as "600/minute", "10/second" or "50/30s"'
    if match is None:
        raise ValueError(f"invalid rate {text!r}: {expected}")
    unit = match["unit"].lower()
    if unit not in _UNIT_SECONDS:
        units = ", ".join(sorted(set(_UNIT_SECONDS)))
        raise ValueError(f"invalid rate {text!r}: unknown unit {unit!r} (use one of: {units})")
    count = float(match["count"]) if match["count"] is not None else 1.0
    limit = int(match["limit"])
    period_s = count * _UNIT_SECONDS[unit]
    if limit < 1 or period_s <= 0:
        raise ValueError(f"invalid rate {text!r}: count and period must both be positive")
    return Rate(limit=limit, period_s=period_s)


@dataclass(frozen=True)
class Decision:
    """The outcome of one hit, with the numbers the rate-limit response headers report.

    ``remaining`` is the whole number of tokens left after this hit, ``reset_s`` the seconds
    until the bucket is full again, ``retry_after_s`` the seconds until a denied hit would
    succeed (0 when allowed).
    """

    allowed: bool
    limit: int
    remaining: int
    reset_s: int
    retry_after_s: int

    def headers(self) -> dict[str, str]:
        """The response headers of DESIGN §2; ``Retry-After`` only on a denial."""
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after_s)
        return out


class RateLimiter(Protocol):
    """Anything that can take a hit for a key and say whether it is allowed."""

    def hit(self, key: str, *, cost: int = 1) -> Decision: ...


def _ceil(value: float) -> int:
    return max(0, math.ceil(value - _EPSILON))


def _check_cost(rate: Rate, cost: int) -> None:
    # A cost above the capacity could never succeed; that is a programming error, and a 429
    # with a Retry-After that will never come true would mislead the client.
    if cost < 1 or cost > rate.limit:
        raise ValueError(f"cost must be between 1 and the limit ({rate.limit}), got {cost}")


def _decide(rate: Rate, tokens: float, allowed: bool, cost: int) -> Decision:
    """Turn the bucket level *after* the hit into the header numbers.

    Shared by both limiters so that memory and Redis report identically.
    """
    per_second = rate.per_second
    tokens = min(float(rate.limit), max(0.0, tokens))
    retry_after = 0 if allowed else max(1, _ceil((cost - tokens) / per_second))
    return Decision(
        allowed=allowed,
        limit=rate.limit,
        remaining=math.floor(tokens + _EPSILON),
        reset_s=_ceil((rate.limit - tokens) / per_second),
        retry_after_s=retry_after,
    )


@dataclass
class _Bucket:
    tokens: float
    updated: float


class MemoryRateLimiter:
    """Token buckets in this process, one per key; thread-safe.

    Memory stays bounded in two ways. A bucket untouched for a whole period is necessarily full
    again, which is exactly the state of a key never seen, so such buckets are dropped as hits
    arrive (cheaply: buckets are kept in least-recently-used order, so only the front is
    looked at). And if more than ``max_keys`` keys are active within one period, the least
    recently used bucket is forgotten, which can only be lenient to that key, never strict.
    """

    def __init__(
        self,
        rate: Rate,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = 100_000,
    ) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys}")
        self.rate = rate
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Number of buckets currently held (for tests and diagnostics)."""
        with self._lock:
            return len(self._buckets)

    def hit(self, key: str, *, cost: int = 1) -> Decision:
        _check_cost(self.rate, cost)
        with self._lock:
            now = self._clock()
            self._evict_idle(now)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = _Bucket(tokens=float(self.rate.limit), updated=now)
                self._buckets[key] = bucket
                while len(self._buckets) > self._max_keys:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
                # max(): a clock that steps backwards must not drain the bucket.
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(
                    float(self.rate.limit), bucket.tokens + elapsed * self.rate.per_second
                )
                bucket.updated = now
            allowed = bucket.tokens + _EPSILON >= cost
            if allowed:
                bucket.tokens = max(0.0, bucket.tokens - cost)
            return _decide(self.rate, bucket.tokens, allowed, cost)

    def _evict_idle(self, now: float) -> None:
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if now - oldest.updated < self.rate.period_s:
                return
            self._buckets.popitem(last=False)


# One atomic round trip: read the bucket, refill it by the server clock, take the cost, write it
# back with an expiry at the moment it would be full (an absent key *is* a full bucket, so Redis
# memory stays bounded by the active keys). Using Redis TIME rather than each caller's clock
# keeps several gnomon processes on different hosts in agreement. Levels travel as strings
# because Redis truncates Lua numbers to integers on the way out.
_TOKEN_BUCKET_LUA = """
if redis.replicate_commands then redis.replicate_commands() end
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local rate = limit / period
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = limit
  ts = now
end
local elapsed = now - ts
if elapsed < 0 then elapsed = 0 end
tokens = math.min(limit, tokens + elapsed * rate)
local allowed = 0
if tokens + 1e-6 >= cost then
  tokens = math.max(0, tokens - cost)
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
  'ts', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((limit - tokens) / rate * 1000) + 1000)
return {allowed, string.format('%.17g', tokens)}
"""


class RedisRateLimiter:
    """Token buckets in Redis, shared by every process pointed at the same server and prefix.

    On a Redis error the hit is decided by an in-process :class:`MemoryRateLimiter` instead, a
    warning is logged (once per outage, not once per request), and Redis is not asked again for
    ``retry_interval_s`` so that a dead server does not add a timeout to every request.
    """

    def __init__(
        self,
        url: str,
        rate: Rate,
        prefix: str = "gnomon:rl:",
        *,
        socket_timeout_s: float = 0.5,
        retry_interval_s: float = 5.0,
    ) -> None:
        self.rate = rate
        self.prefix = prefix
        self._client: redis.Redis = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=socket_timeout_s,
        )
        # register_script runs EVALSHA and reloads the script itself after a SCRIPT FLUSH or a
        # server restart (NOSCRIPT), so the body is sent only when the server lacks it.
        self._script = self._client.register_script(_TOKEN_BUCKET_LUA)
        self._fallback = MemoryRateLimiter(rate)
        self._retry_interval_s = retry_interval_s
        self._lock = threading.Lock()
        self._down_until: float | None = None

    def hit(self, key: str, *, cost: int = 1) -> Decision:
        _check_cost(self.rate, cost)
        if self._redis_paused():
            return self._fallback.hit(key, cost=cost)
        try:
            raw = self._script(
                keys=[self.prefix + key],
                args=[self.rate.limit, repr(self.rate.period_s), cost],
            )
        except redis.exceptions.RedisError as exc:
            self._mark_down(exc)
            return self._fallback.hit(key, cost=cost)
        self._mark_up()
        allowed_raw, tokens_raw = raw
        tokens = float(tokens_raw.decode() if isinstance(tokens_raw, bytes) else tokens_raw)
        return _decide(self.rate, tokens, int(allowed_raw) == 1, cost)

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def _redis_paused(self) -> bool:
        with self._lock:
            return self._down_until is not None and time.monotonic() < self._down_until

    def _mark_down(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_until is None
            self._down_until = time.monotonic() + self._retry_interval_s
        if first:
            logger.warning(
                "rate limiter: Redis unavailable (%s); limiting per process until it is back",
                exc,
                extra={"event": "ratelimit.redis_down"},
            )

    def _mark_up(self) -> None:
        with self._lock:
            was_down = self._down_until is not None
            self._down_until = None
        if was_down:
            logger.warning(
                "rate limiter: Redis is back; limits are shared again",
                extra={"event": "ratelimit.redis_up"},
            )


def create_rate_limiter(rate_text: str | None, redis_url: str | None) -> RateLimiter | None:
    """Build the limiter the settings ask for (``GNOMON_RATE_LIMIT``, ``GNOMON_REDIS_URL``).

    No rate (unset or blank) means no limiting. With a Redis URL the buckets are shared by all
    processes; without one each process limits on its own.
    """
    if rate_text is None or not rate_text.strip():
        return None
    rate = parse_rate(rate_text)
    if redis_url:
        return RedisRateLimiter(redis_url, rate)
    return MemoryRateLimiter(rate)
