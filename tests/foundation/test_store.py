"""The metadata store on SQLite and PostgreSQL: migrations, concurrent writers, the chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from gnomon.apikeys import service as keys
from gnomon.apikeys.schemas import ApiKeyCreate
from gnomon.audit import service as audit
from gnomon.config import Settings
from gnomon.organizations import service as orgs
from gnomon.organizations.schemas import OrganizationCreate
from gnomon.principal import Principal, RequestMeta
from gnomon.store import migrate
from gnomon.store.db import Store


def _store(url: str) -> Store:
    store = Store.from_url(url)
    migrate.upgrade(store.engine)
    return store


def test_migrations_reach_head_and_are_idempotent(store_url: str) -> None:
    store = _store(store_url)
    try:
        assert migrate.is_up_to_date(store.engine)
        migrate.upgrade(store.engine)  # a second run changes nothing and does not fail
        names = set(sa.inspect(store.engine).get_table_names())
        assert {"organizations", "api_keys", "events", "event_heads", "idempotency_keys"} <= names
    finally:
        store.dispose()


def test_ten_concurrent_writers_no_errors_and_chain_intact(store_url: str) -> None:
    store = _store(store_url)
    try:
        with store.transaction() as s:
            org = orgs.create(
                s, OrganizationCreate(name="Concurrency"), RequestMeta(), Settings()
            ).organization
        admin = Principal.system(org.id)
        with store.transaction(write=False) as s:
            baseline = audit.verify(s, admin).checked  # organization.created and its setup

        def writer(i: int) -> None:
            for j in range(5):
                with store.transaction() as s:
                    keys.create(s, admin, ApiKeyCreate(name=f"w{i}-{j}", kind="organization"))

        with ThreadPoolExecutor(max_workers=10) as pool:
            list(pool.map(writer, range(10)))  # re-raises any writer's error

        with store.transaction(write=False) as s:
            _listed, total = keys.list_keys(
                s, admin, sort="name", descending=False, offset=0, limit=200
            )
            assert total == 51  # 50 + the org's first key
            result = audit.verify(s, admin)
        assert result.ok
        assert result.checked == baseline + 50  # + 50 api_key.created
    finally:
        store.dispose()


def test_failed_transaction_writes_nothing(store_url: str) -> None:
    store = _store(store_url)
    try:
        with store.transaction() as s:
            org = orgs.create(
                s, OrganizationCreate(name="Atomic"), RequestMeta(), Settings()
            ).organization
        admin = Principal.system(org.id)
        with store.transaction(write=False) as s:
            baseline = audit.verify(s, admin).checked
        try:
            with store.transaction() as s:
                keys.create(s, admin, ApiKeyCreate(name="doomed", kind="organization"))
                raise RuntimeError("fail after the write")
        except RuntimeError:
            pass
        with store.transaction(write=False) as s:
            _, total = keys.list_keys(s, admin, sort="name", descending=False, offset=0, limit=10)
            assert total == 1
            assert audit.verify(s, admin).checked == baseline  # rolled back with the change
    finally:
        store.dispose()


def test_sqlite_uses_wal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = _store(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        store.dispose()
