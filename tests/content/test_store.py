"""Content on both metadata stores (SQLite and PostgreSQL): the migration's tables, folder
paths and grants through the services, and access computed from them."""

from __future__ import annotations

import sqlalchemy as sa

from gnomon.config import Settings
from gnomon.content import folders
from gnomon.content.schemas import FolderCreate, FolderMove, FolderUpdate
from gnomon.identity import groups_repository
from gnomon.organizations import service as orgs
from gnomon.organizations.schemas import OrganizationCreate
from gnomon.principal import Principal, RequestMeta
from gnomon.store import migrate
from gnomon.store.db import Store
from gnomon.util import new_id, utcnow


def test_folder_tree_and_grants_on_both_stores(store_url: str) -> None:
    store = Store.from_url(store_url)
    try:
        migrate.upgrade(store.engine)
        tables = set(sa.inspect(store.engine).get_table_names())
        assert {"content_folders", "content_documents", "content_grants"} <= tables
        with store.transaction() as s:
            org = orgs.create(
                s, OrganizationCreate(name="Content"), RequestMeta(), Settings()
            ).organization
            admin = Principal.system(org.id)
            now = utcnow()
            groups_repository.insert_group(
                s,
                {
                    "id": new_id(),
                    "org_id": org.id,
                    "name": "sales_team",
                    "created_at": now,
                    "updated_at": now,
                },
            )
            top = folders.create(
                s,
                admin,
                FolderCreate(path="/Departments/Sales", permissions={"sales_team": "EDITOR"}),
            )
            folders.create(s, admin, FolderCreate(path="/Departments/Sales/Reports"))
        with store.transaction() as s:
            renamed = folders.update(s, admin, top.id, FolderUpdate(name="Revenue"))
            assert renamed.path == "/Departments/Revenue"
            moved = folders.move(s, admin, top.id, FolderMove(parent_path="/"))
            assert moved.path == "/Revenue"
        with store.transaction(write=False) as s:
            paths = [f.path for f in folders.list_folders(s, admin, path=None, tree=False)]
            assert paths == ["/Departments", "/Revenue", "/Revenue/Reports"]
            below = folders.list_folders(s, admin, path="/Revenue", tree=False)
            child = next(f for f in below if f.path == "/Revenue/Reports")
            perms = folders.get_permissions(s, admin, child.id)
            assert [(g.grantee_name, g.role, g.from_path) for g in perms.inherited] == [
                ("sales_team", "EDITOR", "/Revenue")
            ]
    finally:
        store.dispose()
