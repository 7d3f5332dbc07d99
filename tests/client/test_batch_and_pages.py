"""Pagination iterators and bounded-concurrency batches against a live SQLite-backed server."""

from __future__ import annotations

import asyncio

from tests.client.servers import RestartableServer

from gnomon.client import AsyncGnomon, Gnomon, NotFoundError
from gnomon.client.models import ApiKey


def _make_keys(gn: Gnomon, count: int, prefix: str) -> list[ApiKey]:
    results = gn.batch(
        range(count),
        lambda i: gn.api_keys.create(name=f"{prefix}-{i:03d}", kind="organization"),
        concurrency=10,
    )
    results.raise_for_errors()
    return [r.value for r in results if r.value is not None]


def test_iter_walks_every_page_following_links(gn: Gnomon) -> None:
    _make_keys(gn, 7, "page")
    first = gn.api_keys.list(per_page=3, sort="name")
    assert (first.page, first.per_page, first.total, len(first)) == (1, 3, 8, 3)
    assert first.has_next
    names = [k.name for k in gn.api_keys.iter(per_page=3, sort="name")]
    # 7 made here + the organization's first admin key, each exactly once, in order.
    assert len(names) == 8
    assert [n for n in names if n.startswith("page-")] == [f"page-{i:03d}" for i in range(7)]
    last = gn.api_keys.list(per_page=3, page=3)
    assert not last.has_next


def test_batch_of_200_updates_at_concurrency_10_has_no_errors(gn: Gnomon) -> None:
    keys = _make_keys(gn, 200, "bulk")
    results = gn.batch(
        keys, lambda k: gn.api_keys.update(k.id, name=f"renamed-{k.name}"), concurrency=10
    )
    assert len(results) == 200
    assert results.failed == []
    assert [r.item.id for r in results] == [k.id for k in keys]  # input order kept
    on_server = {k.id: k.name for k in gn.api_keys.iter()}
    assert all(on_server[k.id] == f"renamed-{k.name}" for k in keys)


def test_batch_settles_each_item_like_promise_allsettled(gn: Gnomon) -> None:
    (key,) = _make_keys(gn, 1, "one")
    results = gn.batch([key.id, "missing-1", "missing-2"], gn.api_keys.get, concurrency=3)
    assert [r.status for r in results] == ["fulfilled", "rejected", "rejected"]
    assert results[0].value is not None
    assert results[0].value.id == key.id
    assert all(isinstance(r.error, NotFoundError) for r in results.failed)


def test_async_client_pages_and_batches(gn: Gnomon, live: RestartableServer) -> None:
    token = gn.token

    async def scenario() -> tuple[list[str], int]:
        async with AsyncGnomon(live.url, token) as agn:
            created = await agn.batch(
                range(12),
                lambda i: agn.api_keys.create(name=f"async-{i:02d}", kind="organization"),
                concurrency=4,
            )
            assert created.failed == []
            names = [k.name async for k in agn.api_keys.iter(per_page=5, sort="name")]
            me = await agn.whoami()
            return names, len(created) if me.is_org_admin else -1

    names, count = asyncio.run(scenario())
    assert count == 12
    assert [n for n in names if n.startswith("async-")] == [f"async-{i:02d}" for i in range(12)]


def test_create_many_reports_each_user_on_its_own(gn: Gnomon) -> None:
    """users.create_many against a live server: one request, one outcome per body."""
    items = gn.users.create_many(
        [
            {"email": "many-1@example.com", "name": "Many One"},
            {"email": "many-1@example.com"},  # taken by the item before
            {"email": "many-2@example.com", "groups": ["no-such-group"]},
            {"email": "many-3@example.com"},
        ]
    )
    assert [(i.index, i.status, i.ok) for i in items] == [
        (0, 201, True),
        (1, 409, False),
        (2, 422, False),
        (3, 201, True),
    ]
    assert items[0].data is not None
    assert items[0].data.name == "Many One"
    assert items[1].error is not None
    assert items[1].error["error"] == "conflict"
    found = gn.users.find_by_email("many-3@example.com")
    assert found is not None
    assert gn.users.find_by_email("many-2@example.com") is None
