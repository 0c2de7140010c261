"""Demo data for the local stack, loaded through the product's services (the admin CLI's code paths).

What ``load_demo`` creates, in order:

1. the seven lead providers of the 2021-2025 contracts (``add_lead_provider``);
2. ``data/demo-cohort`` with the cohort importer: cohorts 2020-2025, LP links, contracts,
   schedules and statements (``import_cohort``);
3. 40 delivery partners (12 for a demo under 1,000 schools), each working with one to
   three lead providers for cohorts 2021-2025 (``add_delivery_partner``, ``relate_delivery_partner``);
4. a generated GIAS extract (``localdev.gias``) imported with ``import_schools``;
5. programme choices for some schools and a few hundred partnerships for 2024 and 2025
   spread over the lead providers (``set_programme_choice``, ``create_partnership``),
   a few of them challenged by the school (``challenge_partnership``);
6. one API token per lead provider (``create_token``);
7. a few dozen declarations in every state on participants of one provider and cohort, and a payable
   statement ready to authorise (``load_declarations``, which explains how each state is reached).

Everything is deterministic for a seed except the tokens and ids, which the services make, and the
declarations' dates, which follow the clock (see ``plan_finance``).
"""

from __future__ import annotations

import csv
import itertools
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.domain.clock import parse_date, start_of_day
from chalicelib.domain.declarations import STATES, rfc3339_seconds
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.paging import Page
from chalicelib.domain.partnerships import CHALLENGE_REASONS
from chalicelib.domain.schools import is_cip_only, is_eligible, should_stage
from chalicelib.services import (
    declarations,
    eligibility,
    importers,
    induction,
    partnerships,
    providers,
    schools,
    statements,
    tokens,
)
from localdev import gias

PROJECT_DIR = Path(__file__).resolve().parent.parent
COHORT_DIR = PROJECT_DIR / "data" / "demo-cohort"

LEAD_PROVIDERS = (
    "Ambition Institute",
    "Best Practice Network",
    "Capita",
    "Education Development Trust",
    "Teach First",
    "UCL Institute of Education",
    "National Institute of Teaching",
)
DELIVERY_PARTNERS = (
    "Alban Teaching School Hub",
    "Alpha Teaching School Hub",
    "Bedfordshire Schools Training Partnership",
    "Billericay Teaching School Hub",
    "Birmingham Education Partnership",
    "Bradford Birth to 19 Teaching School Hub",
    "Cambridge Partnership for Excellence",
    "Cheshire East Teaching School Hub",
    "Colchester Teaching School Hub",
    "Cornwall Teaching School Hub",
    "Devon Teaching School Hub",
    "Diocese of Leeds Learning Partnership",
    "Durham Teaching School Hub",
    "East London Teaching School Hub",
    "Exceed Learning Partnership",
    "Generate Teaching School Hub",
    "Greenwood Academies Trust",
    "Harris Federation",
    "Inspiring Leaders Partnership",
    "Kent and Medway Teaching School Hub",
    "Lancashire Teaching School Hub",
    "Leicestershire Teaching School Hub",
    "Lincolnshire Teaching School Hub",
    "Liverpool Learning Partnership",
    "Manchester Teaching School Hub",
    "Norfolk Teaching School Hub",
    "North East Learning Trust",
    "Northern Lights Teaching School Hub",
    "Nottingham City Teaching School Hub",
    "Oxfordshire Teaching School Hub",
    "Portsmouth Education Partnership",
    "Sheffield South East Learning Hub",
    "Shropshire Teaching School Hub",
    "Solent Teaching School Hub",
    "South Bristol Teaching School Hub",
    "Star Teaching School Hub",
    "Three Rivers Teaching School Hub",
    "West Midlands Teaching School Hub",
    "Yorkshire Anglican Teaching School Hub",
    "Zenith Teaching School Hub",
)
DP_COHORTS = (2021, 2022, 2023, 2024, 2025)
PROGRAMME_CHOICES = ("school_led", "not_yet_known", "no_early_career_teachers", "provider_led")
DEFAULT_SCHOOLS = 3000
FINANCE_LEAD_PROVIDER = LEAD_PROVIDERS[0]  # the banner's first token


FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Dev", "Elif", "Finn", "Grace", "Hamza", "Isla", "Jack",
    "Kiran", "Lena", "Mohammed", "Niamh", "Oscar", "Priya", "Rhys", "Sofia", "Tom", "Zara",
)  # fmt: skip
LAST_NAMES = (
    "Ahmed", "Brown", "Campbell", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal", "Jones",
    "Khan", "Lewis", "Murphy", "Nowak", "O'Brien", "Patel", "Roberts", "Smith", "Taylor", "Wright",
)  # fmt: skip


@dataclass(frozen=True)
class PostExample:
    lead_provider: str
    school_id: str
    school_name: str
    delivery_partner_id: str
    delivery_partner_name: str
    cohort: int
    participants: int = 0  # onboarded there and waiting for a partnership


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
    if len(passed) < 2 or len(passed) == len(rows):
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


@dataclass
class DemoResult:
    tokens: dict[str, str] = field(default_factory=dict)  # lead provider name -> bearer token
    lead_providers: dict[str, str] = field(default_factory=dict)  # name -> id
    delivery_partners: int = 0
    relationships: int = 0
    schools_in_extract: int = 0
    schools_imported: int = 0
    programme_choices: int = 0
    partnerships: int = 0
    challenged: int = 0
    participants: int = 0
    example: PostExample | None = None
    finance: FinanceExample | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _partnerable(row: dict[str, str]) -> bool:
    """A GIAS row the importer stages as an eligible school that is not CIP-only (the importer's reading of it)."""
    facts = importers.gias_facts(row)
    return should_stage(facts) and is_eligible(facts) and not is_cip_only(facts)


def load_demo(
    now: datetime,
    *,
    schools_count: int = DEFAULT_SCHOOLS,
    seed: int = 2024,
    delivery_partners: int | None = None,
    log: Callable[[str], None] = print,
) -> DemoResult:
    rng = random.Random(seed)
    result = DemoResult()
    started = time.monotonic()

    def step(name: str, since: float) -> float:
        result.timings[name] = time.monotonic() - since
        return time.monotonic()

    # 1. Lead providers.
    mark = time.monotonic()
    for name in LEAD_PROVIDERS:
        result.lead_providers[name] = providers.add_lead_provider(name, now).id
    mark = step("lead providers", mark)

    # 2. Cohorts, contracts, schedules and statements. The two statements step 7 fills are imported first,
    # in the past (see load_declarations).
    finance_plan = plan_finance(now)
    if finance_plan is not None:
        with tempfile.TemporaryDirectory(prefix="ecf-cohort-") as folder:
            write_history_cohort(Path(folder), finance_plan, FINANCE_LEAD_PROVIDER)
            importers.import_cohort(folder, finance_plan.imported_at)
    imported = importers.import_cohort(COHORT_DIR, now)
    log(
        f"  cohorts {', '.join(map(str, imported.cohorts))}: {imported.contracts} contracts, "
        f"{imported.schedules} schedules, {imported.statements} statements"
    )
    mark = step("cohort import", mark)

    # 3. Delivery partners, each with one to three lead providers.
    dp_count = delivery_partners if delivery_partners is not None else (40 if schools_count >= 1000 else 12)
    plans = []
    for index, name in enumerate(DELIVERY_PARTNERS[:dp_count]):
        lps = rng.sample(LEAD_PROVIDERS, rng.choices((1, 2, 3), weights=(50, 35, 15))[0])
        first_year = rng.choices(DP_COHORTS[:3], weights=(70, 15, 15))[0] if index >= len(LEAD_PROVIDERS) else 2021
        plans.append((name, lps, [y for y in DP_COHORTS if y >= first_year]))
    # Every lead provider gets at least one partner for every cohort: its examples must work.
    for index, lp in enumerate(LEAD_PROVIDERS[: len(plans)]):
        if lp not in plans[index][1]:
            plans[index] = (plans[index][0], [lp, *plans[index][1]][:3], plans[index][2])

    related: dict[tuple[str, int], list[tuple[str, str]]] = {}  # (lp, year) -> [(dp id, dp name)]

    def add_partner(name: str, lps: list[str], years: list[int]) -> int:
        partner = providers.add_delivery_partner(name, lps[0], years, now)
        for lp in lps[1:]:
            providers.relate_delivery_partner(partner.id, lp, years, now)
        for lp in lps:
            for year in years:
                related.setdefault((lp, year), []).append((partner.id, partner.name))
        return len(lps) * len(years)

    result.relationships = sum(add_partner(*plan) for plan in plans)
    result.delivery_partners = len(plans)
    log(f"  {result.delivery_partners} delivery partners, {result.relationships} provider relationships")
    mark = step("delivery partners", mark)

    # 4. Schools from a generated GIAS extract.
    with tempfile.TemporaryDirectory(prefix="ecf-gias-") as folder:
        path = Path(folder) / "edubasealldata.csv"
        rows = gias.write_gias_csv(path, schools_count, seed)
        school_import = importers.import_schools(path, now)
    result.schools_in_extract = school_import.rows
    result.schools_imported = school_import.created + school_import.updated + school_import.unchanged
    log(
        f"  GIAS extract: {school_import.rows} establishments, {result.schools_imported} schools imported, "
        f"{school_import.skipped} out of scope"
    )
    mark = step("schools", mark)

    # 5. Programme choices and partnerships.
    eligible = [row for row in rows if _partnerable(row)]
    eligible = list({row["URN"]: row for row in eligible}.values())
    rng.shuffle(eligible)
    n_2024 = min(200, len(eligible) // 10)
    n_2025_new = min(40, len(eligible) // 40)
    n_2025_continuing = n_2024 // 4
    n_choices = min(120, len(eligible) // 20)
    partnered_2024 = eligible[:n_2024]
    partnered_2025 = eligible[n_2024 : n_2024 + n_2025_new]
    choosing = eligible[n_2024 + n_2025_new : n_2024 + n_2025_new + n_choices]
    untouched = eligible[n_2024 + n_2025_new + n_choices :]

    plan: list[tuple[dict[str, str], int, str, str]] = []  # (row, year, lp, dp id)
    for year, batch in ((2024, partnered_2024), (2025, partnered_2025 + partnered_2024[:n_2025_continuing])):
        for row in batch:
            lp = rng.choice(LEAD_PROVIDERS)
            partners = related.get((lp, year))
            if partners:
                plan.append((row, year, lp, rng.choice(partners)[0]))

    choice_jobs = [(row["URN"], rng.choice((2024, 2025)), rng.choice(PROGRAMME_CHOICES)) for row in choosing]
    # A school partnered last year confirms this year's programme before a provider can report it for 2025.
    choice_jobs += [(row["URN"], 2025, "provider_led") for row in partnered_2024[:n_2025_continuing]]
    for urn, year, choice in choice_jobs:
        schools.set_programme_choice(urn, year, choice, now)

    # Participants: onboarded at provider-led schools before their partnership is reported, so the
    # partnerships stream moves them in (Induction::ChangePartnership), as in the real service.
    people = iter(range(1_000_000))

    def onboard(urn: str, year: int, count: int) -> int:
        mentor_email = None
        added = 0
        for kind in ["mentor"] + ["ect"] * count:
            n = next(people)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first}.{last.replace(chr(39), '')}.{n}@school{urn}.example.org".lower()
            induction.add_participant(
                urn=urn, cohort=year, full_name=f"{first} {last}", email=email, participant_type=kind,
                trn=f"{rng.randint(1000000, 9999999)}" if rng.random() < 0.8 else None,
                mentor_email=mentor_email if kind == "ect" else None, appropriate_body=None, partnership_id=None,
                now=now,
            )  # fmt: skip
            if kind == "mentor":
                mentor_email = email
            added += 1
        return added

    with_people = partnered_2024[: min(60, len(partnered_2024))]
    for row in with_people:
        schools.set_programme_choice(row["URN"], 2024, "provider_led", now)
        result.participants += onboard(row["URN"], 2024, rng.randint(1, 4))

    def report(row: dict[str, str], year: int, lp: str, dp_id: str) -> str | None:
        try:
            record = partnerships.create_partnership(
                result.lead_providers[lp],
                {"cohort": str(year), "school_id": importers.school_id_for(row["URN"]), "delivery_partner_id": dp_id},
                now,
            )
        except ValidationFailed as error:
            log(f"  skipped a partnership for URN {row['URN']} ({year}): {error}")
            return None
        return record.id

    created = [pid for pid in (report(*planned) for planned in plan) if pid]
    result.partnerships = len(created)
    result.programme_choices = len(choice_jobs)

    to_challenge = rng.sample(created, min(len(created), max(1, len(created) // 40))) if created else []
    for pid in to_challenge:
        partnerships.challenge_partnership(pid, rng.choice(CHALLENGE_REASONS), now)
    result.challenged = len(to_challenge)
    log(
        f"  {result.partnerships} partnerships (2024 and 2025, {result.challenged} challenged), "
        f"{result.programme_choices} programme choices, {result.participants} participants"
    )
    mark = step("partnerships", mark)

    # 6. Tokens, and an example a lead provider could POST right now.
    for name in LEAD_PROVIDERS:
        result.tokens[name] = tokens.create_token(name, now).token
    example_lp = LEAD_PROVIDERS[0]
    partners = related.get((example_lp, 2025))
    if untouched and partners:
        row = untouched[0]
        schools.set_programme_choice(row["URN"], 2025, "provider_led", now)
        waiting = onboard(row["URN"], 2025, 3)
        result.participants += waiting
        result.example = PostExample(
            lead_provider=example_lp,
            school_id=importers.school_id_for(row["URN"]),
            school_name=row["EstablishmentName"],
            delivery_partner_id=partners[0][0],
            delivery_partner_name=partners[0][1],
            cohort=2025,
            participants=waiting,
        )
    mark = step("tokens", mark)

    # 7. Declarations in every state, and a statement ready to authorise.
    partners = related.get((FINANCE_LEAD_PROVIDER, FINANCE_COHORT)) or []
    finance_schools = untouched[1 : 1 + len(FINANCE_SCHOOLS)]
    if finance_plan is None:
        log(
            f"  no declarations: cohort {FINANCE_COHORT} needs two output-fee statements past their deadline "
            "and one to come"
        )
    elif len(finance_schools) < len(FINANCE_SCHOOLS) or not partners:
        log("  no declarations: too few schools")
    else:

        def person(urn: str) -> tuple[str, str]:
            n = next(people)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            return f"{first} {last}", f"{first}.{last.replace(chr(39), '')}.{n}@school{urn}.example.org".lower()

        result.finance = load_declarations(
            finance_plan,
            FINANCE_LEAD_PROVIDER,
            result.lead_providers[FINANCE_LEAD_PROVIDER],
            [(row["URN"], partners[i % len(partners)][0]) for i, row in enumerate(finance_schools)],
            person,
            now,
        )
        result.participants += sum(1 + ects for _, ects in FINANCE_SCHOOLS)
        states = ", ".join(f"{count} {state}" for state, count in result.finance.states.items())
        log(f"  {sum(result.finance.states.values())} declarations ({states}) in {time.monotonic() - mark:.1f}s")
    step("declarations", mark)
    result.timings["total"] = time.monotonic() - started
    return result


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
    cohort = plan.cohort
    tick = itertools.count(1)
    recent = iter(now - timedelta(seconds=s) for s in range(90, 0, -1))

    def at(base: datetime) -> datetime:
        """Distinct, ordered times in a window of the past."""
        return base + timedelta(seconds=next(tick))

    def today() -> datetime:
        return next(recent)

    trns = itertools.count(9_300_001)

    def onboard(urn: str, kind: str, partnership_id: str, mentor_email: str | None, trn: str | None) -> _Person:
        full_name, email = new_person(urn)
        trn = trn or str(next(trns))  # distinct, so only the one shared TRN makes a duplicate
        onboarded = induction.add_participant(
            urn=urn, cohort=cohort, full_name=full_name, email=email, participant_type=kind, trn=trn,
            mentor_email=mentor_email, appropriate_body=None, partnership_id=partnership_id,
            now=at(plan.imported_at),
        )  # fmt: skip
        return _Person(onboarded.user_id, onboarded.profile_id, kind, full_name, email, trn)

    def check_eligible(person: _Person, when: datetime) -> None:
        recorded = eligibility.record(person.user_id, "eligible", None, when, course=COURSES[person.kind])
        eligibility.apply(recorded.eligibility.profile_id, when)  # what the eligibility stream does

    def declare(person: _Person, declaration_type: str, when: datetime, evidence: str | None = None) -> str:
        attributes = {
            "participant_id": person.user_id,
            "declaration_type": declaration_type,
            "declaration_date": rfc3339_seconds(when - timedelta(days=1)),
            "course_identifier": COURSES[person.kind],
        }
        if evidence:
            attributes["evidence_held"] = evidence
        return declarations.submit(lead_provider_id, lead_provider, attributes, when).id

    def void(declaration_id: str, when: datetime) -> None:
        declarations.void(lead_provider_id, declaration_id, when)

    # The schools and their participants, in the past.
    groups: dict[str, list[_Person]] = {}
    for (label, ect_count), (urn, delivery_partner_id) in zip(FINANCE_SCHOOLS, school_partners, strict=True):
        schools.set_programme_choice(urn, cohort, "provider_led", at(plan.imported_at))
        school = {"cohort": str(cohort), "school_id": importers.school_id_for(urn)}
        partnership = partnerships.create_partnership(
            lead_provider_id, {**school, "delivery_partner_id": delivery_partner_id}, at(plan.imported_at)
        )
        mentor = onboard(urn, "mentor", partnership.id, None, None)
        # The last "unchecked" ECT has the TRN of the last "paid" ECT (whose started stays paid).
        same_trn = groups["paid"][-1].trn if label == "unchecked" else None
        ects = [
            onboard(urn, "ect", partnership.id, mentor.email, same_trn if i == ect_count - 1 else None)
            for i in range(ect_count)
        ]
        groups[label] = [mentor, *ects]
        if label != "unchecked":
            for person in groups[label]:
                check_eligible(person, at(plan.imported_at))

    paid_ects, payable_ects = groups["paid"][1:], groups["payable"][1:]
    unchecked_mentor, *unchecked_ects = groups["unchecked"]
    paid_statement = _statement_id(lead_provider_id, cohort, plan.paid.name)
    payable_statement = _statement_id(lead_provider_id, cohort, plan.payable.name)

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
    check_eligible(unchecked_ects[0], today())  # its submitted started becomes eligible
    void(late[1], today())
    for person in (unchecked_mentor, *unchecked_ects[2:]):
        declare(person, "started", today())  # submitted; the last one a duplicate (ineligible)
    declare(payable_ects[0], "retained-2", today(), evidence="75-percent-engagement-met")
    *declaring, kept = groups["recent"]
    on_next = [declare(p, "started", today()) for p in declaring]

    found = declarations.list_declarations(
        lead_provider_id, v1_v2=False, cohorts=[cohort], participant_ids=None, delivery_partner_ids=None,
        updated_since=None, page=Page(1, 1000),
    )  # fmt: skip
    counts = Counter(d.state for d in found)
    body = {
        "data": {
            "type": "participant-declaration",
            "attributes": {
                "participant_id": kept.user_id,
                "declaration_type": "started",
                "declaration_date": rfc3339_seconds(now),
                "course_identifier": COURSES[kept.kind],
            },
        }
    }
    return FinanceExample(
        lead_provider=lead_provider,
        cohort=cohort,
        participant_name=kept.name,
        post_body=body,
        void_id=on_next[-1],
        statement_id=payable_statement,
        statement_name=plan.payable.name,
        statement_deadline=plan.payable.deadline,
        paid_statement_id=paid_statement,
        states={state: counts[state] for state in STATES if state in counts},
    )


def _statement_id(lead_provider_id: str, cohort: int, name: str) -> str:
    found = [s for s in statements.statements_of(lead_provider_id, cohort) if s.name == name]
    if len(found) != 1:
        raise RuntimeError(f"the demo expected one {cohort} statement named {name!r}, found {len(found)}")
    return found[0].id
