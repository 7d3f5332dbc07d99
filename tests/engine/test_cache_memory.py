from __future__ import annotations

import threading
import time

from gnomon.engine import CachedResult, Column, MemoryCache, cache_key


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def result(n_rows: int, text: str = "x") -> CachedResult:
    return CachedResult(
        [Column("n", "number"), Column("s", "string")],
        [(i, text * 20) for i in range(n_rows)],
        created_at=time.time(),
    )


def test_hit_returns_the_stored_object() -> None:
    cache = MemoryCache()
    value = result(3)
    cache.set("k", value, ttl_s=60, tags=["conn:1"])

    assert cache.get("k") is value
    assert cache.get("other") is None


def test_entries_expire_after_ttl() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    cache.set("k", result(1), ttl_s=10, tags=[])

    clock.now += 9.9
    assert cache.get("k") is not None
    clock.now += 0.2
    assert cache.get("k") is None
    assert len(cache) == 0
    assert cache.size_bytes == 0


def test_least_recently_used_is_evicted_when_size_is_exceeded() -> None:
    one_entry = MemoryCache()
    one_entry.set("probe", result(100), ttl_s=60, tags=[])
    entry_size = one_entry.size_bytes
    cache = MemoryCache(max_bytes=int(entry_size * 2.5))

    cache.set("a", result(100), ttl_s=60, tags=[])
    cache.set("b", result(100), ttl_s=60, tags=[])
    assert cache.get("a") is not None  # "a" is now more recent than "b"
    cache.set("c", result(100), ttl_s=60, tags=[])

    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None
    assert cache.size_bytes <= cache.max_bytes


def test_entry_larger_than_budget_is_not_stored() -> None:
    cache = MemoryCache(max_bytes=1000)
    cache.set("big", result(1000), ttl_s=60, tags=["conn:1"])

    assert cache.get("big") is None
    assert cache.size_bytes == 0


def test_tag_invalidation_drops_only_tagged_entries() -> None:
    cache = MemoryCache()
    cache.set("a", result(1), ttl_s=60, tags=["conn:1", "model:7"])
    cache.set("b", result(1), ttl_s=60, tags=["conn:1"])
    cache.set("c", result(1), ttl_s=60, tags=["conn:2"])

    assert cache.invalidate_tag("conn:1") == 2
    assert cache.get("a") is None
    assert cache.get("b") is None
    assert cache.get("c") is not None
    assert cache.invalidate_tag("model:7") == 0
    assert cache.invalidate_tag("conn:1") == 0


def test_overwrite_replaces_size_and_tags() -> None:
    cache = MemoryCache()
    cache.set("k", result(50), ttl_s=60, tags=["old"])
    cache.set("k", result(1), ttl_s=60, tags=["new"])

    assert cache.invalidate_tag("old") == 0
    assert cache.get("k") is not None
    assert cache.invalidate_tag("new") == 1
    assert cache.size_bytes == 0


def test_concurrent_writers_keep_accounting_consistent() -> None:
    cache = MemoryCache(max_bytes=200_000)

    def write(worker: int) -> None:
        for i in range(200):
            cache.set(f"{worker}:{i}", result(5), ttl_s=60, tags=[f"w:{worker}"])
            cache.get(f"{worker}:{i // 2}")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert 0 < cache.size_bytes <= cache.max_bytes
    dropped = sum(cache.invalidate_tag(f"w:{w}") for w in range(8))
    assert dropped > 0
    assert cache.size_bytes == 0
    assert len(cache) == 0


def test_cache_key_separates_every_part() -> None:
    base = {
        "sql": "select 1",
        "connection_id": "c1",
        "connection_version": "v1",
        "access_fingerprint": "a",
    }
    key = cache_key(**base)

    assert len(key) == 64
    assert key == cache_key(**base)
    for part in base:
        assert cache_key(**{**base, part: base[part] + "x"}) != key
    assert cache_key(**{**base, "sql": "ab", "connection_id": "c"}) != cache_key(
        **{**base, "sql": "a", "connection_id": "bc"}
    )
