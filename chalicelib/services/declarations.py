"""Participant declarations: submit, void, list and show (docs/reference/ecf-declarations-statements.md 1), and the
consequences of an eligibility change and of a participant's records changing (who may see a declaration).

Every write is one ``DeclarationChange`` applied by the repository in one transaction, conditional on what it
was planned from; a lost race re-reads and re-plans (so a concurrent duplicate gets the ``base`` 422).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.domain import declarations as rules
from chalicelib.domain import messages as m
from chalicelib.domain.declarations import (
    Attempt,
    Declaration,
    DeclarationChange,
    Facts,
    ProviderDeclarationView,
    StateChange,
    StatementLineChange,
)
from chalicelib.domain.errors import Conflict, NotFound, ValidationFailed
from chalicelib.domain.paging import Listing, Page, page_of, time_key
from chalicelib.domain.participants import COURSES, Participant, Profile
from chalicelib.domain.statements import Statement
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import declarations as repo
from chalicelib.repositories import eligibility as eligibility_repo
from chalicelib.repositories import participant_graph as graph
from chalicelib.repositories import statements as statement_repo
from chalicelib.services.ids import is_uuid

log = logging.getLogger("ecf.declarations")
ATTEMPTS = 3


# --------------------------------------------------------------------------- submit


@dataclass(frozen=True)
class _Context:
    """What ``submit`` read: the facts for the rules, and what a valid declaration is built from."""

    facts: Facts
    participant: Participant | None
    profile: Profile | None
    statement: Statement | None


def submit(lead_provider_id: str, lead_provider_name: str, attributes: Mapping[str, Any], now: datetime) -> Declaration:
    """``RecordDeclaration``: validate in the real order, then record in one transaction. Returns the declaration."""
    course = attributes.get("course_identifier")
    if rules.is_npq(course):  # before_validation: aborts; no attempt is recorded
        raise ValidationFailed({"course_identifier": [m.NPQ_NOT_SUPPORTED]})
    for _ in range(ATTEMPTS):
        context = _gather(lead_provider_id, attributes, now)
        attempt = _attempt(lead_provider_id, attributes, context.participant, now)
        errors = rules.validate(context.facts)
        if errors:
            if attempt is not None:  # one attempt per POST: a success writes it with the declaration
                repo.record_attempt(attempt)
            raise ValidationFailed(errors)
        assert context.participant is not None
        assert context.profile is not None
        change = _plan_new(lead_provider_id, lead_provider_name, attributes, context, attempt, now)
        try:
            repo.apply(change)
        except Conflict:
            continue  # re-read: a concurrent duplicate now holds the slot, or the statement moved on
        return change.after
    raise Conflict("The declaration could not be recorded because of concurrent changes; try again")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _gather(lead_provider_id: str, attributes: Mapping[str, Any], now: datetime) -> _Context:
    course = attributes.get("course_identifier")
    declaration_type = attributes.get("declaration_type")
    when = rules.cast_declaration_date(attributes.get("declaration_date"))
    participant_id = attributes.get("participant_id")
    participant = graph.get(str(participant_id)) if is_uuid(participant_id) else None
    participant_type = COURSES.get(course) if isinstance(course, str) else None
    profile = participant.active_profile(participant_type) if participant and participant_type else None
    user_has_course = participant is not None and any(
        p.status == "active" and p.course_identifier == course for p in participant.profiles
    )

    provider_state = record_at_date = milestone = statement = None
    schedule_has_milestone = trains_on_schedule = fundable = mentor_funding = detailed = False
    existing_state: str | None = None
    cohort: int | None = None
    if participant is not None and profile is not None:
        cohort = profile.schedule_cohort
        mine = participant.records_with(profile, lead_provider_id)
        if any(r.training_status == "withdrawn" for r in profile.records):
            provider_state = graph.latest_provider_state(profile.id, lead_provider_id)
        if when.value is not None:
            record_at_date = rules.record_at(mine, when.value, None)
        milestones = cohort_repo.milestones_of(profile.schedule_cohort, profile.schedule_identifier) or []
        milestone = next((x for x in milestones if x.declaration_type == declaration_type), None)
        schedule_has_milestone = milestone is not None
        trains_on_schedule = any(
            r.schedule_identifier == profile.schedule_identifier and r.schedule_cohort == profile.schedule_cohort
            for r in mine
        )
        if isinstance(course, str) and _text(declaration_type):
            holder = repo.slot_holder(participant.id, course, str(declaration_type))
            held = repo.get(holder) if holder else None
            existing_state = held.state if held is not None and held.holds_slot else None
        eligibility = eligibility_repo.get(profile.id)
        fundable = eligibility is not None and eligibility.fundable
        statement = statement_repo.next_output_fee(lead_provider_id, cohort, now.date())
        cohort_rules = cohort_repo.rules_of(cohort)
        mentor_funding = bool(cohort_rules and cohort_rules.mentor_funding)
        detailed = bool(cohort_rules and cohort_rules.detailed_evidence_types)

    facts = Facts(
        course_identifier=course,
        declaration_type=declaration_type,
        declaration_date=when,
        evidence_held=attributes.get("evidence_held"),
        now=now,
        user_resolved=participant is not None,
        participant_type=participant_type,
        profile_found=profile is not None,
        user_has_course=user_has_course,
        provider_state=provider_state,
        provider_record_at_date=record_at_date,
        milestone=milestone,
        schedule_has_milestone=schedule_has_milestone,
        existing_state=existing_state,
        fundable=fundable,
        cohort=cohort,
        has_output_statement=statement is not None,
        mentor_funding=mentor_funding,
        detailed_evidence=detailed,
        provider_trains_on_schedule=trains_on_schedule,
    )
    return _Context(facts=facts, participant=participant, profile=profile, statement=statement)


def _attempt(
    lead_provider_id: str, attributes: Mapping[str, Any], participant: Participant | None, now: datetime
) -> Attempt | None:
    """A ``ParticipantDeclarationAttempt``: only when the participant resolves (1.3 row 0b)."""
    if participant is None:
        return None

    def raw(name: str) -> str | None:
        value = attributes.get(name)
        return None if value is None else str(value)[:200]

    return Attempt(
        id=str(uuid.uuid4()),
        user_id=participant.id,
        lead_provider_id=lead_provider_id,
        course_identifier=raw("course_identifier"),
        declaration_date=raw("declaration_date"),
        declaration_type=raw("declaration_type"),
        evidence_held=raw("evidence_held"),
        created_at=now,
    )


def _duplicate_of(participant: Participant, profile: Profile, course: str, declaration_type: str) -> str | None:
    """The earliest billable-or-submitted declaration of the same event by ANOTHER user with the same TRN."""
    if not participant.trn:
        return None
    candidates: list[Declaration] = []
    for other in graph.users_with_trn(participant.trn):
        if other == participant.id:
            continue
        candidates += [
            d
            for d in repo.of_user(other)
            if d.participant_type == profile.participant_type
            and d.course_identifier == course
            and d.declaration_type == declaration_type
            and d.state in rules.SLOT_STATES
            and d.superseded_by_id is None
        ]
    if not candidates:
        return None
    return min(candidates, key=lambda d: (d.created_at, d.id)).id


def _plan_new(
    lead_provider_id: str,
    lead_provider_name: str,
    attributes: Mapping[str, Any],
    context: _Context,
    attempt: Attempt | None,
    now: datetime,
) -> DeclarationChange:
    participant, profile, facts = context.participant, context.profile, context.facts
    assert participant is not None
    assert profile is not None
    assert facts.declaration_date.value is not None
    course, declaration_type = str(facts.course_identifier), str(facts.declaration_type)
    result = rules.outcome(_duplicate_of(participant, profile, course, declaration_type), facts.fundable)
    return new_declaration(
        NewDeclaration(
            lead_provider_id=lead_provider_id,
            lead_provider_name=lead_provider_name,
            participant=participant,
            profile=profile,
            course_identifier=course,
            declaration_type=declaration_type,
            declaration_date=facts.declaration_date.value,
            evidence_held=rules.stored_evidence(facts.detailed_evidence, declaration_type, facts.evidence_held),
            outcome=result,
            statement=context.statement,
            attempt=attempt,
        ),
        declaration_id=str(uuid.uuid4()),
        now=now,
    )


@dataclass(frozen=True)
class NewDeclaration:
    """Everything a new declaration is built from, once the rules have passed."""

    lead_provider_id: str
    lead_provider_name: str
    participant: Participant
    profile: Profile
    course_identifier: str
    declaration_type: str
    declaration_date: datetime
    evidence_held: str | None
    outcome: rules.Outcome
    statement: Statement | None  # the next output-fee statement; used only when the outcome attaches
    attempt: Attempt | None = None


def new_declaration(new: NewDeclaration, *, declaration_id: str, now: datetime) -> DeclarationChange:
    """The change that records a new declaration: the delivery partner and mentor stamped from the provider's
    induction record as of the declaration date, its state history, its statement line and read-model items.
    Pure; ``submit`` applies it in one transaction (and the benchmark loads its items in batches)."""
    participant, profile, result = new.participant, new.profile, new.outcome
    record = rules.record_at(participant.records_with(profile, new.lead_provider_id), new.declaration_date, None)
    trainer = participant.trainer_of(record) if record else None
    statement = new.statement if result.attaches else None
    declaration = Declaration(
        id=declaration_id,
        user_id=participant.id,
        profile_id=profile.id,
        participant_type=profile.participant_type,
        lead_provider_id=new.lead_provider_id,
        lead_provider_name=new.lead_provider_name,
        cohort=profile.schedule_cohort,
        course_identifier=new.course_identifier,
        declaration_type=new.declaration_type,
        declaration_date=new.declaration_date,
        evidence_held=new.evidence_held,
        state=result.state,
        state_reason=result.reason,
        delivery_partner_id=trainer.delivery_partner_id if trainer else None,
        mentor_user_id=record.mentor_user_id if record and profile.participant_type == "ect" else None,
        superseded_by_id=result.superseded_by_id,
        pupil_premium_uplift=profile.pupil_premium_uplift,
        sparsity_uplift=profile.sparsity_uplift,
        statement_id=statement.id if statement else None,
        line_state=result.state if statement else None,
        clawback_statement_id=None,
        viewers=frozenset(),
        voided_at=None,
        created_at=now,
        updated_at=now,
    )
    views = plan_views(declaration, participant)
    declaration = replace(declaration, viewers=frozenset(v.lead_provider_id for v in views))
    states = [StateChange(declaration_id, "submitted", None, now)]
    if result.state != "submitted":
        states.append(StateChange(declaration_id, result.state, result.reason, now))
    lines = (
        (_line(statement.id, declaration, participant, result.state, refundable=False, at=now),) if statement else ()
    )
    return DeclarationChange(
        before=None,
        after=declaration,
        states=tuple(states),
        new_lines=lines,
        views=tuple(views),
        open_statement_id=statement.id if statement else None,
        attempt=replace(new.attempt, declaration_id=declaration_id) if new.attempt else None,
    )


def _line(
    statement_id: str, declaration: Declaration, participant: Participant, state: str, *, refundable: bool, at: datetime
) -> StatementLineChange:
    return StatementLineChange(
        statement_id=statement_id,
        declaration_id=declaration.id,
        state=state,
        refundable=refundable,
        declaration_type=declaration.declaration_type,
        participant_name=participant.full_name,
        at=at,
    )


# --------------------------------------------------------------------------- visibility (1.7)


def plan_views(declaration: Declaration, participant: Participant | None) -> list[ProviderDeclarationView]:
    """The read-model items the declaration should have: its owner, and other providers with a qualifying
    record on the declaration's profile."""
    profile = next((p for p in participant.profiles if p.id == declaration.profile_id), None) if participant else None
    providers = {declaration.lead_provider_id} | (participant.providers(profile) if participant and profile else set())
    views = []
    for lead_provider_id in sorted(providers):
        records = participant.records_with(profile, lead_provider_id) if participant and profile else []
        in_v3, in_v1_v2 = rules.visible_to(declaration, lead_provider_id, records)
        if in_v3:
            views.append(
                ProviderDeclarationView(
                    lead_provider_id=lead_provider_id,
                    declaration_id=declaration.id,
                    user_id=declaration.user_id,
                    cohort=declaration.cohort,
                    delivery_partner_id=declaration.delivery_partner_id,
                    in_v1_v2=in_v1_v2,
                    created_at=declaration.created_at,
                    updated_at=declaration.updated_at,
                )
            )
    return views


def changed(
    before: Declaration,
    after: Declaration,
    participant: Participant | None,
    *,
    states: Sequence[StateChange] = (),
    new_lines: Sequence[StatementLineChange] = (),
    changed_lines: Sequence[StatementLineChange] = (),
    open_statement_id: str | None = None,
) -> DeclarationChange:
    """A change of an existing declaration, with its read-model items brought in step."""
    views = plan_views(after, participant)
    viewers = frozenset(v.lead_provider_id for v in views)
    after = replace(after, viewers=viewers)
    return DeclarationChange(
        before=before,
        after=after,
        states=tuple(states),
        new_lines=tuple(new_lines),
        changed_lines=tuple(changed_lines),
        views=tuple(views),
        removed_viewers=tuple(sorted(before.viewers - viewers)),
        open_statement_id=open_statement_id,
    )


def refresh_visibility(user_ids: Iterable[str], now: datetime) -> int:
    """After a participant's records change: put and remove read-model items so each provider sees what the
    rule says. The declarations themselves do not change. Returns the number of declarations touched."""
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    participants = graph.load(ids)
    touched = 0
    for user_id in ids:
        for declaration in repo.of_user(user_id):
            views = plan_views(declaration, participants.get(user_id))
            viewers = frozenset(v.lead_provider_id for v in views)
            if viewers == declaration.viewers:
                continue
            change = DeclarationChange(
                before=declaration,
                after=replace(declaration, viewers=viewers),
                views=tuple(v for v in views if v.lead_provider_id not in declaration.viewers),
                removed_viewers=tuple(sorted(declaration.viewers - viewers)),
            )
            try:
                repo.apply(change)
                touched += 1
            except Conflict:
                log.info("declaration %s changed while its visibility was refreshed; its own change did it", user_id)
    return touched


# --------------------------------------------------------------------------- void (1.6)


def void(lead_provider_id: str, declaration_id: str, now: datetime) -> Declaration:
    """Void (or claw back a paid declaration). Only the owner may; anyone else gets the same 404 as a random id."""
    for _ in range(ATTEMPTS):
        declaration = repo.get(declaration_id) if is_uuid(declaration_id) else None
        if declaration is None or declaration.lead_provider_id != lead_provider_id:
            raise NotFound(declaration_id)
        statement = (
            statement_repo.next_output_fee(lead_provider_id, declaration.cohort, now.date())
            if declaration.state == "paid"
            else None
        )
        rules.plan_void(declaration, statement is not None)  # refuses before the participant is read
        change = void_change(declaration, graph.get(declaration.user_id), statement, now)
        try:
            repo.apply(change)
        except Conflict:
            continue
        return change.after
    raise Conflict("The declaration changed concurrently; try again")


def void_change(
    declaration: Declaration, participant: Participant | None, statement: Statement | None, now: datetime
) -> DeclarationChange:
    """The change a void makes (``InvalidTransition`` when it may not): a paid declaration awaits clawback on
    ``statement`` (the next output-fee statement), anything else is voided with its line. Pure."""
    plan = rules.plan_void(declaration, statement is not None)
    if plan.clawback:
        assert statement is not None
        after = replace(declaration, state=plan.state, clawback_statement_id=statement.id, updated_at=now)
        change = changed(
            declaration,
            after,
            participant,
            states=[StateChange(declaration.id, plan.state, None, now)],
            new_lines=[_line(statement.id, after, _named(participant), plan.state, refundable=True, at=now)],
            open_statement_id=statement.id,
        )
    else:
        line_changes: list[StatementLineChange] = []
        line_state = declaration.line_state
        if declaration.statement_id and declaration.line_state in rules.VOIDABLE_LINE_STATES:
            line_state = "voided"
            line_changes.append(
                _line(declaration.statement_id, declaration, _named(participant), "voided", refundable=False, at=now)
            )
        after = replace(declaration, state="voided", line_state=line_state, voided_at=now, updated_at=now)
        change = changed(
            declaration,
            after,
            participant,
            states=[StateChange(declaration.id, "voided", None, now)],
            changed_lines=line_changes,
        )
    return change


def _named(participant: Participant | None) -> Participant:
    if participant is None:  # a declaration always has its user; guard against a deleted one
        raise NotFound("participant")
    return participant


# --------------------------------------------------------------------------- list and show (1.7)


def _strictly_after(value: datetime) -> datetime:
    """``updated_at > value`` as ``updated_at >= result`` (times are stored to the millisecond). The last
    representable millisecond stays itself: nothing is updated after it either way."""
    millis = value.replace(microsecond=(value.microsecond // 1000) * 1000)
    return (
        millis
        if millis > datetime.max.replace(tzinfo=millis.tzinfo) - timedelta(milliseconds=1)
        else millis + timedelta(milliseconds=1)
    )


def list_declarations(
    lead_provider_id: str,
    *,
    v1_v2: bool,
    cohorts: Sequence[int] | None,
    participant_ids: Sequence[str] | None,
    delivery_partner_ids: Sequence[str] | None,
    updated_since: datetime | None,
    page: Page,
) -> Listing[Declaration]:
    """The provider's own declarations and the others' it may see, oldest first. v1/v2 ``updated_since`` is
    strictly after; v3's is on or after."""
    since = _strictly_after(updated_since) if (v1_v2 and updated_since is not None) else updated_since
    if participant_ids is not None:
        return _for_participants(lead_provider_id, v1_v2, cohorts, participant_ids, delivery_partner_ids, since, page)
    keys = repo.view_page(
        lead_provider_id,
        v1_v2=v1_v2,
        cohorts=cohorts,
        delivery_partner_ids=delivery_partner_ids,
        updated_since=since,
        page=page,
    )
    found = repo.by_ids(keys.keys)
    return Listing([found[i] for i in keys.keys if i in found], keys.next)


def _for_participants(
    lead_provider_id: str,
    v1_v2: bool,
    cohorts: Sequence[int] | None,
    participant_ids: Sequence[str],
    delivery_partner_ids: Sequence[str] | None,
    since: datetime | None,
    page: Page,
) -> Listing[Declaration]:
    """``filter[participant_id]``: the participants' declarations (a Query each) that the provider may see."""
    users = [u for u in dict.fromkeys(participant_ids) if is_uuid(u)][:100]
    candidates = [d for user_id in users for d in repo.of_user(user_id)]
    views = repo.view_items([(lead_provider_id, d.id) for d in candidates])
    out = []
    for declaration in candidates:
        view = views.get((lead_provider_id, declaration.id))
        if view is None or (v1_v2 and not view.in_v1_v2):
            continue
        if cohorts and declaration.cohort not in cohorts:
            continue
        if delivery_partner_ids and declaration.delivery_partner_id not in delivery_partner_ids:
            continue
        if since is not None and declaration.updated_at < since:
            continue
        out.append(declaration)
    out.sort(key=_created_order)
    return page_of(out, page, _created_order)


def _created_order(declaration: Declaration) -> str:
    return time_key(declaration.created_at, declaration.id)


def get_declaration(lead_provider_id: str, declaration_id: str, *, v1_v2: bool) -> Declaration:
    if not is_uuid(declaration_id):
        raise NotFound(declaration_id)
    view = repo.view_items([(lead_provider_id, declaration_id)]).get((lead_provider_id, declaration_id))
    if view is None or (v1_v2 and not view.in_v1_v2):
        raise NotFound(declaration_id)
    declaration = repo.get(declaration_id)
    if declaration is None:
        raise NotFound(declaration_id)
    return declaration


# --------------------------------------------------------------------------- eligibility → declarations


def make_eligible(profile_id: str, user_id: str, now: datetime) -> int:
    """The profile became eligible: its ``submitted`` declarations become ``eligible`` and attach to the then-next
    output-fee statement of their provider and cohort (``MakeDeclarationsEligibleForParticipantProfile``).
    Idempotent: only submitted declarations move. Returns how many moved."""
    moved = 0
    for declaration in repo.of_user(user_id):
        if declaration.profile_id != profile_id or declaration.state != "submitted":
            continue
        for _ in range(ATTEMPTS):
            current = repo.get(declaration.id)
            if current is None or current.state != "submitted":
                break
            statement = statement_repo.next_output_fee(current.lead_provider_id, current.cohort, _today(now))
            if statement is None:
                log.warning(
                    "declaration %s stays submitted: %s has no open output-fee statement for %s",
                    current.id,
                    current.lead_provider_id,
                    current.cohort,
                )
                break
            participant = graph.get(user_id)
            after = replace(current, state="eligible", statement_id=statement.id, line_state="eligible", updated_at=now)
            change = changed(
                current,
                after,
                participant,
                states=[StateChange(current.id, "eligible", None, now)],
                new_lines=[_line(statement.id, after, _named(participant), "eligible", refundable=False, at=now)],
                open_statement_id=statement.id,
            )
            try:
                repo.apply(change)
            except Conflict:
                continue
            moved += 1
            break
    return moved


def _today(now: datetime) -> date:
    return now.date()
