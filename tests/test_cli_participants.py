"""``ecf-admin participants add | transfer | show``, in-process against moto (``run(..., configure=False)``).

The set-up goes through the CLI and the services: two lead providers, the cohort, the GIAS
schools, a provider-led programme at 20001, one ECT onboarded there, then Ambition's
partnership with 20001 delivered through the partnerships stream handler, which moves
the ECT into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.events.handlers import PARTNERSHIPS_STREAM_HANDLER
from chalicelib.models import Partnership
from chalicelib.models.participants import ParticipantProfile, User
from chalicelib.repositories import participants as participant_repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.repositories import schools as school_repo
from chalicelib.services import partnerships, providers
from chalicelib.services.importers import school_id_for
from tests.conftest import NOW
from tests.test_cli import COHORT_DIR, GIAS_FILE, LPS, UUID_LENGTH, assert_error, count, ecf, ok
from tests.test_stream_handler import stream_event

UNKNOWN = "8f1c1f9e-2a53-4d0e-9a43-8f1f4f0b7c11"


@dataclass
class Setup:
    lp_id: str
    other_lp_id: str
    dp_id: str
    partnership_id: str
    early_id: str  # an ECT onboarded before the partnership


def deliver(client: Any, partnership_id: str) -> None:
    """What the partnerships table's stream delivers for a new row."""
    new = Partnership.get(partnership_id).serialize()
    client.lambda_.invoke(PARTNERSHIPS_STREAM_HANDLER, stream_event([("INSERT", None, new)]))


def add(*extra: str, email: str, kind: str = "ect", urn: str = "20001", name: str = "Ada Lovelace") -> list[str]:
    return ["participants", "add", "--urn", urn, "--cohort", "2024", "--full-name", name, "--email", email,
            "--type", kind, *extra]  # fmt: skip


@pytest.fixture
def setup(aws: None, client: Any) -> Setup:
    for name in LPS:
        ok("lead-providers", "add", name)
    ok("import-cohort", str(COHORT_DIR))
    ok("import-schools", str(GIAS_FILE))
    ok("schools", "programme", "20001", "--cohort", "2024", "--choice", "provider_led")
    early = ok(*add("--json", email="early@example.org", name="Early Bird")).json()
    assert early["programme_id"] is not None
    lp = providers.lead_provider_named("Ambition Institute")
    dp = ok("delivery-partners", "add", "North Partners", "--lead-provider", lp.name, "--cohort", "2024", "--json")
    dp_id = dp.json()["id"]
    record = partnerships.create_partnership(
        lp.id, {"cohort": "2024", "school_id": school_id_for("20001"), "delivery_partner_id": dp_id}, NOW
    )
    deliver(client, record.id)
    view = participant_repo.get_view(lp.id, early["participant_id"])
    assert view is not None
    assert view.visible
    assert view.lead_provider_id == lp.id
    other = providers.lead_provider_named("Capita")
    return Setup(lp.id, other.id, dp_id, record.id, early["participant_id"])


def field(text: str, label: str) -> str:
    """The value of a ``label  value`` line."""
    line = next(line for line in text.splitlines() if line.strip().startswith(label + "  "))
    return line.strip()[len(label) :].strip()


# --------------------------------------------------------------------------- add


def test_add_mentor_then_ect_with_mentor(setup: Setup) -> None:
    mentor = ok(*add(email="Mentor@Example.org", kind="mentor", name="Grace Hopper"))
    assert mentor.out.startswith("Added participant\n")
    mentor_id = field(mentor.out, "participant id")
    mentor_profile_id = field(mentor.out, "training record id")
    assert len(mentor_id) == len(mentor_profile_id) == UUID_LENGTH
    assert mentor_id != mentor_profile_id
    assert mentor.err == ""

    ect = ok(
        *add("--trn", "1234567", "--mentor-email", "mentor@example.org", "--appropriate-body", "Teaching Hub",
             email="ada@example.org")
    )  # fmt: skip
    ect_id = field(ect.out, "participant id")
    profile = ParticipantProfile.get(field(ect.out, "training record id"))
    assert profile.user_id == ect_id
    assert profile.participant_type == "ect"
    assert int(profile.cohort) == 2024
    assert profile.mentor_profile_id == mentor_profile_id
    [record] = participant_repo.get_profile(profile.id).records  # type: ignore[union-attr]
    assert (record.mentor_user_id, record.appropriate_body, record.school_urn) == (mentor_id, "Teaching Hub", "20001")
    assert User.get(ect_id).trn == "1234567"
    # Both are in the partnered default programme, so Ambition sees them and Capita does not.
    programme = participant_repo.get_programme(record.programme_id)
    assert programme is not None
    assert programme.partnership_id == setup.partnership_id
    for user_id in (mentor_id, ect_id):
        view = participant_repo.get_view(setup.lp_id, user_id)
        assert view is not None
        assert view.visible
        assert view.lead_provider_id == setup.lp_id
        assert participant_repo.get_view(setup.other_lp_id, user_id) is None
    assert view.enrolments[0]["mentor_id"] == mentor_id

    # The same person can be a mentor and an ECT: one user, two profiles.
    again = ok(*add("--json", email="mentor@example.org", name="Grace Hopper")).json()
    assert again["participant_id"] == mentor_id
    assert again["training_record_id"] != mentor_profile_id


def test_add_json(setup: Setup) -> None:
    data = ok(*add("--json", email="json@example.org")).json()
    assert set(data) == {"participant_id", "training_record_id", "programme_id"}
    school_cohort = school_repo.get_school_cohort(school_id_for("20001"), 2024)
    assert school_cohort is not None
    assert data["programme_id"] == school_cohort.default_induction_programme_id
    assert ParticipantProfile.get(data["training_record_id"]).user_id == data["participant_id"]

    # A school-led school cohort has no default programme: the participant is onboarded but not enrolled.
    ok("schools", "programme", "20004", "--cohort", "2024", "--choice", "school_led")
    text = ok(*add(email="cip@example.org", urn="20004")).out
    assert field(text, "programme id") == "-"
    assert text.splitlines()[-1] == "Not enrolled: school 20004 has no default induction programme for 2024."
    assert ok(*add("--json", email="cip2@example.org", urn="20004")).json()["programme_id"] is None


def test_add_errors(setup: Setup) -> None:
    users, profiles = count(User), count(ParticipantProfile)
    duplicate = ecf(*add(email="EARLY@example.org"))
    assert_error(duplicate, 1, "early@example.org already has an ECT profile")
    assert duplicate.out == ""
    as_json = ecf(*add("--json", email="early@example.org"))
    assert as_json.status == 1
    assert as_json.json()["exit_status"] == 1
    assert "already has an ECT profile" in as_json.json()["error"]

    assert_error(ecf(*add(email="x@example.org", urn="999999")), 1, "No school with URN 999999")
    cohort_2031 = ["participants", "add", "--urn", "20001", "--cohort", "2031", "--full-name", "X", "--email",
                   "x@example.org", "--type", "ect"]  # fmt: skip
    assert_error(ecf(*cohort_2031), 1, "No cohort 2031: import it first")
    no_mentor = ecf(*add("--mentor-email", "nobody@example.org", email="x@example.org"))
    assert_error(no_mentor, 1, "No mentor onboarded with email nobody@example.org")
    not_chosen = ecf(*add(email="x@example.org", urn="20002"))
    assert_error(not_chosen, 1, "School 20002 has not chosen an induction programme for 2024")
    assert_error(ecf(*add(email="not-an-email")), 1, "A full name and a valid email are required")
    assert (count(User), count(ParticipantProfile)) == (users, profiles)  # nothing written

    assert_error(ecf(*add(email="x@example.org", kind="teacher")), 2, "invalid choice: 'teacher'")
    assert_error(ecf(*add(email="x@example.org", urn="20x01")), 2, "'20x01' is not a URN")
    assert_error(ecf("participants", "add", "--urn", "20001"), 2, "the following arguments are required")
    assert_error(ecf("participants", "add"), 2, "required: --urn, --cohort, --full-name, --email, --type")


# --------------------------------------------------------------------------- transfer


def test_transfer_keeping_the_provider(setup: Setup) -> None:
    later = NOW + timedelta(days=30)
    moved = ok(
        "participants", "transfer", setup.early_id, "--to-urn", "20002", "--start-date", "2024-09-01",
        "--keep-provider", "--json", now=later,
    ).json()  # fmt: skip
    assert moved["participant_id"] == setup.early_id
    assert moved["to_urn"] == "20002"
    assert (moved["start_date"], moved["keep_provider"]) == ("2024-09-01T00:00:00.000Z", True)

    # A relationship partnership for the same provider and delivery partner at the new school.
    [row] = partnership_repo.rows_for_school_cohort(school_id_for("20002"), 2024)
    assert row.relationship
    assert (row.lead_provider_id, row.delivery_partner_id) == (setup.lp_id, setup.dp_id)
    assert row.delivery_partner_name == "North Partners"
    programme = participant_repo.get_programme(moved["programme_id"])
    assert programme is not None
    assert programme.partnership_id == row.id
    assert programme.school_urn == "20002"

    # The provider still sees the participant, now at the new school.
    view = participant_repo.get_view(setup.lp_id, setup.early_id)
    assert view is not None
    assert view.visible
    assert view.lead_provider_id == setup.lp_id
    assert view.enrolments[0]["school_urn"] == "20002"
    assert view.enrolments[0]["participant_status"] == "joining"  # starts 2024-09-01, after `later`

    text = ok("participants", "show", setup.early_id, now=later).out
    assert "school urn          20002" in text
    assert "lead provider       Ambition Institute" in text
    assert "delivery partner    North Partners" in text
    assert f"partnership         {row.id}" in text
    lines = text.splitlines()
    start = lines.index("  Induction records")
    header, joining, leaving = lines[start + 1 : start + 4]
    assert header.split()[:4] == ["START", "END", "INDUCTION", "STATUS"]
    names = ["full_induction_programme", "Ambition", "Institute", "North", "Partners"]
    assert joining.split() == ["2024-09-01T00:00:00.000Z", "-", "active", "active", "20002", *names, "relationship"]
    assert leaving.split() == [
        "2024-06-01T12:00:00.000Z", "2024-09-01T00:00:00.000Z", "leaving", "active", "20001", *names, "reported"
    ]  # fmt: skip

    data = ok("participants", "show", setup.early_id, "--json", now=later).json()
    [profile] = data["profiles"]
    joining_row, leaving_row = profile["induction_records"]
    assert (joining_row["induction_status"], joining_row["school_transfer"], joining_row["relationship"]) == (
        "active", True, True,
    )  # fmt: skip
    assert (leaving_row["induction_status"], leaving_row["end_date"]) == ("leaving", "2024-09-01T00:00:00.000Z")
    assert leaving_row["partnership_id"] == setup.partnership_id
    assert leaving_row["relationship"] is False
    assert joining_row["participant_status"] == "joining"
    assert leaving_row["participant_status"] == "leaving"


def test_transfer_to_the_schools_programme(setup: Setup) -> None:
    base = ("--start-date", "2024-09-01")
    result = ecf("participants", "transfer", setup.early_id, "--to-urn", "20003", *base)
    assert_error(result, 1, "School 20003 has no default induction programme for 2024")
    assert_error(ecf("participants", "transfer", UNKNOWN, "--to-urn", "20002", *base), 1,
                 f"No participant with id {UNKNOWN}")  # fmt: skip
    assert_error(ecf("participants", "transfer", setup.early_id, "--to-urn", "999999", *base), 1,
                 "No school with URN 999999")  # fmt: skip
    assert_error(ecf("participants", "transfer", setup.early_id, "--to-urn", "20001", *base), 1,
                 "already at that school")  # fmt: skip
    profile = participant_repo.profiles_of_user(setup.early_id)[0]
    assert [r.induction_status for r in profile.records] == ["active"]  # unchanged

    bad_date = ecf("participants", "transfer", setup.early_id, "--to-urn", "20002", "--start-date", "2024-13-01")
    assert_error(bad_date, 2, "'2024-13-01' is not a date (YYYY-MM-DD")
    assert_error(ecf("participants", "transfer", setup.early_id, "--to-urn", "20002"), 2, "required: --start-date")

    # Without --keep-provider the participant joins the new school's default programme (unpartnered here),
    # and Ambition keeps seeing its last record: the leaving one at 20001 (ecf-domain.md 3.10).
    ok("schools", "programme", "20003", "--cohort", "2024", "--choice", "provider_led")
    local = ok(*add("--json", email="local@example.org", urn="20003")).json()
    no_partnership = ecf(
        "participants", "transfer", local["participant_id"], "--to-urn", "20002", *base, "--keep-provider"
    )
    assert_error(no_partnership, 1, "--keep-provider needs the participant's current programme to have a partnership")
    text = ok("participants", "transfer", setup.early_id, "--to-urn", "20003", *base).out
    assert "keep provider       no" in text
    assert partnership_repo.rows_for_school_cohort(school_id_for("20003"), 2024) == []
    view = participant_repo.get_view(setup.lp_id, setup.early_id)
    assert view is not None
    assert view.visible
    assert view.lead_provider_id == setup.lp_id
    [enrolment] = view.enrolments
    assert (enrolment["school_urn"], enrolment["participant_status"]) == ("20001", "leaving")
    shown = ok("participants", "show", setup.early_id).out
    assert field(shown, "school urn") == "20003"
    assert field(shown, "lead provider") == "-"
    rows = shown.split("  Induction records\n")[1].split("\n\n")[0].splitlines()[1:]
    assert [row.split()[1:5] for row in rows] == [
        ["-", "active", "active", "20003"],
        ["2024-09-01T00:00:00.000Z", "leaving", "active", "20001"],
    ]


# --------------------------------------------------------------------------- show


def test_show_text_and_json(setup: Setup) -> None:
    mentor = ok(*add("--json", email="mentor@example.org", kind="mentor", name="Grace Hopper")).json()
    ect = ok(*add("--trn", "7654321", "--mentor-email", "mentor@example.org", "--json", email="ada@example.org"))
    ect_data = ect.json()

    text = ok("participants", "show", ect_data["participant_id"]).out
    assert text.startswith(f"participant  {ect_data['participant_id']}\n")
    assert "name         Ada Lovelace" in text
    assert "email        ada@example.org" in text
    assert "TRN          7654321" in text
    assert "ECT profile\n" in text
    assert "Mentor profile" not in text
    assert f"  training record id  {ect_data['training_record_id']}" in text
    for label, value in [
        ("type", "ect"),
        ("course", "ecf-induction"),
        ("cohort", "2024"),
        ("schedule", "ecf-standard-september (2024)"),
        ("training status", "active"),
        ("status", "active"),
        ("mentor", mentor["participant_id"]),
        ("school urn", "20001"),
        ("training programme", "full_induction_programme"),
        ("lead provider", "Ambition Institute"),
        ("delivery partner", "North Partners"),
        ("partnership", setup.partnership_id),
    ]:
        assert field(text, label) == value, label
    assert "  Profile states" in text
    states = text.split("  Profile states\n")[1].splitlines()
    assert states[0].split() == ["STATE", "REASON", "PROVIDER", "DATE"]
    assert states[1].split() == ["active", "-", "Ambition", "Institute", "2024-06-01T12:00:00.000Z"]

    data = ok("participants", "show", ect_data["participant_id"], "--json").json()
    assert {k: data[k] for k in ("id", "full_name", "email", "trn")} == {
        "id": ect_data["participant_id"],
        "full_name": "Ada Lovelace",
        "email": "ada@example.org",
        "trn": "7654321",
    }
    [profile] = data["profiles"]
    assert {k: profile[k] for k in (
        "training_record_id", "participant_type", "course_identifier", "cohort", "schedule_identifier",
        "training_status", "status", "school_urn", "training_programme", "partnership_id", "lead_provider_id",
        "lead_provider_name", "delivery_partner_id", "delivery_partner_name", "mentor_profile_id",
    )} == {
        "training_record_id": ect_data["training_record_id"], "participant_type": "ect",
        "course_identifier": "ecf-induction", "cohort": 2024, "schedule_identifier": "ecf-standard-september",
        "training_status": "active", "status": "active", "school_urn": "20001",
        "training_programme": "full_induction_programme", "partnership_id": setup.partnership_id,
        "lead_provider_id": setup.lp_id, "lead_provider_name": "Ambition Institute",
        "delivery_partner_id": setup.dp_id, "delivery_partner_name": "North Partners",
        "mentor_profile_id": mentor["training_record_id"],
    }  # fmt: skip
    [record] = profile["induction_records"]
    assert record["id"] == profile["current_record_id"]
    assert record["programme_id"] == ect_data["programme_id"]
    assert record["mentor_participant_id"] == mentor["participant_id"]
    assert (record["start_date"], record["end_date"], record["challenged"]) == ("2024-06-01T12:00:00.000Z", None, False)
    assert profile["states"] == [
        {
            "state": "active",
            "reason": None,
            "lead_provider_id": setup.lp_id,
            "lead_provider_name": "Ambition Institute",
            "created_at": "2024-06-01T12:00:00.000Z",
        }
    ]

    # A user with both profiles: the ECT one first.
    ok(*add(email="mentor@example.org", name="Grace Hopper"))
    both = ok("participants", "show", mentor["participant_id"], "--json").json()
    assert [p["participant_type"] for p in both["profiles"]] == ["ect", "mentor"]
    assert "Mentor profile" in ok("participants", "show", mentor["participant_id"]).out


def test_show_challenged_partnership_hides_current_names(setup: Setup) -> None:
    ok("partnerships", "challenge", setup.partnership_id, "--reason", "mistake")
    data = ok("participants", "show", setup.early_id, "--json").json()
    [profile] = data["profiles"]
    assert profile["partnership_id"] == setup.partnership_id
    assert (profile["lead_provider_name"], profile["delivery_partner_name"]) == (None, None)
    [record] = profile["induction_records"]
    assert (record["challenged"], record["challenge_reason"], record["lead_provider_name"]) == (
        True, "mistake", "Ambition Institute",
    )  # fmt: skip
    text = ok("participants", "show", setup.early_id).out
    assert field(text, "lead provider") == "-"
    assert text.rstrip().splitlines()[-1].split()[0] == "active"  # the states table ends the output
    assert "reported, challenged (mistake)" in text


def test_show_unknown_participant(aws: None) -> None:
    assert_error(ecf("participants", "show", UNKNOWN), 1, f"No participant with id {UNKNOWN}")
    assert_error(ecf("participants", "show", "42"), 1, "No participant with id 42")
    result = ecf("participants", "show", UNKNOWN, "--json")
    assert result.json() == {"error": f"No participant with id {UNKNOWN}", "exit_status": 1}
    assert_error(ecf("participants", "show"), 2, "required: PARTICIPANT_ID")
    help_text = ecf("--help").out
    assert "participants" in help_text
