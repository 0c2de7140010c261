"""Admin imports: the cohort importer (ecf-domain.md 4) and the GIAS schools extract (section 9).

Both read and check every row before writing anything, and both are upserts
keyed on natural identifiers, so re-running an import changes nothing twice.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from chalicelib.domain.clock import parse_date, start_of_day
from chalicelib.domain.errors import InputError
from chalicelib.domain.schools import SchoolFacts, listed_by_eligibility, should_stage
from chalicelib.domain.statements import Statement, initial_type
from chalicelib.models import (
    CallOffContract,
    Cohort,
    CohortLeadProvider,
    MentorCallOffContract,
    Schedule,
    School,
)
from chalicelib.models.cohorts import Band, Milestone
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.repositories import providers as provider_repo
from chalicelib.repositories import schools as school_repo
from chalicelib.repositories import statements as statement_repo

Progress = Callable[[int, int], None]
NAMESPACE = uuid.UUID("6f1c1f9e-2a53-4d0e-9a43-8f1f4f0b7c11")

COHORT_FILES = {
    "cohort.csv": (
        "start-year,registration-start-date,academic-year-start-date,automatic-assignment-period-end-date,"
        "payments-frozen-at,mentor-funding,detailed-evidence-types"
    ),
    "cohort_lead_providers.csv": "lead-provider-name,cohort-start-year",
    "contracts.csv": (
        "lead-provider-name,cohort-start-year,uplift-target,uplift-amount,recruitment-target,revised-target,"
        "set-up-fee,monthly-service-fee,band-a-min,band-a-max,band-a-per-participant,band-b-min,band-b-max,"
        "band-b-per-participant,band-c-min,band-c-max,band-c-per-participant,band-d-min,band-d-max,"
        "band-d-per-participant"
    ),
    "mentor_contracts.csv": "lead-provider-name,cohort-start-year,recruitment-target,payment-per-participant",
    "schedules.csv": (
        "type,schedule-identifier,schedule-name,schedule-cohort-year,milestone-name,milestone-declaration-type,"
        "milestone-start-date,milestone-date,milestone-payment-date"
    ),
    "statements.csv": "type,name,cohort,deadline_date,payment_date,output_fee",
}
OPTIONAL_COHORT_FILES = {"mentor_contracts.csv"}
SCHEDULE_TYPES = {"ecf_standard", "ecf_reduced", "ecf_extended", "ecf_replacement"}


def _read_csv(path: Path, required: str, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError as error:
        raise InputError(f"{path.name}: not valid {encoding} text ({error.reason})") from error
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip() for h in (reader.fieldnames or [])]
    missing = [h for h in required.split(",") if h not in headers]
    if missing:
        raise InputError(f"{path.name}: missing column(s) {', '.join(missing)}")
    rows = []
    for row in reader:
        cleaned = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if any(cleaned.values()):
            rows.append(cleaned)
    return rows


def _year(value: str, where: str) -> int:
    if not value.isdigit() or len(value) != 4:
        raise InputError(f"{where}: {value!r} is not a cohort year")
    return int(value)


def _number(value: str, where: str) -> float | None:
    if value == "":
        return None
    try:
        return float(value)
    except ValueError as error:
        raise InputError(f"{where}: {value!r} is not a number") from error


def _when(value: date | None) -> datetime | None:
    return start_of_day(value) if value else None


@dataclass
class CohortImportResult:
    cohorts: list[int] = field(default_factory=list)
    lead_provider_links: int = 0
    contracts: int = 0
    mentor_contracts: int = 0
    schedules: int = 0
    milestones: int = 0
    statements: int = 0


def import_cohort(directory: str | Path, now: datetime, progress: Progress | None = None) -> CohortImportResult:
    """CreateNewECFCohort: cohort, LP links, contracts, mentor contracts, schedules, statements."""
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a directory")
    missing = [name for name in COHORT_FILES if name not in OPTIONAL_COHORT_FILES and not (folder / name).is_file()]
    if missing:
        raise InputError(f"{folder}: missing {', '.join(missing)} (all of {', '.join(COHORT_FILES)} are needed)")
    data = {
        name: _read_csv(folder / name, header) if (folder / name).is_file() else []
        for name, header in COHORT_FILES.items()
    }
    result = CohortImportResult()
    items: list = []

    # Cohorts: upsert by start year. A bad date becomes empty, as in the real importer.
    known_years = {int(c.start_year) for c in cohort_repo.list_cohorts()}
    for i, row in enumerate(data["cohort.csv"], start=2):
        year = _year(row["start-year"], f"cohort.csv line {i}")
        existing = cohort_repo.get_cohort(year)
        auto_end = parse_date(row["automatic-assignment-period-end-date"]) or date(year + 1, 3, 31)
        items.append(
            Cohort(
                pk=cohort_repo.COHORTS_PK,
                sk=cohort_repo.cohort_key(year),
                start_year=year,
                registration_start_date=_when(parse_date(row["registration-start-date"])),
                academic_year_start_date=_when(parse_date(row["academic-year-start-date"])),
                automatic_assignment_period_end_date=_when(auto_end),
                payments_frozen_at=_when(parse_date(row["payments-frozen-at"])),
                mentor_funding=row["mentor-funding"].lower() == "true",
                detailed_evidence_types=row["detailed-evidence-types"].lower() == "true",
                created_at=existing.created_at if existing else now,
                updated_at=now,
            )
        )
        known_years.add(year)
        result.cohorts.append(year)

    providers: dict[str, str] = {}

    def provider_id(name: str, where: str) -> str:
        if name not in providers:
            found = provider_repo.find_lead_provider_by_name(name)
            if found is None:
                raise InputError(f"{where}: no lead provider named {name!r} (add it with 'lead-providers add')")
            providers[name] = found.id
        return providers[name]

    def known_year(value: str, where: str) -> int:
        year = _year(value, where)
        if year not in known_years:
            raise InputError(f"{where}: cohort {year} does not exist")
        return year

    for i, row in enumerate(data["cohort_lead_providers.csv"], start=2):
        where = f"cohort_lead_providers.csv line {i}"
        name, year = row["lead-provider-name"], known_year(row["cohort-start-year"], where)
        items.append(
            CohortLeadProvider(
                pk=cohort_repo.cohort_pk(year),
                sk=f"LP#{provider_id(name, where)}",
                lead_provider_id=provider_id(name, where),
                lead_provider_name=name,
                cohort=year,
                created_at=now,
                updated_at=now,
            )
        )
        result.lead_provider_links += 1

    contracted: dict[int, set[str]] = {}
    for i, row in enumerate(data["contracts.csv"], start=2):
        where = f"contracts.csv line {i}"
        year = known_year(row["cohort-start-year"], where)
        lp = provider_id(row["lead-provider-name"], where)
        bands = []
        for band in "abcd":
            values = [_number(row[f"band-{band}-{part}"], where) for part in ("min", "max", "per-participant")]
            if band == "d" and any(v is None for v in values):
                continue  # band D only when complete
            bands.append(Band(name=band, min=values[0], max=values[1], per_participant=values[2]))
        items.append(
            CallOffContract(
                pk=cohort_repo.cohort_pk(year),
                sk=f"CONTRACT#{lp}",
                lead_provider_id=lp,
                cohort=year,
                uplift_target=_number(row["uplift-target"], where),
                uplift_amount=_number(row["uplift-amount"], where),
                recruitment_target=_number(row["recruitment-target"], where),
                revised_target=_number(row["revised-target"], where),
                set_up_fee=_number(row["set-up-fee"], where),
                monthly_service_fee=_number(row["monthly-service-fee"], where),
                bands=bands,
                created_at=now,
                updated_at=now,
            )
        )
        contracted.setdefault(year, set()).add(lp)
        result.contracts += 1

    for i, row in enumerate(data["mentor_contracts.csv"], start=2):
        where = f"mentor_contracts.csv line {i}"
        year = known_year(row["cohort-start-year"], where)
        lp = provider_id(row["lead-provider-name"], where)
        items.append(
            MentorCallOffContract(
                pk=cohort_repo.cohort_pk(year),
                sk=f"MENTOR_CONTRACT#{lp}",
                lead_provider_id=lp,
                cohort=year,
                recruitment_target=_number(row["recruitment-target"], where),
                payment_per_participant=_number(row["payment-per-participant"], where),
                created_at=now,
                updated_at=now,
            )
        )
        result.mentor_contracts += 1

    schedules: dict[tuple[int, str], Schedule] = {}
    for i, row in enumerate(data["schedules.csv"], start=2):
        where = f"schedules.csv line {i}"
        if row["type"] not in SCHEDULE_TYPES:
            raise InputError(f"{where}: unknown schedule type {row['type']!r}")
        year = known_year(row["schedule-cohort-year"], where)
        identifier = row["schedule-identifier"]
        schedule = schedules.get((year, identifier))
        if schedule is None:
            schedule = Schedule(
                pk=cohort_repo.cohort_pk(year),
                sk=f"SCHEDULE#{identifier}",
                schedule_identifier=identifier,
                schedule_type=row["type"],
                cohort=year,
                milestones=[],
                created_at=now,
                updated_at=now,
            )
            schedules[(year, identifier)] = schedule
        schedule.name = row["schedule-name"]
        milestone = Milestone(
            name=row["milestone-name"],
            declaration_type=row["milestone-declaration-type"],
            start_date=_when(parse_date(row["milestone-start-date"])),
            milestone_date=_when(parse_date(row["milestone-date"])),
            payment_date=_when(parse_date(row["milestone-payment-date"])),
        )
        schedule.milestones = [m for m in schedule.milestones if m.declaration_type != milestone.declaration_type] + [
            milestone
        ]
        result.milestones += 1
    items.extend(schedules.values())
    result.schedules = len(schedules)

    for year in {int(r["cohort"]) for r in data["statements.csv"] if r.get("cohort", "").isdigit()}:
        if year in known_years:
            for link in cohort_repo.contracts_of(year):
                contracted.setdefault(year, set()).add(link)
    today = now.date()
    statements: list[Statement] = []
    for i, row in enumerate(data["statements.csv"], start=2):
        where = f"statements.csv line {i}"
        if row["type"] != "ecf":
            continue
        year = known_year(row["cohort"], where)
        deadline, payment = parse_date(row["deadline_date"]), parse_date(row["payment_date"])
        if deadline is None or payment is None:
            raise InputError(f"{where}: deadline_date and payment_date must be dates")
        for lp in sorted(contracted.get(year, set())):
            statements.append(
                Statement(
                    id=str(uuid.uuid5(NAMESPACE, f"statement:{lp}:{year}:{row['name']}")),
                    lead_provider_id=lp,
                    cohort=year,
                    name=row["name"],
                    statement_type=initial_type(deadline, payment, today),
                    deadline_date=deadline,
                    payment_date=payment,
                    output_fee=row["output_fee"].lower() == "true",
                    marked_as_paid_at=None,
                    created_at=now,
                    updated_at=now,
                )
            )
            result.statements += 1

    # Everything checked: write, cohorts first (the importer's step order).
    for start in range(0, len(items), 100):
        cohort_repo.save_all(items[start : start + 100])
        if progress:
            progress(min(start + 100, len(items)), len(items))
    # Statements are created once per provider and name; an existing one (maybe payable or paid) is kept.
    statement_repo.create_missing(statements)
    return result


# --------------------------------------------------------------------------- GIAS


GIAS_COLUMNS = (
    "URN,EstablishmentName,TypeOfEstablishment (code),TypeOfEstablishment (name),EstablishmentStatus (code),"
    "EstablishmentStatus (name),DistrictAdministrative (code),DistrictAdministrative (name),Section41Approved (name),"
    "Postcode"
)


def school_id_for(urn: str) -> str:
    """A school's id is derived from its URN, so an import can read existing schools by key."""
    return str(uuid.uuid5(NAMESPACE, f"school:{urn}"))


def _int(value: str) -> int | None:
    return int(value) if value.strip().lstrip("-").isdigit() else None


def _optional(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


_COMPARED = (
    "name",
    "ukprn",
    "address_line1",
    "address_line2",
    "address_line3",
    "postcode",
    "school_type_code",
    "school_type_name",
    "school_status_code",
    "school_status_name",
    "school_phase_type",
    "school_phase_name",
    "administrative_district_code",
    "administrative_district_name",
    "la_code",
    "la_name",
    "section_41_approved",
    "school_website",
    "primary_contact_email",
    "secondary_contact_email",
)


@dataclass
class SchoolImportResult:
    rows: int = 0
    skipped: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _school_fields(row: dict[str, str], where: str) -> dict[str, object]:
    urn = row["URN"]
    if not urn.isdigit():
        raise InputError(f"{where}: URN {urn!r} is not a number")
    name = " ".join(row["EstablishmentName"].split())
    if not name:
        raise InputError(f"{where}: EstablishmentName is empty")
    return {
        "urn": urn,
        "name": name,
        "ukprn": _optional(row.get("UKPRN")),
        "address_line1": _optional(row.get("Street")),
        "address_line2": _optional(row.get("Locality")),
        "address_line3": _optional(row.get("Town")),
        "postcode": _optional(row.get("Postcode")),
        "school_type_code": _int(row["TypeOfEstablishment (code)"]),
        "school_type_name": _optional(row["TypeOfEstablishment (name)"]),
        "school_status_code": _int(row["EstablishmentStatus (code)"]),
        "school_status_name": _optional(row["EstablishmentStatus (name)"]),
        "school_phase_type": _int(row.get("PhaseOfEducation (code)", "")),
        "school_phase_name": _optional(row.get("PhaseOfEducation (name)")),
        "administrative_district_code": _optional(row["DistrictAdministrative (code)"]),
        "administrative_district_name": _optional(row["DistrictAdministrative (name)"]),
        "la_code": _optional(row.get("LA (code)")),
        "la_name": _optional(row.get("LA (name)")),
        "section_41_approved": row["Section41Approved (name)"] == "Approved",
        "school_website": _optional(row.get("SchoolWebsite")),
        "primary_contact_email": _optional(row.get("MainEmail")),
        "secondary_contact_email": _optional(row.get("AlternativeEmail")),
    }


def import_schools(path: str | Path, now: datetime, progress: Progress | None = None) -> SchoolImportResult:
    """Upsert the staged schools of a GIAS extract (ISO-8859-1). Changed schools get a new ``updated_at``."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: no such file")
    rows = _read_csv(file, GIAS_COLUMNS, encoding="iso-8859-1")
    result = SchoolImportResult(rows=len(rows))
    staged: dict[str, dict[str, object]] = {}
    for i, row in enumerate(rows, start=2):
        fields = _school_fields(row, f"{file.name} line {i}")
        facts = SchoolFacts(
            status_code=fields["school_status_code"],  # type: ignore[arg-type]
            type_code=fields["school_type_code"],  # type: ignore[arg-type]
            district_code=fields["administrative_district_code"],  # type: ignore[arg-type]
            section_41_approved=bool(fields["section_41_approved"]),
        )
        if not should_stage(facts):
            result.skipped += 1
            continue
        fields["listed_by_eligibility"] = 1 if listed_by_eligibility(facts) else 0
        staged[str(fields["urn"])] = fields  # a later row for the same URN wins

    urns = list(staged)
    done = 0
    for start in range(0, len(urns), 100):
        chunk = urns[start : start + 100]
        existing = school_repo.schools_by_id([school_id_for(u) for u in chunk])
        created: list[School] = []
        for urn in chunk:
            fields = staged[urn]
            school_id = school_id_for(urn)
            school = existing.get(school_id)
            if school is None:
                school = School(id=school_id, created_at=now, updated_at=now, **fields)  # type: ignore[arg-type]
                school.created_key = school_repo.sort_key(now, school_id)
                school.updated_key = school_repo.sort_key(now, school_id)
                school.listed = school_repo.LISTED if school.listed_by_eligibility else None
                created.append(school)
                result.created += 1
            elif any(getattr(school, k) != fields[k] for k in (*_COMPARED, "listed_by_eligibility")):
                # Only the GIAS fields change: partnership bookkeeping (pc, lst) stays intact.
                school_repo.update_gias_fields(school_id, fields, now)
                partnership_repo.touch_rows(partnership_repo.rows_for_school(school_id), now)
                result.updated += 1
            else:
                result.unchanged += 1
        school_repo.save_new_schools(created)
        done += len(chunk)
        if progress:
            progress(done, len(urns))
    return result
