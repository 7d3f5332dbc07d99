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


def test_prepared_select_returns_what_a_session_returns(store_url: str) -> None:
    """Prepared reads (the per-request lookups) convert every column as a Session would, bind
    the statement's own LIMIT, and see the uncommitted writes of the session they run in."""
    from gnomon.apikeys import repository as keys_repo
    from gnomon.modeling import repository as models_repo

    store = _store(store_url)
    try:
        with store.transaction() as s:
            created = orgs.create(s, OrganizationCreate(name="Prepared"), RequestMeta(), Settings())
        secret = created.api_key.secret
        key_id = keys.lookup_id(secret)
        row = keys_repo.find_for_authentication(store.engine, key_id)
        assert row is not None
        with store.transaction(write=False) as s:
            expected = (
                s.execute(
                    sa.select(keys_repo.api_keys).where(keys_repo.api_keys.c.key_id == key_id)
                )
                .mappings()
                .one()
            )
        for name, value in expected.items():
            if name.endswith("_at") and value is not None:
                assert row[name].replace(tzinfo=None) == value.replace(tzinfo=None)
            else:
                assert row[name] == value, name
        assert row["enabled"] is True
        assert isinstance(row["scopes"], list)
        assert row["org_deleted_at"] is None
        assert row["user_active"] is None
        assert keys_repo.find_for_authentication(store.engine, "nope") is None

        org_id = created.organization.id
        with store.transaction() as s:
            default = models_repo.get_default(s, org_id)
            assert default is not None
            assert default["is_default"] is True
            assert models_repo.get_for_connection(s, org_id, "main_db")["id"] == default["id"]
            # A write of this session, not committed yet, is visible to its prepared reads.
            s.execute(
                sa.update(models_repo.models)
                .where(models_repo.models.c.id == default["id"])
                .values(is_default=False)
            )
            assert models_repo.get_default(s, org_id) is None
            s.rollback()
        with store.transaction(write=False) as s:
            assert models_repo.get_default(s, org_id) is not None
    finally:
        store.dispose()


def test_sqlite_writer_lock_is_released_by_commit_and_rollback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gnomon.store.db import writer_lock

    store = _store(f"sqlite:///{tmp_path / 'lock.db'}")
    try:
        lock = writer_lock(store.engine)
        assert lock is not None
        with store.transaction() as s:
            s.execute(sa.text("select 1"))
            assert lock.locked()  # held from BEGIN IMMEDIATE …
        assert not lock.locked()  # … to the commit
        try:
            with store.transaction() as s:
                s.execute(sa.text("select 1"))
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert not lock.locked()  # and released by a rollback
        with store.transaction(write=False) as s:
            s.execute(sa.text("select 1"))
            assert not lock.locked()  # reads never take it
    finally:
        store.dispose()
