"""Admin imports: the cohort importer (docs/reference/ecf-domain.md 4) and the GIAS schools extract (section 9).

Both read and check every row before writing anything, and both are upserts
keyed on natural identifiers, so re-running an import changes nothing twice.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from chalicelib.domain.clock import parse_date, start_of_day
from chalicelib.domain.errors import InputError
from chalicelib.domain.imports import (
    CallOffContractRecord,
    CohortItem,
    CohortLeadProviderLink,
    CohortRecord,
    ContractBand,
    GiasSchool,
    MentorContractRecord,
    ScheduleMilestone,
    ScheduleRecord,
    gias_changed,
)
from chalicelib.domain.schools import SchoolFacts, listed_by_eligibility, should_stage
from chalicelib.domain.statements import Statement, initial_type
from chalicelib.repositories import imports as import_repo
from chalicelib.repositories import statements as statement_repo
from chalicelib.services.ids import YEAR_DIGITS

Progress = Callable[[int, int], None]
NAMESPACE = uuid.UUID("6f1c1f9e-2a53-4d0e-9a43-8f1f4f0b7c11")
BATCH = 100  # items per write chunk (and per progress report)

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
    if not value.isdigit() or len(value) != YEAR_DIGITS:
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


@dataclass
class _CohortImport:
    """A cohort directory being read: the cohorts known so far, and everything to write once all rows are read."""

    now: datetime
    known_years: set[int]
    result: CohortImportResult = field(default_factory=CohortImportResult)
    items: list[CohortItem] = field(default_factory=list)  # written in this order (the importer's steps)
    statements: list[Statement] = field(default_factory=list)
    contracted: dict[int, set[str]] = field(default_factory=dict)  # cohort -> lead provider ids with a contract
    provider_ids: dict[str, str] = field(default_factory=dict)  # lead provider name -> id, looked up once

    def provider_id(self, name: str, where: str) -> str:
        if name not in self.provider_ids:
            found = import_repo.lead_provider_id(name)
            if found is None:
                raise InputError(f"{where}: no lead provider named {name!r} (add it with 'lead-providers add')")
            self.provider_ids[name] = found
        return self.provider_ids[name]

    def known_year(self, value: str, where: str) -> int:
        year = _year(value, where)
        if year not in self.known_years:
            raise InputError(f"{where}: cohort {year} does not exist")
        return year


def _lines(name: str, rows: list[dict[str, str]]) -> Iterator[tuple[str, dict[str, str]]]:
    """Each row with where it is for error messages (line 1 is the header)."""
    for i, row in enumerate(rows, start=2):
        yield f"{name} line {i}", row


def _import_cohorts(rows: list[dict[str, str]], state: _CohortImport) -> None:
    """cohort.csv: upsert by start year. A bad date becomes empty, as in the real importer."""
    for where, row in _lines("cohort.csv", rows):
        year = _year(row["start-year"], where)
        state.items.append(_cohort(row, year, import_repo.cohort_created_at(year) or state.now))
        state.known_years.add(year)
        state.result.cohorts.append(year)


def _cohort(row: dict[str, str], year: int, created_at: datetime) -> CohortRecord:
    auto_end = parse_date(row["automatic-assignment-period-end-date"]) or date(year + 1, 3, 31)
    return CohortRecord(
        start_year=year,
        registration_start_date=_when(parse_date(row["registration-start-date"])),
        academic_year_start_date=_when(parse_date(row["academic-year-start-date"])),
        automatic_assignment_period_end_date=_when(auto_end),
        payments_frozen_at=_when(parse_date(row["payments-frozen-at"])),
        mentor_funding=row["mentor-funding"].lower() == "true",
        detailed_evidence_types=row["detailed-evidence-types"].lower() == "true",
        created_at=created_at,
    )


def _import_lead_provider_links(rows: list[dict[str, str]], state: _CohortImport) -> None:
    """cohort_lead_providers.csv: which lead providers take part in a cohort."""
    for where, row in _lines("cohort_lead_providers.csv", rows):
        name, year = row["lead-provider-name"], state.known_year(row["cohort-start-year"], where)
        state.items.append(CohortLeadProviderLink(year, state.provider_id(name, where), name))
        state.result.lead_provider_links += 1


def _import_contracts(rows: list[dict[str, str]], state: _CohortImport) -> None:
    """contracts.csv: a call-off contract per lead provider and cohort."""
    for where, row in _lines("contracts.csv", rows):
        year = state.known_year(row["cohort-start-year"], where)
        lead_provider_id = state.provider_id(row["lead-provider-name"], where)
        state.items.append(_contract(row, where, year, lead_provider_id))
        state.contracted.setdefault(year, set()).add(lead_provider_id)
        state.result.contracts += 1


def _contract(row: dict[str, str], where: str, year: int, lead_provider_id: str) -> CallOffContractRecord:
    bands = _bands(row, where)

    def number(column: str) -> float | None:
        return _number(row[column], where)

    return CallOffContractRecord(
        lead_provider_id=lead_provider_id,
        cohort=year,
        uplift_target=number("uplift-target"),
        uplift_amount=number("uplift-amount"),
        recruitment_target=number("recruitment-target"),
        revised_target=number("revised-target"),
        set_up_fee=number("set-up-fee"),
        monthly_service_fee=number("monthly-service-fee"),
        bands=bands,
    )


def _bands(row: dict[str, str], where: str) -> tuple[ContractBand, ...]:
    bands = []
    for band in "abcd":
        low, high, each = (_number(row[f"band-{band}-{part}"], where) for part in ("min", "max", "per-participant"))
        if band == "d" and None in (low, high, each):
            continue  # band D only when complete
        bands.append(ContractBand(name=band, min=low, max=high, per_participant=each))
    return tuple(bands)


def _import_mentor_contracts(rows: list[dict[str, str]], state: _CohortImport) -> None:
    """mentor_contracts.csv (optional): a mentor call-off contract per lead provider and cohort."""
    for where, row in _lines("mentor_contracts.csv", rows):
        year = state.known_year(row["cohort-start-year"], where)
        contract = MentorContractRecord(
            lead_provider_id=state.provider_id(row["lead-provider-name"], where),
            cohort=year,
            recruitment_target=_number(row["recruitment-target"], where),
            payment_per_participant=_number(row["payment-per-participant"], where),
        )
        state.items.append(contract)
        state.result.mentor_contracts += 1


def _import_schedules(rows: list[dict[str, str]], state: _CohortImport) -> None:
    """schedules.csv: one row per milestone of a schedule."""
    schedules: dict[tuple[int, str], ScheduleRecord] = {}
    for where, row in _lines("schedules.csv", rows):
        if row["type"] not in SCHEDULE_TYPES:
            raise InputError(f"{where}: unknown schedule type {row['type']!r}")
        year = state.known_year(row["schedule-cohort-year"], where)
        identifier = row["schedule-identifier"]
        if (year, identifier) not in schedules:
            schedules[(year, identifier)] = ScheduleRecord(identifier, row["type"], year)
        schedule = schedules[(year, identifier)]
        schedule.name = row["schedule-name"]
        schedule.add(_milestone(row))
        state.result.milestones += 1
    state.items.extend(schedules.values())
    state.result.schedules = len(schedules)


def _milestone(row: dict[str, str]) -> ScheduleMilestone:
    return ScheduleMilestone(
        name=row["milestone-name"],
        declaration_type=row["milestone-declaration-type"],
        start_date=_when(parse_date(row["milestone-start-date"])),
        milestone_date=_when(parse_date(row["milestone-date"])),
        payment_date=_when(parse_date(row["milestone-payment-date"])),
    )


def _import_statements(rows: list[dict[str, str]], state: _CohortImport) -> None:
    """statements.csv: each ECF statement for every lead provider with a contract in its cohort."""
    _add_stored_contracts(rows, state)
    today = state.now.date()
    for where, row in _lines("statements.csv", rows):
        if row["type"] != "ecf":
            continue
        year = state.known_year(row["cohort"], where)
        deadline, payment = parse_date(row["deadline_date"]), parse_date(row["payment_date"])
        if deadline is None or payment is None:
            raise InputError(f"{where}: deadline_date and payment_date must be dates")
        for lead_provider_id in sorted(state.contracted.get(year, set())):
            statement = Statement(
                id=statement_id_for(lead_provider_id, year, row["name"]),
                lead_provider_id=lead_provider_id,
                cohort=year,
                name=row["name"],
                statement_type=initial_type(deadline, payment, today),
                deadline_date=deadline,
                payment_date=payment,
                output_fee=row["output_fee"].lower() == "true",
                marked_as_paid_at=None,
                created_at=state.now,
                updated_at=state.now,
            )
            state.statements.append(statement)
            state.result.statements += 1


def _add_stored_contracts(rows: list[dict[str, str]], state: _CohortImport) -> None:
    """Contracts imported before also get the statements of their cohort."""
    for year in {int(r["cohort"]) for r in rows if r.get("cohort", "").isdigit()}:
        if year in state.known_years:
            for lead_provider_id in import_repo.contracted_lead_providers(year):
                state.contracted.setdefault(year, set()).add(lead_provider_id)


def statement_id_for(lead_provider_id: str, cohort: int, name: str) -> str:
    """A statement's id is derived from its provider, cohort and name, so a re-import finds it."""
    return str(uuid.uuid5(NAMESPACE, f"statement:{lead_provider_id}:{cohort}:{name}"))


# The files in the importer's step order (each may refer to what the ones before it bring).
_COHORT_STEPS: dict[str, Callable[[list[dict[str, str]], _CohortImport], None]] = {
    "cohort.csv": _import_cohorts,
    "cohort_lead_providers.csv": _import_lead_provider_links,
    "contracts.csv": _import_contracts,
    "mentor_contracts.csv": _import_mentor_contracts,
    "schedules.csv": _import_schedules,
    "statements.csv": _import_statements,
}


def _read_cohort_directory(folder: Path) -> dict[str, list[dict[str, str]]]:
    if not folder.is_dir():
        raise InputError(f"{folder}: not a directory")
    missing = [name for name in COHORT_FILES if name not in OPTIONAL_COHORT_FILES and not (folder / name).is_file()]
    if missing:
        raise InputError(f"{folder}: missing {', '.join(missing)} (all of {', '.join(COHORT_FILES)} are needed)")
    return {
        name: _read_csv(folder / name, header) if (folder / name).is_file() else []
        for name, header in COHORT_FILES.items()
    }


def _write_cohort(state: _CohortImport, progress: Progress | None) -> None:
    """Everything checked: write, cohorts first (the importer's step order), BATCH items a chunk."""
    items = state.items
    for start in range(0, len(items), BATCH):
        import_repo.save_cohort_items(items[start : start + BATCH], state.now)
        if progress:
            progress(min(start + BATCH, len(items)), len(items))
    # Statements are created once per provider and name; an existing one (maybe payable or paid) is kept.
    statement_repo.create_missing(state.statements)


def import_cohort(directory: str | Path, now: datetime, progress: Progress | None = None) -> CohortImportResult:
    """CreateNewECFCohort: cohort, LP links, contracts, mentor contracts, schedules, statements."""
    data = _read_cohort_directory(Path(directory))
    state = _CohortImport(now, import_repo.cohort_years())
    for name, step in _COHORT_STEPS.items():
        step(data[name], state)
    _write_cohort(state, progress)
    return state.result


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


@dataclass
class SchoolImportResult:
    rows: int = 0
    skipped: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def gias_facts(row: dict[str, str]) -> SchoolFacts:
    """What the eligibility rules need from a GIAS extract row."""
    return SchoolFacts(
        status_code=_int(row["EstablishmentStatus (code)"]),
        type_code=_int(row["TypeOfEstablishment (code)"]),
        district_code=_optional(row["DistrictAdministrative (code)"]),
        section_41_approved=row["Section41Approved (name)"] == "Approved",
    )


def gias_school(row: dict[str, str], where: str) -> GiasSchool:
    """A GIAS extract row as a school's GIAS fields (``where`` names the row in error messages)."""
    urn = row["URN"]
    if not urn.isdigit():
        raise InputError(f"{where}: URN {urn!r} is not a number")
    name = " ".join(row["EstablishmentName"].split())
    if not name:
        raise InputError(f"{where}: EstablishmentName is empty")
    return GiasSchool(
        urn=urn,
        name=name,
        ukprn=_optional(row.get("UKPRN")),
        address_line1=_optional(row.get("Street")),
        address_line2=_optional(row.get("Locality")),
        address_line3=_optional(row.get("Town")),
        postcode=_optional(row.get("Postcode")),
        school_type_code=_int(row["TypeOfEstablishment (code)"]),
        school_type_name=_optional(row["TypeOfEstablishment (name)"]),
        school_status_code=_int(row["EstablishmentStatus (code)"]),
        school_status_name=_optional(row["EstablishmentStatus (name)"]),
        school_phase_type=_int(row.get("PhaseOfEducation (code)", "")),
        school_phase_name=_optional(row.get("PhaseOfEducation (name)")),
        administrative_district_code=_optional(row["DistrictAdministrative (code)"]),
        administrative_district_name=_optional(row["DistrictAdministrative (name)"]),
        la_code=_optional(row.get("LA (code)")),
        la_name=_optional(row.get("LA (name)")),
        section_41_approved=row["Section41Approved (name)"] == "Approved",
        school_website=_optional(row.get("SchoolWebsite")),
        primary_contact_email=_optional(row.get("MainEmail")),
        secondary_contact_email=_optional(row.get("AlternativeEmail")),
        listed_by_eligibility=1 if listed_by_eligibility(gias_facts(row)) else 0,
    )


def _staged_schools(rows: list[dict[str, str]], file_name: str, result: SchoolImportResult) -> dict[str, GiasSchool]:
    """The rows in scope, by URN (a later row for the same URN wins); counts the others as skipped."""
    staged: dict[str, GiasSchool] = {}
    for where, row in _lines(file_name, rows):
        school = gias_school(row, where)
        if not should_stage(gias_facts(row)):
            result.skipped += 1
            continue
        staged[school.urn] = school
    return staged


def _upsert_schools(schools: dict[str, GiasSchool], now: datetime, result: SchoolImportResult) -> None:
    """One chunk of schools by id: create the new ones, update the changed ones."""
    stored = import_repo.stored_schools(list(schools))
    created: dict[str, GiasSchool] = {}
    for school_id, school in schools.items():
        existing = stored.get(school_id)
        if existing is None:
            created[school_id] = school
            result.created += 1
        elif gias_changed(existing, school):
            import_repo.update_school(school_id, school, now)
            contact = school.primary_contact_email or school.secondary_contact_email
            import_repo.touch_partnerships(school_id, now, induction_tutor_email=contact)
            result.updated += 1
        else:
            result.unchanged += 1
    import_repo.create_schools(created, now)


def import_schools(path: str | Path, now: datetime, progress: Progress | None = None) -> SchoolImportResult:
    """Upsert the staged schools of a GIAS extract (ISO-8859-1). Changed schools get a new ``updated_at``."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: no such file")
    rows = _read_csv(file, GIAS_COLUMNS, encoding="iso-8859-1")
    result = SchoolImportResult(rows=len(rows))
    staged = _staged_schools(rows, file.name, result)
    urns = list(staged)
    for start in range(0, len(urns), BATCH):
        chunk = urns[start : start + BATCH]
        _upsert_schools({school_id_for(urn): staged[urn] for urn in chunk}, now, result)
        if progress:
            progress(start + len(chunk), len(urns))
    return result
