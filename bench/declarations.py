"""Declarations for the benchmark, built by the services' own builders and bulk-loaded.

The largest lead provider's visible participants (loaded by ``bench.participants``) are read back as domain
records (``repositories.participant_graph.load``), marked eligible for funding, and given declarations:

* every milestone of their schedule (mentors in a mentor-funding cohort: ``started`` and ``completed``),
  dated in the milestone's window and submitted a few days later, each built by
  ``services.declarations.new_declaration`` on the provider's next output-fee statement as of its submission;
* declarations on statements whose deadline has passed are then moved to ``payable`` and ``paid`` by
  ``services.statements.move_line`` (the authorise step) and those statements are marked paid through the
  repository, except one: ``target``, the cohort's latest output-fee statement past its deadline, holds
  ``target_lines`` eligible declarations and stays open, as if the daily job had missed it;
* the rest of the count is voided declarations (submitted, then voided by ``services.declarations.void_change``);
* a few participants keep a free ``completed`` slot for the POST rows.

``repositories.declarations.seed`` writes the finished items with batch writes (the same items ``apply``
writes in transactions). Derived from a seeded ``random.Random``: the same scale gives the same data.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from chalicelib.domain import declarations as rules
from chalicelib.domain.declarations import DeclarationChange
from chalicelib.domain.participants import COURSES, MENTOR, Participant, Profile
from chalicelib.domain.statements import Eligibility, Statement, StatementLine
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import declarations as declaration_repo
from chalicelib.repositories import eligibility as eligibility_repo
from chalicelib.repositories import participant_graph as graph
from chalicelib.repositories import statements as statement_repo
from chalicelib.services import declarations as declaration_service
from chalicelib.services import statements as statement_service

TYPES = ("started", "retained-1", "retained-2", "retained-3", "retained-4", "completed")
MENTOR_FUNDED_TYPES = ("started", "completed")
FREE_SLOTS = 60  # participants whose `completed` stays free for POST (warm-up + repetitions)
COURSE_OF = {participant_type: course for course, participant_type in COURSES.items()}


@dataclass
class DeclarationData:
    lead_provider_id: str = ""
    count: int = 0
    items: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    target: Statement | None = None
    target_lines: int = 0
    statements_paid: int = 0
    post_targets: list[tuple[str, str, str]] = field(default_factory=list)  # (user id, course, declaration type)
    post_cohort: int = 0
    sample_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        states = ", ".join(f"{state} {n:,}" for state, n in sorted(self.by_state.items()))
        target = self.target.name if self.target else "none"
        return (
            f"; {self.count:,} declarations of the largest LP ({states}; {self.items:,} items); "
            f"statement {target} (cohort {self.target.cohort if self.target else '-'}): {self.target_lines:,} "
            f"eligible lines, deadline passed, still open; {self.statements_paid} earlier statements paid"
        )


@cache
def _milestones(cohort: int, schedule: str) -> tuple[rules.Milestone, ...]:
    return tuple(cohort_repo.milestones_of(cohort, schedule) or ())


@cache
def _cohort_flags(cohort: int) -> tuple[bool, bool]:
    """(mentor funding, detailed evidence types)"""
    found = cohort_repo.rules_of(cohort)
    return bool(found and found.mentor_funding), bool(found and found.detailed_evidence_types)


def _at(day: date, seconds: int) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC) + timedelta(seconds=seconds)


def _chunks(values: Sequence[str], size: int) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


class _Builder:
    def __init__(self, lead_provider_id: str, lead_provider_name: str, now: datetime, rng: random.Random):
        self.lp = lead_provider_id
        self.lp_name = lead_provider_name
        self.now = now
        self.rng = rng
        self.statements: dict[int, list[Statement]] = {}
        for statement in statement_repo.of_lead_provider(lead_provider_id, output_fee_only=True):
            self.statements.setdefault(statement.cohort, []).append(statement)
        for rows in self.statements.values():
            rows.sort(key=lambda s: (s.deadline_date, s.id))

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def statement_for(self, cohort: int, submitted: datetime) -> Statement | None:
        """``next_output_fee_statement`` as of the submission day."""
        return next((s for s in self.statements.get(cohort, []) if s.deadline_date >= submitted.date()), None)

    def build(
        self,
        participant: Participant,
        profile: Profile,
        declaration_type: str,
        when: datetime,
        submitted: datetime,
        *,
        fundable: bool = True,
    ) -> DeclarationChange | None:
        statement = self.statement_for(profile.schedule_cohort, submitted)
        if statement is None and fundable:
            return None
        detailed = _cohort_flags(profile.schedule_cohort)[1]
        evidence = rules.allowed_evidence(detailed, profile.participant_type, declaration_type)
        new = declaration_service.NewDeclaration(
            lead_provider_id=self.lp,
            lead_provider_name=self.lp_name,
            participant=participant,
            profile=profile,
            course_identifier=COURSE_OF[profile.participant_type],
            declaration_type=declaration_type,
            declaration_date=when,
            evidence_held=rules.stored_evidence(detailed, declaration_type, evidence[0] if evidence else None),
            outcome=rules.outcome(None, fundable),
            statement=statement,
        )
        return declaration_service.new_declaration(new, declaration_id=self._id(), now=submitted)

    def settle(self, change: DeclarationChange, *states: tuple[str, datetime]) -> DeclarationChange:
        """The new declaration as it stands after its line moved through ``states`` (payable, paid)."""
        line = change.new_lines[0]
        declaration = change.after
        views = {(v.lead_provider_id, v.declaration_id): v for v in change.views}
        history = list(change.states)
        for state, at in states:
            current = StatementLine(
                statement_id=line.statement_id,
                declaration_id=declaration.id,
                state=declaration.line_state or declaration.state,
                refundable=False,
                declaration_type=declaration.declaration_type,
                participant_name=line.participant_name,
                created_at=line.at,
                updated_at=line.at,
            )
            moved = statement_service.move_line(line.statement_id, current, declaration, views, state, at)
            assert moved is not None
            declaration = moved.after
            history += moved.states
            views = {(v.lead_provider_id, v.declaration_id): v for v in moved.views}
        return replace(
            change,
            after=declaration,
            states=tuple(history),
            new_lines=(replace(line, state=declaration.line_state or declaration.state),),
            views=tuple(views.values()),
        )

    def voided(self, participant: Participant, profile: Profile, declaration_type: str, when: datetime,
               submitted: datetime) -> DeclarationChange | None:  # fmt: skip
        change = self.build(participant, profile, declaration_type, when, submitted, fundable=False)
        if change is None:
            return None
        voided_at = min(submitted + timedelta(days=2), self.now - timedelta(hours=1))
        void = declaration_service.void_change(change.after, participant, None, voided_at)
        return replace(change, after=void.after, states=change.states + void.states, views=void.views)


@dataclass(frozen=True)
class _Target:
    """The statement that keeps its eligible lines open, and the window its declarations are dated in."""

    statement: Statement
    previous: date  # the deadline of the cohort's statement before it (or 60 days before its own)
    lines: int  # how many of its lines to fill


def _read_participants(user_ids: Sequence[str]) -> dict[str, Participant]:
    participants: dict[str, Participant] = {}
    for chunk in _chunks(sorted(user_ids), 1000):
        participants.update(graph.load(chunk))
    return participants


def _plans(
    participants: dict[str, Participant], data: DeclarationData
) -> list[tuple[Participant, Profile, str, int, int]]:
    """(participant, profile, declaration type, its index, how many types) for each declaration to make; a few
    participants keep their ``completed`` slot free for the POST rows (``data.post_targets``)."""
    free = 0
    plans: list[tuple[Participant, Profile, str, int, int]] = []
    for participant in sorted(participants.values(), key=lambda p: p.id):
        profile = next((p for p in participant.profiles if p.status == "active"), None)
        if profile is None:
            continue
        mentor_funded = profile.participant_type == MENTOR and _cohort_flags(profile.schedule_cohort)[0]
        types: tuple[str, ...] = MENTOR_FUNDED_TYPES if mentor_funded else TYPES
        free_slot = profile.schedule_cohort == data.post_cohort and profile.participant_type != MENTOR
        if free_slot and free < FREE_SLOTS:
            types = types[:-1]
            data.post_targets.append((participant.id, COURSE_OF[profile.participant_type], "completed"))
            free += 1
        plans.extend(
            (participant, profile, declaration_type, k, len(types)) for k, declaration_type in enumerate(types)
        )
    return plans


def _dated(
    profile: Profile, declaration_type: str, k: int, n: int, target: _Target, on_target: int, latest: datetime,
    rng: random.Random,
) -> tuple[datetime, datetime] | None:  # fmt: skip
    """(declaration date, submission time) in the milestone's window, or None when it has none. Declarations of
    the target's cohort go into the target's window (after the previous deadline) until it has its lines."""
    milestones = _milestones(profile.schedule_cohort, profile.schedule_identifier)
    milestone = next((x for x in milestones if x.declaration_type == declaration_type), None)
    if milestone is None or milestone.start_date is None:
        return None
    record = profile.records[0] if profile.records else None
    lo = milestone.start_date.date()
    hi = min((milestone.milestone_date or latest).date(), (latest - timedelta(days=4)).date())
    if milestone.milestone_date is None:  # open-ended windows: spread the types over the time since
        span = (hi - lo).days
        lo, hi = lo + timedelta(days=span * k // n), lo + timedelta(days=span * (k + 1) // n)
    deadline = target.statement.deadline_date
    started_by_then = record is not None and record.start_date.date() <= deadline - timedelta(days=5)
    if (
        profile.schedule_cohort == target.statement.cohort
        and on_target < target.lines
        and started_by_then
        and declaration_type != "started"
    ):
        lo = max(target.previous + timedelta(days=1), record.start_date.date() if record else lo)
        hi = deadline - timedelta(days=4)
    if hi < lo:
        return None
    day = lo + timedelta(days=rng.randrange((hi - lo).days + 1))
    when = _at(day, rng.randrange(8 * 3600, 17 * 3600))
    submitted = min(when + timedelta(days=rng.randrange(0, 4), seconds=rng.randrange(3600)), latest)
    return when, submitted


def _target(builder: _Builder, past: list[Statement], lines: int) -> _Target:
    newest_cohort = max(builder.statements)
    target = max((s for s in past if s.cohort == newest_cohort), key=lambda s: s.deadline_date)
    earlier = [s.deadline_date for s in past if s.cohort == target.cohort and s.deadline_date < target.deadline_date]
    previous = max(earlier, default=target.deadline_date - timedelta(days=60))
    return _Target(target, previous, lines)


def _settled(builder: _Builder, change: DeclarationChange, cohort: int, today: date) -> DeclarationChange:
    """A declaration on a statement whose deadline has passed moves to payable and paid (the authorise step)."""
    statement_id = change.after.statement_id
    statement = next(s for s in builder.statements[cohort] if s.id == statement_id)
    if statement.deadline_date >= today:
        return change
    payable_at = _at(statement.deadline_date + timedelta(days=1), 1800)
    paid_at = _at(statement.payment_date - timedelta(days=3), 36000)
    return builder.settle(change, ("payable", payable_at), ("paid", max(paid_at, payable_at)))


def _eligible_changes(
    builder: _Builder, plans: list[tuple[Participant, Profile, str, int, int]], target: _Target, rng: random.Random
) -> tuple[list[DeclarationChange], int]:
    """The eligible declarations of the plans, and how many are on the target statement."""
    today = builder.now.date()
    latest = builder.now - timedelta(hours=1)
    changes: list[DeclarationChange] = []
    on_target = 0
    for participant, profile, declaration_type, k, n in plans:
        dated = _dated(profile, declaration_type, k, n, target, on_target, latest, rng)
        if dated is None:
            continue
        when, submitted = dated
        change = builder.build(participant, profile, declaration_type, when, submitted)
        if change is None:
            continue
        if change.after.statement_id == target.statement.id:
            if on_target >= target.lines:
                continue
            on_target += 1
        else:
            change = _settled(builder, change, profile.schedule_cohort, today)
        changes.append(change)
    return changes, on_target


def _fill_with_voided(
    builder: _Builder,
    plans: list[tuple[Participant, Profile, str, int, int]],
    changes: list[DeclarationChange],
    target_count: int,
) -> None:
    """Voided declarations fill the count: a submission that was withdrawn two days later."""
    latest = builder.now - timedelta(hours=1)
    first_dates: dict[str, datetime] = {}
    for change in changes:
        first_dates.setdefault(change.after.user_id, change.after.declaration_date)
    index = 0
    while len(changes) < target_count and plans:
        participant, profile, declaration_type, _k, _n = plans[index % len(plans)]
        index += 1
        when = first_dates.get(participant.id, latest - timedelta(days=30))
        voided = builder.voided(participant, profile, declaration_type, when, min(when + timedelta(days=1), latest))
        if voided is not None:
            changes.append(voided)
        if index > 3 * target_count:
            break


def _pay_statements(past: list[Statement], target: Statement) -> int:
    """Mark the past statements paid (except the target and those already closed); how many were."""
    paid = 0
    for statement in past:
        if statement.id == target.id or not statement.is_open:
            continue
        payable_at = _at(statement.deadline_date + timedelta(days=1), 1800)
        statement_repo.start_payable(statement.id, payable_at)
        statement_repo.finish_payable(statement.id)
        paid_at = _at(statement.payment_date - timedelta(days=3), 36000)
        statement_repo.start_paid(statement.id, max(paid_at, payable_at))
        statement_repo.finish_paid(statement.id, max(paid_at, payable_at))
        paid += 1
    return paid


def load_declarations(
    lead_provider_id: str,
    lead_provider_name: str,
    user_ids: Sequence[str],
    target_count: int,
    target_lines: int,
    now: datetime,
    rng: random.Random,
    progress: Callable[[str], None] = lambda _m: None,
) -> DeclarationData:
    """About ``target_count`` declarations for the provider's participants; see the module docstring."""
    data = DeclarationData(lead_provider_id=lead_provider_id)
    builder = _Builder(lead_provider_id, lead_provider_name, now, rng)
    participants = _read_participants(user_ids)
    progress(f"    read {len(participants):,} participants back as domain records")

    checked = now - timedelta(days=900)
    eligibilities = [
        Eligibility(profile.id, participant.id, "eligible", None, builder._id(), False, checked, checked)
        for participant in sorted(participants.values(), key=lambda p: p.id)  # the same ids whatever the hash seed
        for profile in participant.profiles
    ]
    eligibility_repo.seed(eligibilities)

    past = [s for rows in builder.statements.values() for s in rows if s.deadline_date < now.date()]
    target = _target(builder, past, target_lines)
    data.target = target.statement
    data.post_cohort = target.statement.cohort

    plans = _plans(participants, data)
    changes, data.target_lines = _eligible_changes(builder, plans, target, rng)
    _fill_with_voided(builder, plans, changes, target_count)
    progress(f"    built {len(changes):,} declarations through the services' builders")

    data.items = declaration_repo.seed(changes)
    data.count = len(changes)
    for change in changes:
        data.by_state[change.after.state] = data.by_state.get(change.after.state, 0) + 1
    data.sample_ids = [c.after.id for c in changes[:: max(1, len(changes) // 200)]]
    data.statements_paid = _pay_statements(past, target.statement)
    return data
