"""The demo's declarations and statements: when they happen (``plan_finance``, from ``data/demo-cohort``'s
statements and today's date) and how each state is reached (``load_declarations``), through the services.

Part of the local stack's demo data (``localdev.demo``, step 7).
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.domain.clock import parse_date, start_of_day
from chalicelib.domain.declarations import STATES, rfc3339_seconds
from chalicelib.domain.paging import Page
from chalicelib.services import declarations, eligibility, importers, induction, partnerships, schools, statements

PROJECT_DIR = Path(__file__).resolve().parent.parent
COHORT_DIR = PROJECT_DIR / "data" / "demo-cohort"

FINANCE_COHORT = 2025  # mentor funding, detailed evidence; its milestones are open-ended from 2025-07-01
# The demo's declaring schools: (label, ECTs), each with a mentor; load_declarations says what each does.
FINANCE_SCHOOLS = (("paid", 3), ("payable", 3), ("unchecked", 4), ("recent", 2))
COURSES = {"ect": "ecf-induction", "mentor": "ecf-mentor"}


@dataclass(frozen=True)
class StatementRow:
    name: str
    deadline: date
    payment: date


@dataclass(frozen=True)
class FinancePlan:
    """When the demo's declarations happen: around the cohort's two latest output-fee statements whose
    deadline has passed, ``paid`` and then ``payable`` (found in statements.csv from today's date)."""

    cohort: int
    paid: StatementRow
    payable: StatementRow

    @property
    def imported_at(self) -> datetime:
        """The statements' import, the schools' partnerships and their participants: both still open then."""
        return start_of_day(self.paid.deadline) - timedelta(days=30) + timedelta(hours=9)

    @property
    def paid_window(self) -> datetime:
        """Declarations now attach to ``paid``, the next output-fee statement."""
        return start_of_day(self.paid.deadline) - timedelta(days=20) + timedelta(hours=10)

    @property
    def paid_payable_at(self) -> datetime:
        """The day after its deadline, as the daily 00:30 schedule would."""
        return start_of_day(self.paid.deadline) + timedelta(days=1, minutes=30)

    @property
    def paid_authorised_at(self) -> datetime:
        return start_of_day(self.paid.deadline) + timedelta(days=3, hours=11)

    @property
    def payable_window(self) -> datetime:
        """Declarations (and clawbacks) now attach to ``payable``."""
        return start_of_day(self.payable.deadline) - timedelta(days=14) + timedelta(hours=10)


def plan_finance(now: datetime, directory: Path = COHORT_DIR, cohort: int = FINANCE_COHORT) -> FinancePlan | None:
    """None unless the cohort has two output-fee statements whose deadline has passed and one still to come."""
    with (directory / "statements.csv").open(encoding="utf-8-sig", newline="") as source:
        rows = [
            StatementRow(row["name"], deadline, payment)
            for row in csv.DictReader(source)
            if row.get("type") == "ecf"
            and row.get("cohort") == str(cohort)
            and (row.get("output_fee") or "").lower() == "true"
            and (deadline := parse_date(row["deadline_date"])) is not None
            and (payment := parse_date(row["payment_date"])) is not None
        ]
    rows.sort(key=lambda r: r.deadline)
    today = now.date()
    passed = [r for r in rows if r.deadline < today]
    if len(passed) < 2 or len(passed) == len(rows):  # noqa: PLR2004 - the plan's two statements, paid and payable
        return None
    plan = FinancePlan(cohort, passed[-2], passed[-1])
    if plan.payable_window <= plan.paid_authorised_at:
        return None
    return plan


def write_history_cohort(folder: Path, plan: FinancePlan, lead_provider: str) -> None:
    """The part of ``data/demo-cohort`` imported in the past: the cohort, the provider's link and contracts, and
    the plan's two statements (so they are created open; the full import keeps them as they are)."""
    year = str(plan.cohort)
    names = {plan.paid.name, plan.payable.name}

    def provider_row(row: dict[str, str]) -> bool:
        return row["lead-provider-name"] == lead_provider and row["cohort-start-year"] == year

    keep: dict[str, Callable[[dict[str, str]], bool]] = {
        "cohort.csv": lambda row: row["start-year"] == year,
        "cohort_lead_providers.csv": provider_row,
        "contracts.csv": provider_row,
        "mentor_contracts.csv": provider_row,
        "schedules.csv": lambda row: False,  # the full import brings them
        "statements.csv": lambda row: row["cohort"] == year and row["name"] in names,
    }
    for name, wanted in keep.items():
        with (COHORT_DIR / name).open(encoding="utf-8-sig", newline="") as source:
            reader = csv.DictReader(source)
            rows = [row for row in reader if wanted(row)]
            columns = list(reader.fieldnames or ())
        with (folder / name).open("w", encoding="utf-8", newline="") as target:
            writer = csv.DictWriter(target, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)


@dataclass(frozen=True)
class FinanceExample:
    lead_provider: str
    cohort: int
    participant_name: str
    post_body: dict[str, Any]  # a declaration the provider can POST at the server's date
    void_id: str  # one of the provider's eligible declarations
    statement_id: str  # output-fee, payable, deadline passed, holding declarations: ready to authorise
    statement_name: str
    statement_deadline: date
    paid_statement_id: str
    states: dict[str, int]  # the demo's declarations by state


# --------------------------------------------------------------------------- declarations and statements


@dataclass(frozen=True)
class _Person:
    user_id: str
    profile_id: str
    kind: str  # ect | mentor
    name: str
    email: str
    trn: str


def load_declarations(
    plan: FinancePlan,
    lead_provider: str,
    lead_provider_id: str,
    school_partners: list[tuple[str, str]],
    new_person: Callable[[str], tuple[str, str]],  # URN -> (full name, email)
    now: datetime,
) -> FinanceExample:
    """Declarations of one provider's participants in one cohort, in every state, written by the product's
    services (``declarations.submit``/``void``, ``eligibility.record``/``apply``, ``statements.mark_payable``/
    ``authorise``) at the server dates they would have happened on.

    ``P`` and ``Q`` are ``plan.paid`` and ``plan.payable``, the cohort's two latest output-fee statements whose
    deadline has passed, and ``N`` the next one, open today. ``P`` and ``Q`` were imported in the past
    (``write_history_cohort``), so each was open, and the next output-fee statement, until its deadline; every
    other statement was imported today and typed from today's date (``initial_type``).

    At ``plan.imported_at`` four schools are partnered with the provider for the cohort, each with a mentor and
    ECTs onboarded into the partnership (``FINANCE_SCHOOLS``). Everyone at "paid", "payable" and "recent" is
    checked eligible for funding then (``eligibility.record`` + ``apply``); no one at "unchecked" is. Then:

    - paid: in P's window "paid" posts ``started`` (eligible, so on P); the day after P's deadline
      ``mark_payable`` moves P and its declarations to payable, and ``authorise`` pays them;
    - awaiting clawback: a paid ``started`` is voided in Q's window (a clawback line on Q: authorising Q claws it
      back), another today (on N);
    - payable: in Q's window two "paid" ECTs post ``retained-1`` (with evidence) and "payable" posts ``started``,
      eligible on Q; today ``mark_payable`` moves Q to payable, and them with it;
    - voided: one of "payable"'s is voided in Q's window (its line on Q is voided too), and one submitted today;
    - submitted: "unchecked" posts ``started`` without an eligibility check, two in Q's window, the rest today;
    - eligible: today one "unchecked" ECT is checked eligible, so ``eligibility.apply`` moves its submitted
      ``started`` to eligible on N; a "payable" ECT posts ``retained-2``, and "recent" ``started`` (on N),
      except one ECT left for the banner's POST;
    - ineligible: an "unchecked" ECT has the TRN of a paid ECT, so its ``started`` is a duplicate.

    Q is then output-fee, payable, past its deadline and holds declarations: ``statements.authorise`` accepts it.
    Today's steps happen in the 90 seconds before ``now``, so nothing is dated after the server's clock.
    """
    writer = _DeclarationWriter(plan, lead_provider, lead_provider_id, new_person, now)
    groups = writer.partner_schools(school_partners)
    paid_ects, payable_ects = groups["paid"][1:], groups["payable"][1:]
    unchecked_mentor, *unchecked_ects = groups["unchecked"]
    paid_statement = _statement_id(lead_provider_id, plan.cohort, plan.paid.name)
    payable_statement = _statement_id(lead_provider_id, plan.cohort, plan.payable.name)
    at, today, declare, void = writer.at, writer.today, writer.declare, writer.void

    # P's window: started, eligible on P; P becomes payable, then paid.
    started = {p.user_id: declare(p, "started", at(plan.paid_window)) for p in groups["paid"]}
    statements.mark_payable(plan.paid_payable_at, statement_id=paid_statement)
    statements.authorise(paid_statement, plan.paid_authorised_at)

    # Q's window: a clawback onto Q, retained-1 and started on Q (one of them voided), two without eligibility.
    void(started[paid_ects[0].user_id], at(plan.payable_window))
    for person in paid_ects[1:]:
        declare(person, "retained-1", at(plan.payable_window), evidence="training-event-attended")
    on_payable = [declare(p, "started", at(plan.payable_window)) for p in groups["payable"]]
    void(on_payable[-1], at(plan.payable_window))
    late = [declare(p, "started", at(plan.payable_window)) for p in unchecked_ects[:2]]

    # Today: Q becomes payable; everything else attaches to N.
    statements.mark_payable(today(), statement_id=payable_statement)
    void(started[paid_ects[1].user_id], today())  # a clawback onto N
    writer.check_eligible(unchecked_ects[0], today())  # its submitted started becomes eligible
    void(late[1], today())
    for person in (unchecked_mentor, *unchecked_ects[2:]):
        declare(person, "started", today())  # submitted; the last one a duplicate (ineligible)
    declare(payable_ects[0], "retained-2", today(), evidence="75-percent-engagement-met")
    *declaring, kept = groups["recent"]
    on_next = [declare(p, "started", today()) for p in declaring]

    return FinanceExample(
        lead_provider=lead_provider,
        cohort=plan.cohort,
        participant_name=kept.name,
        post_body=_declaration_body(kept, now),
        void_id=on_next[-1],
        statement_id=payable_statement,
        statement_name=plan.payable.name,
        statement_deadline=plan.payable.deadline,
        paid_statement_id=paid_statement,
        states=_states(lead_provider_id, plan.cohort),
    )


class _DeclarationWriter:
    """What ``load_declarations`` does to one provider's participants in one cohort, at the dates it gives."""

    def __init__(
        self,
        plan: FinancePlan,
        lead_provider: str,
        lead_provider_id: str,
        new_person: Callable[[str], tuple[str, str]],
        now: datetime,
    ) -> None:
        self.plan = plan
        self.lead_provider = lead_provider
        self.lead_provider_id = lead_provider_id
        self.new_person = new_person
        self.tick = itertools.count(1)
        self.recent = iter(now - timedelta(seconds=s) for s in range(90, 0, -1))
        self.trns = itertools.count(9_300_001)

    def at(self, base: datetime) -> datetime:
        """Distinct, ordered times in a window of the past."""
        return base + timedelta(seconds=next(self.tick))

    def today(self) -> datetime:
        """Distinct, ordered times in the 90 seconds before ``now``."""
        return next(self.recent)

    def partner_schools(self, school_partners: list[tuple[str, str]]) -> dict[str, list[_Person]]:
        """The schools and their participants, in the past: label -> [mentor, *ECTs] (``FINANCE_SCHOOLS``)."""
        plan, cohort = self.plan, self.plan.cohort
        groups: dict[str, list[_Person]] = {}
        for (label, ect_count), (urn, delivery_partner_id) in zip(FINANCE_SCHOOLS, school_partners, strict=True):
            schools.set_programme_choice(urn, cohort, "provider_led", self.at(plan.imported_at))
            school = {"cohort": str(cohort), "school_id": importers.school_id_for(urn)}
            partnership = partnerships.create_partnership(
                self.lead_provider_id, {**school, "delivery_partner_id": delivery_partner_id}, self.at(plan.imported_at)
            )
            mentor = self.onboard(urn, "mentor", partnership.id, None, None)
            # The last "unchecked" ECT has the TRN of the last "paid" ECT (whose started stays paid).
            same_trn = groups["paid"][-1].trn if label == "unchecked" else None
            ects = [
                self.onboard(urn, "ect", partnership.id, mentor.email, same_trn if i == ect_count - 1 else None)
                for i in range(ect_count)
            ]
            groups[label] = [mentor, *ects]
            if label != "unchecked":
                for person in groups[label]:
                    self.check_eligible(person, self.at(plan.imported_at))
        return groups

    def onboard(self, urn: str, kind: str, partnership_id: str, mentor_email: str | None, trn: str | None) -> _Person:
        full_name, email = self.new_person(urn)
        trn = trn or str(next(self.trns))  # distinct, so only the one shared TRN makes a duplicate
        onboarded = induction.add_participant(
            urn=urn, cohort=self.plan.cohort, full_name=full_name, email=email, participant_type=kind, trn=trn,
            mentor_email=mentor_email, appropriate_body=None, partnership_id=partnership_id,
            now=self.at(self.plan.imported_at),
        )  # fmt: skip
        return _Person(onboarded.user_id, onboarded.profile_id, kind, full_name, email, trn)

    def check_eligible(self, person: _Person, when: datetime) -> None:
        recorded = eligibility.record(person.user_id, "eligible", None, when, course=COURSES[person.kind])
        eligibility.apply(recorded.eligibility.profile_id, when)  # what the eligibility stream does

    def declare(self, person: _Person, declaration_type: str, when: datetime, evidence: str | None = None) -> str:
        attributes = {
            "participant_id": person.user_id,
            "declaration_type": declaration_type,
            "declaration_date": rfc3339_seconds(when - timedelta(days=1)),
            "course_identifier": COURSES[person.kind],
        }
        if evidence:
            attributes["evidence_held"] = evidence
        return declarations.submit(self.lead_provider_id, self.lead_provider, attributes, when).id

    def void(self, declaration_id: str, when: datetime) -> None:
        declarations.void(self.lead_provider_id, declaration_id, when)


def _declaration_body(person: _Person, now: datetime) -> dict[str, Any]:
    """A ``started`` declaration of the person the provider can POST at ``now``."""
    return {
        "data": {
            "type": "participant-declaration",
            "attributes": {
                "participant_id": person.user_id,
                "declaration_type": "started",
                "declaration_date": rfc3339_seconds(now),
                "course_identifier": COURSES[person.kind],
            },
        }
    }


def _states(lead_provider_id: str, cohort: int) -> dict[str, int]:
    """The provider's declarations for the cohort by state, in the order of ``STATES``."""
    found = declarations.list_declarations(
        lead_provider_id, v1_v2=False, cohorts=[cohort], participant_ids=None, delivery_partner_ids=None,
        updated_since=None, page=Page(1, 1000),
    )  # fmt: skip
    counts = Counter(d.state for d in found)
    return {state: counts[state] for state in STATES if state in counts}


def _statement_id(lead_provider_id: str, cohort: int, name: str) -> str:
    found = [s for s in statements.statements_of(lead_provider_id, cohort) if s.name == name]
    if len(found) != 1:
        raise RuntimeError(f"the demo expected one {cohort} statement named {name!r}, found {len(found)}")
    return found[0].id
