"""The identity repositories on SQLite and PostgreSQL (migration 0002 applied)."""

from __future__ import annotations

from gnomon.identity import attributes_repository as attrs_repo
from gnomon.identity import groups_repository as groups_repo
from gnomon.identity import repository as users_repo
from gnomon.identity import roles_repository as roles_repo
from gnomon.organizations import repository as orgs_repo
from gnomon.store import migrate
from gnomon.store.db import Store
from gnomon.util import new_id, utcnow


def test_repositories_round_trip_and_stay_in_their_org(store_url: str) -> None:
    store = Store.from_url(store_url)
    migrate.upgrade(store.engine)
    now = utcnow()
    orgs = [new_id(), new_id()]
    try:
        with store.transaction() as s:
            for oid in orgs:
                orgs_repo.insert_org(s, {"id": oid, "name": oid, "slug": oid, "created_at": now})
            uid, gid, aid = new_id(), new_id(), new_id()
            users_repo.insert_user(
                s,
                {
                    "id": uid,
                    "org_id": orgs[0],
                    "email": "a@x.test",
                    "name": "A",
                    "org_role": "MEMBER",
                    "active": True,
                    "user_name": "a@x.test",
                    "scim_data": {"nickName": "a"},
                    "created_at": now,
                    "updated_at": now,
                },
            )
            groups_repo.insert_group(
                s, {"id": gid, "org_id": orgs[0], "name": "g", "created_at": now, "updated_at": now}
            )
            groups_repo.set_user_groups(s, orgs[0], uid, [gid])
            attrs_repo.insert_definition(
                s,
                {
                    "id": aid,
                    "org_id": orgs[0],
                    "name": "region",
                    "label": "Region",
                    "type": "string",
                    "multiple": True,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            attrs_repo.set_values(s, orgs[0], ("user", uid), {aid: ["EU", "US"]}, replace_all=True)
            roles_repo.set_grants(
                s, orgs[0], "group", gid, {"main_db": "QUERIER"}, replace_all=True
            )
        with store.transaction(write=False) as s:
            assert users_repo.find_by_user_name(s, orgs[0], "A@X.TEST")["scim_data"] == {
                "nickName": "a"
            }  # type: ignore[index]
            assert users_repo.get_user(s, orgs[1], uid) is None
            assert groups_repo.group_names_for_users(s, orgs[0], [uid]) == {uid: ["g"]}
            assert attrs_repo.values_for(s, orgs[0], "user", [uid]) == {
                uid: {"region": ["EU", "US"]}
            }
            assert attrs_repo.values_for(s, orgs[1], "user", [uid]) == {}
            assert roles_repo.roles_reaching_user(s, orgs[0], uid) == [("main_db", "QUERIER")]
            assert roles_repo.roles_reaching_user(s, orgs[1], uid) == []
            rows, total = users_repo.list_users(s, orgs[0], group_id=gid, q="a@")
            assert (total, [r["id"] for r in rows]) == (1, [uid])
    finally:
        store.dispose()
