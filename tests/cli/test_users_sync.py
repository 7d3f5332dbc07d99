"""`gnomon users sync`: the seed's HR sync, idempotent over a 1,000-row file."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import Result
from tests.cli.conftest import Cli
from tests.client.servers import RestartableServer

from gnomon.cli.users import _create_many
from gnomon.cli.users_sync import Action
from gnomon.client import Gnomon

MAPPING = """
match_on: email
name: "{first_name} {last_name}"
external_id: employee_id
user_attributes:
  employee_id: employee_id
  department: department
  job_title: job_title
  manager_email: manager_email
  cost_center: cost_center
  security_clearance: security_level
  start_date: start_date
connection_roles:
  column: job_title
  map:
    Data Analyst: {main_db: QUERIER}
    Business Analyst: {main_db: RESTRICTED_QUERIER}
    Executive: {main_db: VIEWER}
    Data Engineer: {main_db: CONNECTION_ADMIN}
    Manager: {main_db: QUERIER}
  default: {main_db: VIEWER}
groups: ["{department|slug}_team"]
groups_by:
  column: job_title
  map: {Executive: [executives], Data Engineer: [data_team]}
deactivate_missing: true
managed_attribute: employee_id
"""

TITLES = ["Data Analyst", "Business Analyst", "Executive", "Data Engineer", "Manager", "Intern"]
DEPARTMENTS = ["Sales", "Marketing", "Customer Success", "Finance"]
COLUMNS = [
    "email",
    "first_name",
    "last_name",
    "employee_id",
    "department",
    "job_title",
    "manager_email",
    "cost_center",
    "security_level",
    "start_date",
]


def hr_rows(count: int) -> list[dict[str, str]]:
    return [
        {
            "email": f"emp{i:04d}@example.com",
            "first_name": f"First{i}",
            "last_name": f"Last{i}",
            "employee_id": f"E{i:05d}",
            "department": DEPARTMENTS[i % len(DEPARTMENTS)],
            "job_title": TITLES[i % len(TITLES)],
            "manager_email": f"emp{i // 10:04d}@example.com",
            "cost_center": f"CC-{i % 7}",
            "security_level": str(i % 3),
            "start_date": f"2024-{(i % 12) + 1:02d}-01",
        }
        for i in range(count)
    ]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def user_events(gn: Gnomon) -> int:
    return gn.audit_events.list(action="user.*", per_page=1).total


def test_sync_of_1000_rows_is_idempotent(
    cli: Cli, demo_server: RestartableServer, org_token: str, tmp_path: Path
) -> None:
    env = {"url": demo_server.url, "token": org_token}
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING)
    rows = hr_rows(1000)
    hr = write_csv(tmp_path / "hr.csv", rows)
    args = ["users", "sync", "--csv", str(hr), "--mapping", str(mapping)]

    planned = cli(*args, "--dry-run", **env).output
    assert "to create" in planned
    with Gnomon(demo_server.url, org_token) as gn:
        assert gn.users.list().total == 0  # the dry run wrote nothing

        first = cli(*args, **env).output
        assert "created" in first
        assert gn.users.list(active=True).total == 1000
        ada = gn.users.find_by_email("emp0003@example.com")
        assert ada is not None
        assert ada.name == "First3 Last3"
        assert ada.connection_roles == {"main_db": "CONNECTION_ADMIN"}  # a Data Engineer
        assert sorted(ada.groups) == ["data_team", "finance_team"]
        assert ada.user_attributes["employee_id"] == "E00003"
        events = user_events(gn)

        # Second run over the same file: nothing to do, nothing written.
        second = cli(*args, **env).output
        assert _count(second, "unchanged") == 1000
        assert _count(second, "updated") == 0
        assert user_events(gn) == events

        # HR changes: one promotion, one leaver.
        rows[3]["job_title"] = "Executive"
        del rows[5]
        write_csv(hr, rows)
        third = cli(*args, **env).output
        assert _count(third, "updated") == 1
        assert _count(third, "deactivated") == 1
        promoted = gn.users.find_by_email("emp0003@example.com")
        assert promoted is not None
        assert promoted.connection_roles == {"main_db": "VIEWER"}
        assert sorted(promoted.groups) == ["executives", "finance_team"]
        leaver = gn.users.find_by_email("emp0005@example.com")
        assert leaver is not None
        assert leaver.active is False
        # The organization's admin (no employee_id) is never deactivated by an HR file.
        assert gn.whoami().is_org_admin


def _failing_sync(
    cli: Cli, server: RestartableServer, token: str, hr: Path, mapping: Path
) -> Result:
    args = ["users", "sync", "--csv", str(hr), "--mapping", str(mapping)]
    return cli(*args, url=server.url, token=token, ok=False)


def _count(output: str, label: str) -> int:
    for line in output.splitlines():
        cells = [c.strip() for c in line.replace("│", "|").split("|") if c.strip()]
        if len(cells) == 2 and cells[0] == label:
            return int(cells[1])
    raise AssertionError(f"no {label!r} row in:\n{output}")


def test_sync_reports_every_problem_in_the_file(
    cli: Cli, demo_server: RestartableServer, org_token: str, tmp_path: Path
) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING)
    rows = hr_rows(3)
    rows[1]["email"] = ""
    rows[2]["email"] = rows[0]["email"]
    hr = write_csv(tmp_path / "bad.csv", rows)
    result = _failing_sync(cli, demo_server, org_token, hr, mapping)
    assert result.exit_code == 2
    assert "line 3" in result.output
    assert "line 4" in result.output


def test_a_row_the_server_refuses_fails_alone(
    cli: Cli, demo_server: RestartableServer, org_token: str, tmp_path: Path
) -> None:
    """New users go 100 per request; a row whose value the server refuses (a date attribute
    given text) is reported with the reason, and the rest of its batch is created."""
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING)
    rows = hr_rows(150)
    rows[42]["start_date"] = "next spring"
    hr = write_csv(tmp_path / "hr.csv", rows)
    with Gnomon(demo_server.url, org_token) as gn:
        gn.user_attributes.create(name="start_date", type="date")
        result = _failing_sync(cli, demo_server, org_token, hr, mapping)
        assert result.exit_code == 1
        assert "failed create emp0042@example.com" in result.output
        assert "start_date" in result.output  # the reason names the attribute
        assert _count(result.output, "failed") == 1
        assert gn.users.list(active=True).total == 149
        assert gn.users.find_by_email("emp0042@example.com") is None
        assert gn.users.find_by_email("emp0043@example.com") is not None


def test_a_batch_refused_whole_falls_back_to_one_request_per_user(
    demo_server: RestartableServer, org_token: str
) -> None:
    """A body the server cannot read at all makes it refuse the whole batch (422, nothing
    created); the sync then sends the chunk one user at a time so only that row fails."""
    good = [
        Action("create", f"ok{i}@example.com", {"email": f"ok{i}@example.com"}) for i in range(3)
    ]
    bad = Action("create", "bad@example.com", {"email": "bad@example.com", "groups": "x"})
    with Gnomon(demo_server.url, org_token) as gn:
        failures = _create_many(gn, [good[0], bad, good[1], good[2]])
        assert len(failures) == 1
        assert failures[0].startswith("create bad@example.com:")
        assert gn.users.list().total == 3
