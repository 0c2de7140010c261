"""The admin CLI, run in-process against moto (``run(..., configure=False)``), plus two real subprocess runs."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from admin import cli
from admin.stage import stage_settings
from chalicelib import config
from chalicelib.domain import messages as m
from chalicelib.models import ApiToken, CallOffContract, DeliveryPartner, LeadProvider, School, SchoolCohort
from chalicelib.services import partnerships, providers, tokens
from chalicelib.services.importers import school_id_for
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "cli"
COHORT_DIR = DATA / "cohort"
GIAS_FILE = DATA / "gias" / "ecf_tech.csv"
GIAS_URNS = {"20001", "20002", "20003", "20004", "20005", "149071"}
LPS = ("Ambition Institute", "Capita")
UUID_LENGTH = 36


@dataclass
class Result:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class TtyStringIO(io.StringIO):
    def isatty(self) -> bool:
        return True


def ecf(*argv: str, now=NOW, err: io.StringIO | None = None) -> Result:  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), err or io.StringIO()
    status = cli.run(list(argv), out, err, configure=False, now=now)
    return Result(status, out.getvalue(), err.getvalue())


def ok(*argv: str, now=NOW) -> Result:  # type: ignore[no-untyped-def]
    result = ecf(*argv, now=now)
    assert result.status == 0, result.err
    return result


def assert_error(result: Result, status: int, text: str) -> None:
    """Exit status, exactly one ``error: ...`` line on stderr, no traceback."""
    assert result.status == status, (result.out, result.err)
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    assert text in lines[0]
    assert "Traceback" not in result.err


def count(model: Any) -> int:
    """Items in the model's physical table (several item types may share it)."""
    client = boto3.client("dynamodb", region_name="eu-west-2")
    total, kwargs = 0, {"TableName": model.Meta.table_name, "Select": "COUNT"}
    while True:
        page = client.scan(**kwargs)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def copy_cohort(tmp_path: Path) -> Path:
    target = tmp_path / "cohort"
    shutil.copytree(COHORT_DIR, target)
    return target


def rewrite_csv(path: Path, change: Any, encoding: str = "utf-8") -> None:
    """Rewrite a CSV through ``change(header, rows) -> (header, rows)``."""
    with path.open(encoding=encoding, newline="") as handle:
        header, *rows = list(csv.reader(handle))
    header, rows = change(header, rows)
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows([header, *rows])


def drop_column(name: str) -> Any:
    def change(header: list[str], rows: list[list[str]]) -> Any:
        i = header.index(name)
        return header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows]

    return change


@pytest.fixture
def lps(aws: None) -> None:
    for name in LPS:
        ok("lead-providers", "add", name)


@pytest.fixture
def cohorts(lps: None) -> None:
    ok("import-cohort", str(COHORT_DIR))


@pytest.fixture
def gias(aws: None) -> None:
    ok("import-schools", str(GIAS_FILE))


@pytest.fixture
def partnership(cohorts: None, gias: None) -> str:
    """A partnership reported by Ambition Institute for school 20001, cohort 2024, at NOW."""
    lp = providers.lead_provider_named("Ambition Institute")
    added = ok("delivery-partners", "add", "North Partners", "--lead-provider", lp.name, "--cohort", "2024", "--json")
    record = partnerships.create_partnership(
        lp.id,
        {"cohort": "2024", "school_id": school_id_for("20001"), "delivery_partner_id": added.json()["id"]},
        NOW,
    )
    return record.id


# --------------------------------------------------------------------------- import-cohort


def test_import_cohort_prints_counts_and_writes(lps: None) -> None:
    result = ok("import-cohort", str(COHORT_DIR))
    assert "Imported" in result.out
    assert "cohorts              2024, 2025" in result.out
    assert "statements           12" in result.out
    # Not a terminal: no bar, one summary line on stderr.
    assert result.err == "import-cohort: wrote 16/16 items in " + result.err.split(" in ")[1]
    assert "\r" not in result.err
    assert count(CallOffContract) == 16  # statements have their own table


def test_import_cohort_json_and_rerun_creates_no_duplicates(lps: None) -> None:
    first = ok("import-cohort", str(COHORT_DIR), "--json").json()
    assert first == {
        "directory": str(COHORT_DIR),
        "cohorts": [2024, 2025],
        "lead_provider_links": 4,
        "contracts": 4,
        "mentor_contracts": 4,
        "schedules": 2,
        "milestones": 12,
        "statements": 12,
    }
    items = count(CallOffContract)
    later = NOW + timedelta(days=1)
    again = ok("--json", "import-cohort", str(COHORT_DIR), now=later).json()
    assert again == first
    assert count(CallOffContract) == items
    from chalicelib.repositories import cohorts as cohort_repo

    cohort = cohort_repo.get_cohort(2024)
    assert cohort is not None
    assert cohort.created_at == NOW
    assert cohort.updated_at == later


def test_import_cohort_progress_bar_only_on_a_terminal(lps: None) -> None:
    err = TtyStringIO()
    result = ecf("import-cohort", str(COHORT_DIR), "--json", err=err)
    assert result.status == 0
    assert "\rimport-cohort [" in result.err
    assert "16/16 items" in result.err
    assert result.err.endswith("s\n")
    assert "import-cohort: wrote 16/16 items" in result.err
    assert result.json()["statements"] == 12  # stdout is still one clean JSON document


def test_import_cohort_bad_input_writes_nothing(lps: None, tmp_path: Path) -> None:
    assert_error(ecf("import-cohort", str(tmp_path / "nope")), 1, "nope: not a directory")

    folder = copy_cohort(tmp_path)
    (folder / "contracts.csv").unlink()
    assert_error(ecf("import-cohort", str(folder)), 1, "missing contracts.csv")

    shutil.copy(COHORT_DIR / "contracts.csv", folder / "contracts.csv")
    rewrite_csv(folder / "contracts.csv", drop_column("set-up-fee"))
    assert_error(ecf("import-cohort", str(folder)), 1, "contracts.csv: missing column(s) set-up-fee")

    shutil.copy(COHORT_DIR / "contracts.csv", folder / "contracts.csv")
    rewrite_csv(folder / "contracts.csv", lambda h, rows: (h, [*rows, ["Capita", "2031", *rows[0][2:]]]))
    assert_error(ecf("import-cohort", str(folder)), 1, "contracts.csv line 6: cohort 2031 does not exist")

    shutil.copy(COHORT_DIR / "contracts.csv", folder / "contracts.csv")
    rewrite_csv(folder / "schedules.csv", lambda h, rows: (h, [*rows, ["ecf_weekly", *rows[0][1:]]]))
    assert_error(ecf("import-cohort", str(folder)), 1, "schedules.csv line 14: unknown schedule type 'ecf_weekly'")
    assert count(CallOffContract) == 0


def test_import_cohort_unknown_lead_provider_writes_nothing(aws: None) -> None:
    result = ecf("import-cohort", str(COHORT_DIR))
    assert_error(result, 1, "cohort_lead_providers.csv line 2: no lead provider named 'Ambition Institute'")
    assert count(CallOffContract) == 0


def test_cohort_fixture_is_a_slice_of_the_demo_cohort() -> None:
    demo = ROOT / "data" / "demo-cohort"
    for path in COHORT_DIR.glob("*.csv"):
        mine = path.read_text(encoding="utf-8").splitlines()
        theirs = (demo / path.name).read_text(encoding="utf-8").splitlines()
        assert mine[0] == theirs[0], path.name
        assert set(mine[1:]) <= set(theirs[1:]), path.name


# --------------------------------------------------------------------------- import-schools


def test_import_schools_creates_then_rerun_changes_nothing(aws: None) -> None:
    first = ok("import-schools", str(GIAS_FILE), "--json").json()
    assert first == {"file": str(GIAS_FILE), "rows": 6, "skipped": 0, "created": 6, "updated": 0, "unchanged": 0}
    assert count(School) == 6
    school = School.get(school_id_for("20003"))
    assert school.name == "St Thomas à Becket Church of England Aided Primary School"  # read as ISO-8859-1

    result = ok("import-schools", str(GIAS_FILE), now=NOW + timedelta(hours=1))
    assert "created                 0" in result.out
    assert "unchanged               6" in result.out
    assert result.err.startswith("import-schools: wrote 6/6 schools")
    assert count(School) == 6
    assert School.get(school_id_for("20003")).updated_at == NOW


def test_import_schools_updates_changed_schools(aws: None, tmp_path: Path) -> None:
    ok("import-schools", str(GIAS_FILE))
    changed = tmp_path / "changed.csv"
    shutil.copy(GIAS_FILE, changed)

    def change(header: list[str], rows: list[list[str]]) -> Any:
        col = {name: i for i, name in enumerate(header)}
        for row in rows:
            if row[col["URN"]] == "20001":  # closes
                row[col["EstablishmentStatus (code)"]], row[col["EstablishmentStatus (name)"]] = "2", "Closed"
            if row[col["URN"]] == "20002":  # changes type
                row[col["TypeOfEstablishment (code)"]] = "1"
                row[col["TypeOfEstablishment (name)"]] = "Community school"
            if row[col["URN"]] == "20005":  # renamed
                row[col["EstablishmentName"]] = "Brook Academy Trust School"
        return header, rows

    rewrite_csv(changed, change, encoding="iso-8859-1")
    later = NOW + timedelta(days=2)
    result = ok("import-schools", str(changed), "--json", now=later).json()
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 3, 3)
    assert count(School) == 6

    shown = {urn: ok("schools", "show", urn, "--json").json() for urn in ("20001", "20002", "20005", "20004")}
    assert shown["20001"]["status"] == "Closed"
    assert shown["20001"]["open"] is False
    assert shown["20001"]["eligible"] is False
    assert shown["20002"]["type"] == "Community school"
    assert shown["20005"]["name"] == "Brook Academy Trust School"
    for urn in ("20001", "20002", "20005"):
        assert shown[urn]["updated_at"] == "2024-06-03T12:00:00.000Z"
        assert shown[urn]["created_at"] == "2024-06-01T12:00:00.000Z"
    assert shown["20004"]["updated_at"] == "2024-06-01T12:00:00.000Z"


def test_a_changed_school_email_reaches_its_partnerships_list_and_show(partnership: str, tmp_path: Path) -> None:
    """The partnerships list reads no schools: each row carries its school's contact email, which every GIAS
    import that changes the school rewrites (with the rows' ``updated_at``)."""
    from chalice.test import Client

    import app as app_module
    from tests.api_helpers import Api

    lp = providers.lead_provider_named("Ambition Institute")
    changed = tmp_path / "changed.csv"
    shutil.copy(GIAS_FILE, changed)

    def change(header: list[str], rows: list[list[str]]) -> Any:
        col = {name: i for i, name in enumerate(header)}
        for row in rows:
            if row[col["URN"]] == "20001":
                row[col["MainEmail"]] = "new.office@example.org"
        return header, rows

    rewrite_csv(changed, change, encoding="iso-8859-1")
    with Client(app_module.app, stage_name="test") as client:
        api = Api(client, tokens.create_token(lp.name, NOW).token)
        before = api.get_ok("/api/v3/partnerships/ecf")["data"][0]["attributes"]
        ok("import-schools", str(changed), now=NOW + timedelta(days=2))
        listed = api.get_ok("/api/v3/partnerships/ecf")["data"][0]["attributes"]
        shown = api.get_ok(f"/api/v3/partnerships/ecf/{partnership}")["data"]["attributes"]
    assert before["induction_tutor_email"] != "new.office@example.org"
    assert listed["induction_tutor_email"] == shown["induction_tutor_email"] == "new.office@example.org"
    assert listed["updated_at"] == "2024-06-03T12:00:00.000Z"


def test_import_schools_bad_input_writes_nothing(aws: None, tmp_path: Path) -> None:
    broken = tmp_path / "gias.csv"
    assert_error(ecf("import-schools", str(broken)), 1, "gias.csv: no such file")

    shutil.copy(GIAS_FILE, broken)
    rewrite_csv(broken, drop_column("EstablishmentName"), encoding="iso-8859-1")
    assert_error(ecf("import-schools", str(broken)), 1, "gias.csv: missing column(s) EstablishmentName")

    shutil.copy(GIAS_FILE, broken)
    rewrite_csv(broken, lambda h, rows: (h, [*rows, ["12x", *rows[0][1:]]]), encoding="iso-8859-1")
    assert_error(ecf("import-schools", str(broken)), 1, "gias.csv line 8: URN '12x' is not a number")
    assert count(School) == 0


# --------------------------------------------------------------------------- lead-providers


def test_lead_providers_add_and_list(aws: None) -> None:
    assert ok("lead-providers", "list").out.startswith("No lead providers yet")
    assert ok("lead-providers", "list", "--json").json() == {"lead_providers": []}

    added = ok("lead-providers", "add", "Teach First", "--json").json()
    assert set(added) == {"id", "name", "created_at"}
    assert added["name"] == "Teach First"
    assert len(added["id"]) == UUID_LENGTH
    text = ok("lead-providers", "add", "  Ambition   Institute ").out
    assert "Added lead provider" in text
    assert "name        Ambition Institute" in text

    listed = ok("lead-providers", "list")
    lines = listed.out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "CREATED", "AT"]
    assert [line.split("  ")[1].strip() for line in lines[1:]] == ["Ambition Institute", "Teach First"]
    # Aligned: every name starts in the same column.
    assert len({line.index(name) for line, name in zip(lines[1:], ["Ambition", "Teach"], strict=True)}) == 1
    as_json = ok("--json", "lead-providers", "list").json()["lead_providers"]
    assert [p["name"] for p in as_json] == ["Ambition Institute", "Teach First"]
    assert as_json[1]["id"] == added["id"]


def test_lead_providers_duplicate_name(aws: None) -> None:
    ok("lead-providers", "add", "Capita")
    assert_error(ecf("lead-providers", "add", "Capita"), 1, "A lead provider named 'Capita' already exists")
    assert_error(ecf("lead-providers", "add", "CAPITA"), 1, "already exists")
    assert [p.name for p in LeadProvider.by_name.query("lead_provider")] == ["Capita"]


def test_lead_providers_bad_arguments(aws: None) -> None:
    assert_error(ecf("lead-providers", "add", "  "), 2, "a name cannot be blank")
    assert_error(ecf("lead-providers", "add"), 2, "the following arguments are required: NAME")
    assert_error(ecf("lead-providers", "remove", "x"), 2, "invalid choice: 'remove'")


# --------------------------------------------------------------------------- tokens


def test_tokens_create_prints_token_once_and_stores_only_its_hash(lps: None) -> None:
    result = ok("tokens", "create", "Capita")
    token = result.out.split()[-1]
    assert len(token) == 20
    assert result.out.count(token) == 1
    assert "shown only once" in result.err
    assert token not in result.err

    stored = list(ApiToken.scan())
    assert len(stored) == 1
    item = stored[0]
    assert item.lead_provider_name == "Capita"
    assert item.hashed_token == hmac.new(config.LOCAL_TOKEN_KEY.encode(), token.encode(), hashlib.sha256).hexdigest()
    raw = json.dumps(item.serialize())
    assert token not in raw
    caller = tokens.authenticate(token, NOW)
    assert caller is not None
    assert caller.lead_provider_name == "Capita"


def test_tokens_create_json(lps: None) -> None:
    result = ok("tokens", "create", "Ambition Institute", "--json")
    data = result.json()
    assert set(data) == {"token", "token_id", "lead_provider_id", "lead_provider_name", "created_at"}
    assert data["lead_provider_name"] == "Ambition Institute"
    assert result.out.count(data["token"]) == 1
    assert "shown only once" in result.err


def test_tokens_list_shows_ids_and_times_never_a_token_or_its_hash(lps: None) -> None:
    first = ok("tokens", "create", "Capita", "--json").json()
    second = ok("tokens", "create", "Capita", "--json", now=NOW + timedelta(hours=1)).json()
    ok("tokens", "create", "Ambition Institute")
    tokens.authenticate(first["token"], NOW + timedelta(hours=2))  # first use: last_used_at

    listed = ok("tokens", "list", "Capita")
    as_json = ok("tokens", "list", "Capita", "--json").json()["tokens"]
    assert [t["token_id"] for t in as_json] == [first["token_id"], second["token_id"]]
    assert as_json[0] == {
        "token_id": first["token_id"],
        "lead_provider_name": "Capita",
        "created_at": "2024-06-01T12:00:00.000Z",
        "last_used_at": "2024-06-01T14:00:00.000Z",
        "revoked_at": None,
    }
    assert listed.out.splitlines()[0].split() == ["TOKEN", "ID", "CREATED", "LAST", "USED", "REVOKED"]
    hashes = {item.hashed_token for item in ApiToken.scan()}
    for secret in (first["token"], second["token"], *hashes):
        assert secret not in listed.out + json.dumps(as_json) + listed.err
    assert len(ok("tokens", "list", "Ambition Institute", "--json").json()["tokens"]) == 1
    ok("lead-providers", "add", "Teach First")
    assert "Teach First has no API tokens" in ok("tokens", "list", "Teach First").out


def test_tokens_revoke_refuses_the_token_after_the_cache_window(lps: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from chalice.test import Client

    import app as app_module

    issued = ok("tokens", "create", "Capita", "--json").json()
    kept = ok("tokens", "create", "Capita", "--json", now=NOW + timedelta(seconds=1)).json()
    monkeypatch.setattr(config, "_override", [replace(config.current(), auth_cache_seconds=60)])
    clock = [1000.0]
    monkeypatch.setattr(tokens.time, "monotonic", lambda: clock[0])
    headers = {"Authorization": f"Bearer {issued['token']}"}
    with Client(app_module.app, stage_name="test") as client:
        assert client.http.get("/api/v3/delivery-partners", headers=headers).status_code == 200
        result = ok("tokens", "revoke", issued["token_id"], now=NOW + timedelta(minutes=1))
        assert result.out.strip() == f"Revoked API token {issued['token_id']} of Capita."
        clock[0] += 59  # still inside AUTH_CACHE_SECONDS: the cached lookup answers
        assert client.http.get("/api/v3/delivery-partners", headers=headers).status_code == 200
        clock[0] += 2  # past it: looked up again, and refused like an unknown token
        refused = client.http.get("/api/v3/delivery-partners", headers=headers)
        other = {"Authorization": f"Bearer {kept['token']}"}
        assert client.http.get("/api/v3/delivery-partners", headers=other).status_code == 200
    assert refused.status_code == 401
    assert json.loads(refused.body) == {"error": "HTTP Token: Access denied"}
    shown = ok("tokens", "list", "Capita", "--json").json()["tokens"]
    assert [t["revoked_at"] for t in shown] == ["2024-06-01T12:01:00.000Z", None]
    assert_error(ecf("tokens", "revoke", issued["token_id"]), 1, f"API token {issued['token_id']} is already revoked")
    assert_error(ecf("tokens", "revoke", "nope"), 1, "no API token with id nope")


def test_tokens_create_unknown_lead_provider(lps: None) -> None:
    result = ecf("tokens", "create", "Nobody")
    assert_error(result, 1, "No lead provider named 'Nobody'")
    assert result.out == ""
    assert count(ApiToken) == 0


# --------------------------------------------------------------------------- delivery-partners


def test_delivery_partners_add_and_relate(cohorts: None) -> None:
    result = ok("delivery-partners", "add", "North Partners", "--lead-provider", "Capita", "--cohort", "2024")
    partner_id = result.out.split("id ")[1].split()[0]
    assert len(partner_id) == UUID_LENGTH
    assert "cohorts        2024" in result.out
    rels = providers.delivery_partner_relationships(partner_id)
    assert [(r.delivery_partner_name, int(r.cohort)) for r in rels] == [("North Partners", 2024)]

    related = ok(
        "delivery-partners", "relate", partner_id, "--lead-provider", "Capita", "--cohort", "2024", "--cohort", "2025"
    )
    assert "cohorts added            2025" in related.out
    data = ok(
        "delivery-partners",
        "relate",
        partner_id,
        "--lead-provider",
        "Ambition Institute",
        "--cohort",
        "2025",
        "--json",
    ).json()
    assert data == {
        "delivery_partner_id": partner_id,
        "lead_provider": "Ambition Institute",
        "cohorts_added": [2025],
        "cohorts_already_related": [],
    }
    assert len(providers.delivery_partner_relationships(partner_id)) == 3


def test_delivery_partners_add_json(cohorts: None) -> None:
    data = ok(
        "delivery-partners",
        "add",
        "South",
        "--lead-provider",
        "Capita",
        "--cohort",
        "2025",
        "--cohort",
        "2024",
        "--json",
    ).json()
    assert set(data) == {"id", "name", "lead_provider", "cohorts", "created_at"}
    assert data["cohorts"] == [2024, 2025]
    assert data["name"] == "South"


def test_delivery_partners_bad_input_writes_nothing(cohorts: None) -> None:
    base = ("delivery-partners", "add", "North Partners")
    assert_error(ecf(*base, "--lead-provider", "Nobody", "--cohort", "2024"), 1, "No lead provider named 'Nobody'")
    assert_error(ecf(*base, "--lead-provider", "Capita", "--cohort", "2031"), 1, "No cohort 2031: import it first")
    assert count(DeliveryPartner) == 0
    assert_error(ecf(*base, "--lead-provider", "Capita", "--cohort", "20x4"), 2, "'20x4' is not a cohort year")
    assert_error(ecf(*base, "--lead-provider", "Capita"), 2, "the following arguments are required: --cohort")
    unknown = "8f1c1f9e-2a53-4d0e-9a43-8f1f4f0b7c11"
    relate = ("delivery-partners", "relate", unknown, "--lead-provider", "Capita", "--cohort", "2024")
    assert_error(ecf(*relate), 1, f"No delivery partner with id {unknown}")


# --------------------------------------------------------------------------- schools programme / show


def test_schools_programme(cohorts: None, gias: None) -> None:
    result = ok("schools", "programme", "20002", "--cohort", "2024", "--choice", "school_led")
    assert "induction programme choice  core_induction_programme" in result.out
    data = ok(
        "schools",
        "programme",
        "20002",
        "--cohort",
        "2024",
        "--choice",
        "provider_led",
        "--json",
        now=NOW + timedelta(1),
    ).json()
    assert data == {
        "school_id": school_id_for("20002"),
        "urn": "20002",
        "cohort": 2024,
        "choice": "provider_led",
        "induction_programme_choice": "full_induction_programme",
        "updated_at": "2024-06-02T12:00:00.000Z",
    }
    assert SchoolCohort.get(school_id_for("20002"), 2024).induction_programme_choice == "full_induction_programme"


def test_schools_programme_bad_input(cohorts: None, gias: None) -> None:
    args = ("--cohort", "2024", "--choice", "school_led")
    assert_error(ecf("schools", "programme", "999999", *args), 1, "No school with URN 999999")
    assert_error(ecf("schools", "programme", "12ab", *args), 2, "'12ab' is not a URN")
    assert_error(
        ecf("schools", "programme", "20001", "--cohort", "2031", "--choice", "school_led"), 1, "No cohort 2031"
    )
    assert_error(
        ecf("schools", "programme", "20001", "--cohort", "2024", "--choice", "diy"), 2, "invalid choice: 'diy'"
    )
    assert count(SchoolCohort) == 0


def test_schools_programme_partnered_school(partnership: str) -> None:
    result = ecf("schools", "programme", "20001", "--cohort", "2024", "--choice", "school_led")
    assert_error(result, 1, "Cannot change induction programme for a partnered school")


def test_schools_show(partnership: str) -> None:
    text = ok("schools", "show", "20001", now=NOW + timedelta(days=1)).out
    assert "school               The Starship Children's Centre" in text
    assert "eligible             yes" in text
    assert "2024    full_induction_programme  -                 North Partners    Ambition Institute" in text
    assert "Partnerships" in text
    row = next(line for line in text.splitlines() if line.startswith(partnership))
    assert "Ambition Institute" in row
    assert "reported" in row
    assert "active" in row
    assert "2024-09-15T00:00:00.000Z (open)" in row

    data = ok("schools", "show", "20001", "--json").json()
    assert data["id"] == school_id_for("20001")
    assert data["urn"] == "20001"
    assert {"status", "type", "district", "eligible", "open", "cip_only", "section_41_approved"} <= set(data)
    assert data["eligible"] is True
    [cohort] = data["cohorts"]
    assert cohort["cohort"] == 2024
    assert cohort["training_programme"] == "full_induction_programme"
    assert (cohort["delivery_partner"], cohort["lead_provider"]) == ("North Partners", "Ambition Institute")
    [row_data] = cohort["partnerships"]
    assert row_data["id"] == partnership
    assert row_data["status"] == "active"
    assert row_data["challenge_deadline"] == "2024-09-15T00:00:00.000Z"
    assert row_data["lead_provider_name"] == "Ambition Institute"


def test_schools_show_without_cohorts_and_bad_input(gias: None) -> None:
    text = ok("schools", "show", "149071").out
    assert "CIP only             yes" in text
    assert "No cohorts" in text
    assert ok("schools", "show", "149071", "--json").json()["cohorts"] == []
    assert_error(ecf("schools", "show", "999999"), 1, "No school with URN 999999")
    assert_error(ecf("schools", "show", "abc"), 2, "'abc' is not a URN")


# --------------------------------------------------------------------------- partnerships challenge


def test_challenge_within_deadline(partnership: str) -> None:
    later = NOW + timedelta(days=1)
    result = ok("partnerships", "challenge", partnership, "--reason", "mistake", now=later)
    assert "Partnership challenged" in result.out
    assert "status              challenged" in result.out
    assert SchoolCohort.get(school_id_for("20001"), 2024).active_partnership_id is None
    shown = ok("schools", "show", "20001", "--json").json()
    row = shown["cohorts"][0]["partnerships"][0]
    assert (row["status"], row["challenge_reason"]) == ("challenged", "mistake")
    assert shown["cohorts"][0]["delivery_partner"] is None


def test_challenge_json(partnership: str) -> None:
    data = ok("partnerships", "challenge", partnership, "--reason", "no_ects", "--json", now=NOW).json()
    assert data["id"] == partnership
    assert data["status"] == "challenged"
    assert data["challenge_reason"] == "no_ects"
    assert data["challenged_at"] == "2024-06-01T12:00:00.000Z"
    assert data["lead_provider_name"] == "Ambition Institute"
    assert data["challenge_window_open"] is False
    assert SchoolCohort.get(school_id_for("20001"), 2024).induction_programme_choice == "no_early_career_teachers"


def test_challenge_already_challenged(partnership: str) -> None:
    ok("partnerships", "challenge", partnership, "--reason", "mistake")
    result = ecf("partnerships", "challenge", partnership, "--reason", "mistake", "--ignore-deadline")
    assert_error(result, 1, m.CHALLENGE_ALREADY_CHALLENGED)
    assert result.err == f"error: {m.CHALLENGE_ALREADY_CHALLENGED}\n"


def test_challenge_deadline_passed_unless_ignored(partnership: str) -> None:
    after = NOW.replace(month=9, day=16)  # the deadline is 2024-09-15, academic year start + 14 days
    result = ecf("partnerships", "challenge", partnership, "--reason", "another_provider", now=after)
    assert_error(result, 1, m.CHALLENGE_DEADLINE_PASSED)
    assert partnerships.repo.get_partnership(partnership).challenge_reason is None  # type: ignore[union-attr]
    data = ok(
        "partnerships",
        "challenge",
        partnership,
        "--reason",
        "another_provider",
        "--ignore-deadline",
        "--json",
        now=after,
    ).json()
    assert data["status"] == "challenged"
    assert data["challenge_reason"] == "another_provider"


def test_challenge_bad_input(partnership: str) -> None:
    assert_error(ecf("partnerships", "challenge", partnership, "--reason", "bored"), 2, "invalid choice: 'bored'")
    assert_error(ecf("partnerships", "challenge", partnership), 2, "required: --reason")
    missing = "8f1c1f9e-2a53-4d0e-9a43-8f1f4f0b7c11"
    assert_error(
        ecf("partnerships", "challenge", missing, "--reason", "mistake"), 1, f"No partnership with id {missing}"
    )
    assert_error(ecf("partnerships", "challenge", "42", "--reason", "mistake"), 1, "No partnership with id 42")


# --------------------------------------------------------------------------- general behaviour


def test_json_error_document_and_usage_errors(aws: None) -> None:
    result = ecf("--json", "tokens", "create", "Nobody")
    assert result.status == 1
    assert result.json() == {"error": "No lead provider named 'Nobody'", "exit_status": 1}
    assert_error(ecf(), 2, "the following arguments are required: COMMAND")
    assert_error(ecf("frobnicate"), 2, "invalid choice: 'frobnicate'")
    usage = ecf("schools", "show", "--json")
    assert usage.status == 2
    assert usage.json()["exit_status"] == 2


def test_help_in_process() -> None:
    result = ecf("partnerships", "challenge", "--help")
    assert result.status == 0
    assert "--ignore-deadline" in result.out
    assert result.err == ""


def test_unexpected_error_is_one_line(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise ValueError("boom")

    monkeypatch.setattr(providers, "list_lead_providers", broken)
    assert_error(ecf("lead-providers", "list"), 1, "unexpected ValueError: boom")


def test_bad_stage_variable_is_a_usage_error() -> None:
    out, err = io.StringIO(), io.StringIO()
    status = cli.run(["lead-providers", "list"], out, err, configure=True, environ={"ECF_STAGE": "staging"})
    assert status == 2
    assert err.getvalue().startswith("error: ECF_STAGE='staging' is not a stage")


def test_stage_settings_local() -> None:
    env: dict[str, str] = {}
    settings = stage_settings("local", None, env)
    assert settings == {
        "stage": "local",
        "table_prefix": "ecf-lp-api-local",
        "region": "eu-west-2",
        "dynamodb_endpoint": "http://127.0.0.1:8001",
        "token_key": None,
        "token_key_parameter": None,
    }
    assert env == {
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8001",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
    env = {
        "DYNAMODB_PORT": "9001",
        "AWS_ACCESS_KEY_ID": "mine",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_REGION": "us-east-1",
    }
    settings = stage_settings("test", None, env)
    assert settings["dynamodb_endpoint"] == "http://127.0.0.1:9001"
    assert settings["region"] == "eu-west-2"
    assert settings["table_prefix"] == "ecf-lp-api-test"
    assert env["AWS_ACCESS_KEY_ID"] == "mine"
    assert stage_settings("local", "http://h:1", {})["dynamodb_endpoint"] == "http://h:1"


def test_stage_settings_deployed() -> None:
    env = {"AWS_REGION": "eu-west-1", "TOKEN_HMAC_KEY": "stray-local-key"}
    settings = stage_settings("prod", None, env)
    assert settings == {
        "stage": "prod",
        "table_prefix": "ecf-lp-api-prod",
        "region": "eu-west-1",
        "dynamodb_endpoint": None,
        "token_key": None,
        "token_key_parameter": "/ecf-lp-api/prod/token-hmac-key",
    }
    assert env == {"AWS_REGION": "eu-west-1", "TOKEN_HMAC_KEY": "stray-local-key"}  # no fake credentials, no endpoint
    assert stage_settings("dev", None, {})["region"] == "eu-west-2"


def _command() -> list[str]:
    script = Path(sys.executable).parent / "ecf-admin"
    return [str(script)] if script.exists() else [sys.executable, "-m", "admin.cli"]


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL") and k != "ECF_STAGE"}


def test_console_script_help() -> None:
    done = subprocess.run(
        [*_command(), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        env=_clean_environment(),
        cwd=ROOT,
        check=False,  # the exit status is asserted below
    )
    assert done.returncode == 0, done.stderr
    for name in ("import-cohort", "import-schools", "lead-providers", "tokens", "delivery-partners", "schools"):
        assert name in done.stdout
    assert "--stage" in done.stdout
    assert "--json" in done.stdout


def test_console_script_unreachable_endpoint() -> None:
    done = subprocess.run(
        [*_command(), "--stage", "local", "--endpoint-url", "http://127.0.0.1:9", "lead-providers", "list"],
        check=False,  # it must fail: the exit status is asserted below
        capture_output=True,
        text=True,
        timeout=30,
        env=_clean_environment(),
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == "error: cannot reach DynamoDB at http://127.0.0.1:9 — is `make run` running?\n"
