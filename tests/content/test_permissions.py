"""Permission inheritance on a 3-level tree, the access list, and list visibility.

Tree: /Finance (analysts VIEWER) / Reports (editors EDITOR) / Board (analysts NO_ACCESS),
with a dashboard in /Finance/Reports/Board.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.content.conftest import Member, make_groups, make_member


@dataclass
class Tree:
    finance: str
    reports: str
    board: str
    doc: str
    analyst: Member  # analysts only
    editor: Member  # editors only
    both: Member  # analysts and editors
    outsider: Member  # no group


def _folder(client: TestClient, org: Org, path: str, permissions: dict[str, str]) -> str:
    r = client.post(
        "/api/v1/folders", headers=org.headers, json={"path": path, "permissions": permissions}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


@pytest.fixture
def tree(client: TestClient, org: Org) -> Tree:
    make_groups(client, org, "analysts", "editors")
    finance = _folder(client, org, "/Finance", {"analysts": "VIEWER"})
    reports = _folder(client, org, "/Finance/Reports", {"editors": "EDITOR"})
    board = _folder(client, org, "/Finance/Reports/Board", {"analysts": "NO_ACCESS"})
    r = client.post(
        "/api/v1/documents",
        headers=org.headers,
        json={"name": "Board pack", "folder": {"path": "/Finance/Reports/Board"}},
    )
    assert r.status_code == 201, r.text
    return Tree(
        finance=finance,
        reports=reports,
        board=board,
        doc=r.json()["data"]["id"],
        analyst=make_member(client, org, "ann@example.com", ["analysts"]),
        editor=make_member(client, org, "ed@example.com", ["editors"]),
        both=make_member(client, org, "bo@example.com", ["analysts", "editors"]),
        outsider=make_member(client, org, "out@example.com", []),
    )


def _role(client: TestClient, member: Member, kind: str, rid: str) -> str | None:
    r = client.get(f"/api/v1/{kind}/{rid}", headers=member.headers)
    return r.json()["data"]["role"] if r.status_code == 200 else None


def test_roles_are_inherited_and_overridden_per_grantee(client: TestClient, tree: Tree) -> None:
    # analysts: VIEWER inherited from /Finance into /Reports, cut by NO_ACCESS on /Board.
    assert _role(client, tree.analyst, "folders", tree.finance) == "VIEWER"
    assert _role(client, tree.analyst, "folders", tree.reports) == "VIEWER"
    assert _role(client, tree.analyst, "folders", tree.board) is None
    assert _role(client, tree.analyst, "documents", tree.doc) is None
    # editors: nothing on /Finance, EDITOR from /Reports down to the document.
    assert _role(client, tree.editor, "folders", tree.finance) is None
    assert _role(client, tree.editor, "folders", tree.board) == "EDITOR"
    assert _role(client, tree.editor, "documents", tree.doc) == "EDITOR"
    # a member of both gets the highest role that applies.
    assert _role(client, tree.both, "documents", tree.doc) == "EDITOR"
    assert _role(client, tree.outsider, "folders", tree.finance) is None


def test_access_list_names_the_grant_each_role_comes_from(
    client: TestClient, org: Org, tree: Tree
) -> None:
    r = client.get(f"/api/v1/documents/{tree.doc}/access-list", headers=org.headers)
    assert r.status_code == 200, r.text
    entries = {e["email"]: e for e in r.json()["data"]}
    assert set(entries) == {"ed@example.com", "bo@example.com"}
    source = entries["ed@example.com"]["source"]
    assert entries["ed@example.com"]["role"] == "EDITOR"
    assert source["type"] == "group"
    assert source["grantee_name"] == "editors"
    assert source["resource_id"] == tree.reports
    assert source["path"] == "/Finance/Reports"
    assert source["inherited"] is True
    folder_list = client.get(f"/api/v1/folders/{tree.finance}/access-list", headers=org.headers)
    assert {e["email"] for e in folder_list.json()["data"]} == {"ann@example.com", "bo@example.com"}


def test_lists_never_show_what_the_caller_cannot_open(client: TestClient, tree: Tree) -> None:
    def folders(m: Member) -> list[str]:
        return [f["path"] for f in client.get("/api/v1/folders", headers=m.headers).json()["data"]]

    def documents(m: Member) -> tuple[list[str], int]:
        body = client.get("/api/v1/documents", headers=m.headers).json()
        return [d["id"] for d in body["data"]], body["meta"]["total"]

    assert folders(tree.analyst) == ["/Finance", "/Finance/Reports"]
    assert documents(tree.analyst) == ([], 0)
    assert folders(tree.editor) == ["/Finance/Reports", "/Finance/Reports/Board"]
    assert documents(tree.editor) == ([tree.doc], 1)
    assert folders(tree.outsider) == []
    assert documents(tree.outsider) == ([], 0)
    # Filtering by a folder the caller cannot open shows nothing either.
    r = client.get(f"/api/v1/documents?folder_id={tree.board}", headers=tree.analyst.headers)
    assert r.json()["meta"]["total"] == 0


def test_viewers_read_editors_edit_managers_grant(client: TestClient, org: Org, tree: Tree) -> None:
    rename = {"name": "Board pack v2"}
    url = f"/api/v1/documents/{tree.doc}"
    assert client.patch(url, headers=tree.analyst.headers, json=rename).status_code == 404
    assert client.patch(url, headers=tree.editor.headers, json=rename).status_code == 200
    grant = {"permissions": {"analysts": "VIEWER"}}
    r = client.put(f"{url}/permissions", headers=tree.editor.headers, json=grant)
    assert r.status_code == 403
    assert "MANAGER" in r.json()["message"]
    # A finance viewer can read /Finance but not edit it.
    r = client.patch(
        f"/api/v1/folders/{tree.finance}", headers=tree.analyst.headers, json={"description": "x"}
    )
    assert r.status_code == 403
    # The admin grants analysts VIEWER on the document itself: a nearer grant wins.
    assert client.put(f"{url}/permissions", headers=org.headers, json=grant).status_code == 200
    assert _role(client, tree.analyst, "documents", tree.doc) == "VIEWER"
    perms = client.get(f"{url}/permissions", headers=org.headers).json()["data"]
    assert perms["permissions"] == {"analysts": "VIEWER"}
    inherited = {(g["grantee_name"], g["role"], g["from_path"]) for g in perms["inherited"]}
    assert inherited == {("editors", "EDITOR", "/Finance/Reports")}


def test_permission_changes_are_audited(client: TestClient, org: Org, tree: Tree) -> None:
    client.put(
        f"/api/v1/folders/{tree.board}/permissions",
        headers=org.headers,
        json={"permissions": {"editors": "VIEWER"}},
    )
    events = client.get(f"/api/v1/audit-events?target_id={tree.board}", headers=org.headers).json()[
        "data"
    ]
    changed = [e for e in events if e["action"] == "permissions.changed"]
    assert [e["data"]["permissions"] for e in changed][:1] == [{"editors": "VIEWER"}]
    assert changed[0]["changes"]["permissions"]["before"] == {"analysts": "NO_ACCESS"}


def test_members_create_only_where_they_may_edit(client: TestClient, tree: Tree) -> None:
    in_board = {"name": "Mine", "folder": {"path": "/Finance/Reports/Board"}}
    r = client.post("/api/v1/documents", headers=tree.editor.headers, json=in_board)
    assert r.status_code == 201, r.text
    # The creator keeps MANAGER on what they made.
    assert r.json()["data"]["role"] == "MANAGER"
    r = client.post(
        "/api/v1/documents",
        headers=tree.analyst.headers,
        json={"name": "Nope", "folder": {"path": "/Finance"}},
    )
    assert r.status_code == 403
    r = client.post("/api/v1/documents", headers=tree.editor.headers, json={"name": "At root"})
    assert r.status_code == 403
