"""Finance views: the participant search page and the statement's assurance report
(docs/reference/ecf-declarations-statements.md 2.3, 2.4). Read-only.

The report streams: one page of statement lines at a time (in participant-name order, from the lines' name
index), each page joined with BatchGets (declarations, the participant graph, eligibilities, schools,
delivery partners, providers' withdrawal reasons), so N lines cost about N/100 requests per kind of record
and memory holds one page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from chalicelib.domain.declarations import Declaration
from chalicelib.domain.errors import NotFound
from chalicelib.domain.finance_reports import (
    NO_RECORDS_FOUND,
    AssuranceRow,
    DeclarationStateRow,
    FinanceDeclaration,
    FinanceInductionRecord,
    FinanceParticipant,
    FinanceProfile,
    SchoolRef,
    assurance_file_name,
    latest_created,
    shown_reason,
)
from chalicelib.domain.participants import Participant, Profile, Record
from chalicelib.domain.statements import Eligibility, Statement, StatementLine
from chalicelib.repositories import declarations as declaration_repo
from chalicelib.repositories import eligibility as eligibility_repo
from chalicelib.repositories import finance_lookups as lookups
from chalicelib.repositories import participant_graph as graph
from chalicelib.repositories import statements as statement_repo
from chalicelib.services.ids import is_uuid
from chalicelib.services.statements import find_statement

log = logging.getLogger("ecf.finance")


# --------------------------------------------------------------------------- the assurance report (2.3)


@dataclass(frozen=True)
class AssuranceReport:
    statement: Statement
    lead_provider_name: str
    file_name: str
    rows: Iterator[AssuranceRow]  # lazy: read a page of lines at a time as it is consumed


def assurance_report(statement_id: str) -> AssuranceReport:
    """The statement's "Download declarations (CSV)": its file name and its rows, ordered by participant name.

    ``InputError`` if there is no such statement. Rows are read only as ``rows`` is iterated.
    """
    statement = find_statement(statement_id)
    provider_names = lookups.lead_provider_names([statement.lead_provider_id])
    name = provider_names.get(statement.lead_provider_id, statement.lead_provider_id)
    return AssuranceReport(
        statement=statement,
        lead_provider_name=name,
        file_name=assurance_file_name(name, statement.cohort, statement.name),
        rows=_rows(statement, provider_names),
    )


def _rows(statement: Statement, provider_names: dict[str, str]) -> Iterator[AssuranceRow]:
    for lines in statement_repo.line_pages(statement.id, by_name=True):
        yield from _page_rows(statement, lines, provider_names)


@dataclass(frozen=True)
class _Joined:
    """One declaration of the page with what its row is made of."""

    line: StatementLine
    declaration: Declaration
    participant: Participant
    profile: Profile | None
    record: Record | None  # the profile's latest record (by creation) with the declaration's provider


def _page_rows(
    statement: Statement, lines: Sequence[StatementLine], provider_names: dict[str, str]
) -> list[AssuranceRow]:
    """A page of lines → rows: each kind of record read once for the whole page, by BatchGet."""
    declarations = declaration_repo.by_ids([line.declaration_id for line in lines])
    participants = graph.load({d.user_id for d in declarations.values()})
    joined = [j for line in lines if (j := _join(line, declarations, participants)) is not None]
    eligibilities = eligibility_repo.by_profiles(sorted({j.declaration.profile_id for j in joined}))
    schools = lookups.schools(sorted({j.record.school_id for j in joined if j.record}))
    partner_names = lookups.delivery_partner_names(sorted({dp for j in joined if (dp := _delivery_partner_id(j))}))
    missing = sorted({j.declaration.lead_provider_id for j in joined} - set(provider_names))
    if missing:
        provider_names.update(lookups.lead_provider_names(missing))  # a handful of providers: kept across pages
    withdrawn = [
        (j.declaration.lead_provider_id, j.participant.id)
        for j in joined
        if j.record is not None and j.record.training_status == "withdrawn"
    ]
    reasons = lookups.withdrawal_reasons(withdrawn) if withdrawn else {}
    return [
        _row(statement, j, eligibilities.get(j.declaration.profile_id), schools, partner_names, provider_names, reasons)
        for j in joined
    ]


def _join(
    line: StatementLine, declarations: dict[str, Declaration], participants: dict[str, Participant]
) -> _Joined | None:
    declaration = declarations.get(line.declaration_id)
    participant = participants.get(declaration.user_id) if declaration else None
    if declaration is None or participant is None:
        log.warning("statement %s: line %s has no declaration or participant", line.statement_id, line.declaration_id)
        return None
    profile = next((p for p in participant.profiles if p.id == declaration.profile_id), None)
    record = latest_created(participant.records_with(profile, declaration.lead_provider_id)) if profile else None
    return _Joined(line, declaration, participant, profile, record)


def _delivery_partner_id(joined: _Joined) -> str | None:
    """``COALESCE(pd.delivery_partner_id, latest record's partnership DP)``."""
    if joined.declaration.delivery_partner_id:
        return joined.declaration.delivery_partner_id
    trainer = joined.participant.trainer_of(joined.record) if joined.record else None
    return trainer.delivery_partner_id if trainer else None


def _row(
    statement: Statement,
    joined: _Joined,
    eligibility: Eligibility | None,
    schools: dict[str, SchoolRef],
    partner_names: dict[str, str],
    provider_names: dict[str, str],
    reasons: dict[tuple[str, str], str | None],
) -> AssuranceRow:
    declaration, profile, record = joined.declaration, joined.profile, joined.record
    school = schools.get(record.school_id) if record else None
    partner_id = _delivery_partner_id(joined)
    eligible = eligibility is not None and eligibility.fundable
    withdrawn = record is not None and record.training_status == "withdrawn"
    return AssuranceRow(
        participant_id=joined.participant.id,
        participant_name=joined.participant.full_name,
        trn=joined.participant.trn,
        participant_type=declaration.participant_type,
        mentor_profile_id=profile.mentor_profile_id if profile else None,
        schedule=record.schedule_identifier if record else None,
        eligible_for_funding=eligible,
        eligible_for_funding_reason=eligibility.reason if eligibility is not None and not eligible else None,
        sparsity_uplift=bool(profile and profile.sparsity_uplift),
        pupil_premium_uplift=bool(profile and profile.pupil_premium_uplift),
        lead_provider_name=provider_names.get(declaration.lead_provider_id, declaration.lead_provider_name),
        delivery_partner_name=partner_names.get(partner_id) if partner_id else None,
        school_urn=school.urn if school else (record.school_urn if record else None),
        school_name=school.name if school else None,
        training_status=record.training_status if record else None,
        training_status_reason=(
            shown_reason(reasons.get((declaration.lead_provider_id, declaration.profile_id))) if withdrawn else None
        ),
        declaration_id=declaration.id,
        declaration_status=joined.line.state,
        declaration_type=declaration.declaration_type,
        declaration_date=declaration.declaration_date,
        declaration_created_at=declaration.created_at,
        statement_name=statement.name,
        statement_id=statement.id,
    )


# --------------------------------------------------------------------------- the participant page (2.4)


def find_participant(query: str) -> FinanceParticipant:
    """Search by participant id (the user id), then by declaration id. ``NotFound("No records found")``."""
    text = query.strip()
    participant = graph.get(text) if is_uuid(text) else None
    matched_by = "participant_id"
    if participant is None and is_uuid(text):
        declaration = declaration_repo.get(text)
        participant = graph.get(declaration.user_id) if declaration else None
        matched_by = "declaration_id"
    if participant is None:
        raise NotFound(NO_RECORDS_FOUND)
    return _page(text, matched_by, participant)


def _page(query: str, matched_by: str, participant: Participant) -> FinanceParticipant:
    declarations = declaration_repo.of_user(participant.id)
    profiles = participant.profiles
    records = [r for p in profiles for r in p.records]
    active = lookups.active_lead_providers([(p.school_id, p.cohort) for p in profiles])
    trainers = [t for r in records if (t := participant.trainer_of(r))]
    provider_ids = {t.lead_provider_id for t in trainers if t.lead_provider_id} | set(active.values())
    partner_ids = {t.delivery_partner_id for t in trainers if t.delivery_partner_id}
    partner_ids |= {d.delivery_partner_id for d in declarations if d.delivery_partner_id}
    names = _Names(
        schools=lookups.schools(sorted({p.school_id for p in profiles} | {r.school_id for r in records})),
        programmes=lookups.training_programmes(sorted({r.programme_id for r in records})),
        providers=lookups.lead_provider_names(sorted(provider_ids | {d.lead_provider_id for d in declarations})),
        partners=lookups.delivery_partner_names(sorted(partner_ids)),
        statements={
            s.id: s.name
            for s in statement_repo.by_ids(
                sorted({i for d in declarations for i in (d.statement_id, d.clawback_statement_id) if i})
            ).values()
        },
    )
    eligibilities = eligibility_repo.by_profiles([p.id for p in profiles])
    return FinanceParticipant(
        query=query,
        matched_by=matched_by,
        participant_id=participant.id,
        full_name=participant.full_name,
        email=participant.email,
        trn=participant.trn,
        created_at=participant.created_at,
        updated_at=participant.updated_at,
        profiles=tuple(
            _profile(participant, p, eligibilities.get(p.id), active.get((p.school_id, p.cohort)), names)
            for p in profiles
        ),
        declarations=tuple(_declaration(d, names) for d in declarations),
    )


@dataclass(frozen=True)
class _Names:
    schools: dict[str, SchoolRef]
    programmes: dict[str, str]
    providers: dict[str, str]
    partners: dict[str, str]
    statements: dict[str, str]


def _profile(
    participant: Participant, profile: Profile, eligibility: Eligibility | None, active_lp: str | None, names: _Names
) -> FinanceProfile:
    school = names.schools.get(profile.school_id)
    newest_first = sorted(profile.records, key=lambda r: (r.start_date, r.created_at, r.id), reverse=True)
    return FinanceProfile(
        participant_id=participant.id,
        profile_id=profile.id,
        participant_type=profile.participant_type,
        eligible_for_funding=eligibility is not None and eligibility.fundable,
        eligibility_status=eligibility.status if eligibility else None,
        eligibility_reason=eligibility.reason if eligibility else None,
        lead_provider_id=active_lp,
        lead_provider_name=names.providers.get(active_lp) if active_lp else None,
        school_urn=school.urn if school else None,
        school_name=school.name if school else None,
        status=profile.status,
        training_status=profile.training_status,
        schedule_identifier=profile.schedule_identifier,
        schedule_cohort=profile.schedule_cohort,
        cohort=profile.cohort,
        pupil_premium_uplift=profile.pupil_premium_uplift,
        sparsity_uplift=profile.sparsity_uplift,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
        induction_records=tuple(_record(participant, r, names) for r in newest_first),
    )


def _record(participant: Participant, record: Record, names: _Names) -> FinanceInductionRecord:
    trainer = participant.trainer_of(record)
    lead_provider_id = trainer.lead_provider_id if trainer else None
    partner_id = trainer.delivery_partner_id if trainer else None
    school = names.schools.get(record.school_id)
    return FinanceInductionRecord(
        id=record.id,
        training_programme=names.programmes.get(record.programme_id),
        school_urn=record.school_urn,
        school_name=school.name if school else None,
        lead_provider_id=lead_provider_id,
        lead_provider_name=names.providers.get(lead_provider_id) if lead_provider_id else None,
        delivery_partner_id=partner_id,
        delivery_partner_name=names.partners.get(partner_id) if partner_id else None,
        induction_status=record.induction_status,
        training_status=record.training_status,
        start_date=record.start_date,
        end_date=record.end_date,
        schedule_identifier=record.schedule_identifier,
        schedule_cohort=record.schedule_cohort,
        created_at=record.created_at,
    )


def _declaration(declaration: Declaration, names: _Names) -> FinanceDeclaration:
    history = tuple(
        DeclarationStateRow(state=s.state, changed_at=s.at, reason=s.reason)
        for s in declaration_repo.states_of(declaration.id)  # a Query each: a participant has a few
    )
    return FinanceDeclaration(
        id=declaration.id,
        profile_id=declaration.profile_id,
        course_identifier=declaration.course_identifier,
        declaration_type=declaration.declaration_type,
        declaration_date=declaration.declaration_date,
        evidence_held=declaration.evidence_held,
        lead_provider_id=declaration.lead_provider_id,
        lead_provider_name=names.providers.get(declaration.lead_provider_id, declaration.lead_provider_name),
        delivery_partner_id=declaration.delivery_partner_id,
        delivery_partner_name=(
            names.partners.get(declaration.delivery_partner_id) if declaration.delivery_partner_id else None
        ),
        state=declaration.state,
        state_reason=declaration.state_reason,
        statement_id=declaration.statement_id,
        statement_name=names.statements.get(declaration.statement_id) if declaration.statement_id else None,
        line_state=declaration.line_state,
        clawback_statement_id=declaration.clawback_statement_id,
        clawback_statement_name=(
            names.statements.get(declaration.clawback_statement_id) if declaration.clawback_statement_id else None
        ),
        created_at=declaration.created_at,
        updated_at=declaration.updated_at,
        state_history=history,
    )
