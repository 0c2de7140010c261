"""Demo data for the local stack, loaded through the product's services (the admin CLI's code paths), except the
bulk of step 5, written settled in batches (``_SettledWriter``).

What ``load_demo`` creates, in order:

1. the seven lead providers of the 2021-2025 contracts (``add_lead_provider``);
2. ``data/demo-cohort`` with the cohort importer: cohorts 2020-2025, LP links, contracts,
   schedules and statements (``import_cohort``);
3. 40 delivery partners (12 for a demo under 1,000 schools), each working with one to
   three lead providers for cohorts 2021-2025 (``add_delivery_partner``, ``relate_delivery_partner``);
4. a generated GIAS extract (``localdev.gias``) imported with ``import_schools``;
5. programme choices for some schools, a few hundred partnerships for 2024 and 2025
   spread over the lead providers and participants at 60 of them, as ``set_programme_choice``,
   ``create_partnership`` and the partnerships stream's migration leave them (``_SettledWriter``:
   domain records written with ``repositories.seed``); then a few of the partnerships challenged by
   the school (``challenge_partnership``);
6. one API token per lead provider (``create_token``);
7. a few dozen declarations in every state on participants of one provider and cohort, and a payable
   statement ready to authorise (``localdev.demo_finance.load_declarations``, which explains how each state is
   reached).

Everything is deterministic for a seed except the tokens and the ids the services make, and the dates, which
follow the clock (see ``plan_finance``).
"""

from __future__ import annotations

import itertools
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench import onboarding
from chalicelib.domain.participants import Programme, SchoolRef
from chalicelib.domain.partnerships import CHALLENGE_REASONS, FIP, SIT_CHOICES, Partnership, challenge_deadline
from chalicelib.domain.schools import SchoolCohort, is_cip_only, is_eligible, should_stage
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import seed as seed_repo
from chalicelib.services import (
    importers,
    induction,
    partnerships,
    providers,
    schools,
    tokens,
)
from localdev import gias
from localdev.demo_finance import (
    COHORT_DIR,
    FINANCE_COHORT,
    FINANCE_SCHOOLS,
    FinanceExample,
    FinancePlan,
    load_declarations,
    plan_finance,
    write_history_cohort,
)

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
    settled: Callable[[], None] = lambda: None,
) -> DemoResult:
    """``settled`` is called once the bulk of step 5 is written (``_SettledWriter``): the local stack starts
    its stream handlers after those records, whose effects they hold already."""
    with _schedules_read_once():
        return _load(_DemoLoader(now, random.Random(seed), log, settled), schools_count, seed, delivery_partners)


@contextmanager
def _schedules_read_once() -> Iterator[None]:
    """While the demo loads, each cohort's schedules are read once: they are imported in step 2 and never change
    after, and ``induction.add_participant`` reads them for every participant (a 12-item Query of big items,
    the largest single cost of loading the demo before this)."""
    read = cohort_repo.schedules_of
    seen: dict[int, Any] = {}

    def schedules_of(year: int) -> Any:
        if not seen.get(year):  # an empty answer is asked again (before the import brings them)
            seen[year] = read(year)
        return list(seen[year])

    cohort_repo.schedules_of = schedules_of  # restored below
    try:
        yield
    finally:
        cohort_repo.schedules_of = read


def _load(loader: _DemoLoader, schools_count: int, seed: int, delivery_partners: int | None) -> DemoResult:
    started = time.monotonic()
    loader.add_lead_providers()
    loader.lap("lead providers")
    finance_plan = loader.import_cohorts()
    loader.lap("cohort import")
    loader.add_delivery_partners(_delivery_partner_count(schools_count, delivery_partners))
    loader.lap("delivery partners")
    rows = loader.import_schools(schools_count, seed)
    loader.lap("schools")
    untouched = loader.add_partnerships(rows)
    loader.lap("partnerships")
    loader.add_tokens_and_example(untouched)
    loader.lap("tokens")
    loader.add_declarations(finance_plan, untouched)
    loader.lap("declarations")
    loader.result.timings["total"] = time.monotonic() - started
    return loader.result


# Delivery partners: all of them for a demo of LARGE_DEMO_SCHOOLS or more, else a few.
LARGE_DEMO_SCHOOLS = 1000
LARGE_DEMO_PARTNERS = 40
SMALL_DEMO_PARTNERS = 12
TRN_KNOWN_SHARE = 0.8  # of the participants onboarded before their partnership, those with a TRN
ONBOARDED_SCHOOLS = 60  # 2024 partnerships with participants
ONBOARDED_COHORT = 2024
SCHOOLS_IMPORTED_BEFORE_NOW = timedelta(hours=2)  # the GIAS import; the reports and choices follow it
REPORTS_BEFORE_NOW = timedelta(hours=1)


def _delivery_partner_count(schools_count: int, wanted: int | None) -> int:
    if wanted is not None:
        return wanted
    return LARGE_DEMO_PARTNERS if schools_count >= LARGE_DEMO_SCHOOLS else SMALL_DEMO_PARTNERS


@dataclass(frozen=True)
class _SchoolGroups:
    """The partnerable schools of the extract, shuffled and split by what step 5 does with them."""

    partnered_2024: list[dict[str, str]]
    partnered_2025: list[dict[str, str]]  # new in 2025
    continuing: list[dict[str, str]]  # partnered in 2024, and again in 2025
    choosing: list[dict[str, str]]  # a programme choice only
    untouched: list[dict[str, str]]  # left for the banner's example and the declarations

    @classmethod
    def split(cls, eligible: list[dict[str, str]]) -> _SchoolGroups:
        n_2024 = min(200, len(eligible) // 10)
        n_2025_new = min(40, len(eligible) // 40)
        n_choices = min(120, len(eligible) // 20)
        partnered_2024 = eligible[:n_2024]
        return cls(
            partnered_2024=partnered_2024,
            partnered_2025=eligible[n_2024 : n_2024 + n_2025_new],
            continuing=partnered_2024[: n_2024 // 4],
            choosing=eligible[n_2024 + n_2025_new : n_2024 + n_2025_new + n_choices],
            untouched=eligible[n_2024 + n_2025_new + n_choices :],
        )


class _DemoLoader:
    """The steps of ``load_demo`` (see the module's docstring), sharing one random generator, so the order in which
    they draw from it (and so the demo for a seed) is the order they run in."""

    def __init__(
        self, now: datetime, rng: random.Random, log: Callable[[str], None], settled: Callable[[], None]
    ) -> None:
        self.now = now
        self.rng = rng
        self.log = log
        self.settled = settled
        self.schools_imported_at = now - SCHOOLS_IMPORTED_BEFORE_NOW
        self.result = DemoResult()
        self.related: dict[tuple[str, int], list[tuple[str, str]]] = {}  # (lp, year) -> [(dp id, dp name)]
        self.people = iter(range(1_000_000))
        self.mark = time.monotonic()

    def lap(self, name: str) -> None:
        """Record the time the step just finished took."""
        self.result.timings[name] = time.monotonic() - self.mark
        self.mark = time.monotonic()

    # 1. Lead providers.
    def add_lead_providers(self) -> None:
        for name in LEAD_PROVIDERS:
            self.result.lead_providers[name] = providers.add_lead_provider(name, self.now).id

    # 2. Cohorts, contracts, schedules and statements. The two statements step 7 fills are imported first,
    # in the past (see load_declarations).
    def import_cohorts(self) -> FinancePlan | None:
        finance_plan = plan_finance(self.now)
        if finance_plan is not None:
            with tempfile.TemporaryDirectory(prefix="ecf-cohort-") as folder:
                write_history_cohort(Path(folder), finance_plan, FINANCE_LEAD_PROVIDER)
                importers.import_cohort(folder, finance_plan.imported_at)
        imported = importers.import_cohort(COHORT_DIR, self.now)
        self.log(
            f"  cohorts {', '.join(map(str, imported.cohorts))}: {imported.contracts} contracts, "
            f"{imported.schedules} schedules, {imported.statements} statements"
        )
        return finance_plan

    # 3. Delivery partners, each with one to three lead providers.
    def add_delivery_partners(self, count: int) -> None:
        plans = self._partner_plans(count)
        result = self.result
        result.relationships = sum(self._add_partner(*plan) for plan in plans)
        result.delivery_partners = len(plans)
        self.log(f"  {result.delivery_partners} delivery partners, {result.relationships} provider relationships")

    def _partner_plans(self, count: int) -> list[tuple[str, list[str], list[int]]]:
        """(name, lead providers, cohorts) of each delivery partner."""
        rng = self.rng
        plans = []
        for index, name in enumerate(DELIVERY_PARTNERS[:count]):
            lps = rng.sample(LEAD_PROVIDERS, rng.choices((1, 2, 3), weights=(50, 35, 15))[0])
            first_year = rng.choices(DP_COHORTS[:3], weights=(70, 15, 15))[0] if index >= len(LEAD_PROVIDERS) else 2021
            plans.append((name, lps, [y for y in DP_COHORTS if y >= first_year]))
        # Every lead provider gets at least one partner for every cohort: its examples must work.
        for index, lp in enumerate(LEAD_PROVIDERS[: len(plans)]):
            if lp not in plans[index][1]:
                plans[index] = (plans[index][0], [lp, *plans[index][1]][:3], plans[index][2])
        return plans

    def _add_partner(self, name: str, lps: list[str], years: list[int]) -> int:
        partner = providers.add_delivery_partner(name, lps[0], years, self.now)
        for lp in lps[1:]:
            providers.relate_delivery_partner(partner.id, lp, years, self.now)
        for lp in lps:
            for year in years:
                self.related.setdefault((lp, year), []).append((partner.id, partner.name))
        return len(lps) * len(years)

    # 4. Schools from a generated GIAS extract.
    def import_schools(self, count: int, seed: int) -> list[dict[str, str]]:
        with tempfile.TemporaryDirectory(prefix="ecf-gias-") as folder:
            path = Path(folder) / "edubasealldata.csv"
            rows = gias.write_gias_csv(path, count, seed)
            school_import = importers.import_schools(path, self.schools_imported_at)
        self.result.schools_in_extract = school_import.rows
        self.result.schools_imported = school_import.created + school_import.updated + school_import.unchanged
        self.log(
            f"  GIAS extract: {school_import.rows} establishments, {self.result.schools_imported} schools imported, "
            f"{school_import.skipped} out of scope"
        )
        return rows

    # 5. Programme choices, partnerships and their participants, written settled; then a few challenged.
    # Returns the partnerable schools left untouched.
    def add_partnerships(self, rows: list[dict[str, str]]) -> list[dict[str, str]]:
        eligible = [row for row in rows if _partnerable(row)]
        eligible = list({row["URN"]: row for row in eligible}.values())
        self.rng.shuffle(eligible)
        groups = _SchoolGroups.split(eligible)
        plan = self._plan_partnerships(groups)
        choices = self._programme_choices(groups)
        settled = _SettledWriter(self, {row["URN"]: row for row in eligible})
        created = settled.partnerships(plan)
        settled.choices(choices)
        self.result.participants += settled.onboard([row["URN"] for row in groups.partnered_2024[:ONBOARDED_SCHOOLS]])
        settled.write()
        self.result.programme_choices = len(choices)
        self.result.partnerships = len(created)
        self.settled()
        self.result.challenged = self._challenge(created)
        self.log(
            f"  {self.result.partnerships} partnerships (2024 and 2025, {self.result.challenged} challenged), "
            f"{self.result.programme_choices} programme choices, {self.result.participants} participants"
        )
        return groups.untouched

    def _plan_partnerships(self, groups: _SchoolGroups) -> list[tuple[dict[str, str], int, str, str]]:
        """(row, year, lp, dp id) of each partnership to report, with a partner of the provider for the year."""
        plan = []
        for year, batch in ((2024, groups.partnered_2024), (2025, groups.partnered_2025 + groups.continuing)):
            for row in batch:
                lp = self.rng.choice(LEAD_PROVIDERS)
                partners = self.related.get((lp, year))
                if partners:
                    plan.append((row, year, lp, self.rng.choice(partners)[0]))
        return plan

    def _programme_choices(self, groups: _SchoolGroups) -> list[tuple[str, int, str]]:
        """(URN, cohort, SIT choice) of the schools that only choose a programme."""
        rng = self.rng
        return [(row["URN"], rng.choice((2024, 2025)), rng.choice(PROGRAMME_CHOICES)) for row in groups.choosing]

    def new_person(self, urn: str) -> tuple[str, str]:
        """(full name, email) of someone new at the school."""
        n = next(self.people)
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        return f"{first} {last}", f"{first}.{last.replace(chr(39), '')}.{n}@school{urn}.example.org".lower()

    def _onboard(self, urn: str, year: int, count: int) -> int:
        """A mentor and ``count`` ECTs at the school for the cohort, with no partnership yet."""
        mentor_email = None
        for kind in ["mentor"] + ["ect"] * count:
            full_name, email = self.new_person(urn)
            induction.add_participant(
                urn=urn, cohort=year, full_name=full_name, email=email, participant_type=kind,
                trn=f"{self.rng.randint(1000000, 9999999)}" if self.rng.random() < TRN_KNOWN_SHARE else None,
                mentor_email=mentor_email if kind == "ect" else None, appropriate_body=None, partnership_id=None,
                now=self.now,
            )  # fmt: skip
            if kind == "mentor":
                mentor_email = email
        return 1 + count

    def _challenge(self, created: list[str]) -> int:
        """Some of the partnerships challenged by the school."""
        rng = self.rng
        to_challenge = rng.sample(created, min(len(created), max(1, len(created) // 40))) if created else []
        for pid in to_challenge:
            partnerships.challenge_partnership(pid, rng.choice(CHALLENGE_REASONS), self.now)
        return len(to_challenge)

    # 6. Tokens, and an example a lead provider could POST right now.
    def add_tokens_and_example(self, untouched: list[dict[str, str]]) -> None:
        for name in LEAD_PROVIDERS:
            self.result.tokens[name] = tokens.create_token(name, self.now).token
        example_lp = LEAD_PROVIDERS[0]
        partners = self.related.get((example_lp, 2025))
        if untouched and partners:
            row = untouched[0]
            schools.set_programme_choice(row["URN"], 2025, "provider_led", self.now)
            waiting = self._onboard(row["URN"], 2025, 3)
            self.result.participants += waiting
            self.result.example = PostExample(
                lead_provider=example_lp,
                school_id=importers.school_id_for(row["URN"]),
                school_name=row["EstablishmentName"],
                delivery_partner_id=partners[0][0],
                delivery_partner_name=partners[0][1],
                cohort=2025,
                participants=waiting,
            )

    # 7. Declarations in every state, and a statement ready to authorise.
    def add_declarations(self, finance_plan: FinancePlan | None, untouched: list[dict[str, str]]) -> None:
        partners = self.related.get((FINANCE_LEAD_PROVIDER, FINANCE_COHORT)) or []
        finance_schools = untouched[1 : 1 + len(FINANCE_SCHOOLS)]
        if finance_plan is None:
            self.log(
                f"  no declarations: cohort {FINANCE_COHORT} needs two output-fee statements past their deadline "
                "and one to come"
            )
            return
        if len(finance_schools) < len(FINANCE_SCHOOLS) or not partners:
            self.log("  no declarations: too few schools")
            return
        finance = load_declarations(
            finance_plan,
            FINANCE_LEAD_PROVIDER,
            self.result.lead_providers[FINANCE_LEAD_PROVIDER],
            [(row["URN"], partners[i % len(partners)][0]) for i, row in enumerate(finance_schools)],
            self.new_person,
            self.now,
        )
        self.result.finance = finance
        self.result.participants += sum(1 + ects for _, ects in FINANCE_SCHOOLS)
        states = ", ".join(f"{count} {state}" for state, count in finance.states.items())
        self.log(f"  {sum(finance.states.values())} declarations ({states}) in {time.monotonic() - self.mark:.1f}s")


class _SettledWriter:
    """Step 5's bulk, as the services and the partnerships stream leave it, written in batches.

    What ``schools.set_programme_choice``, ``partnerships.create_partnership`` and then the partnerships
    stream's migration would have left, built as domain records and written with ``repositories.seed`` (the
    repositories' own record -> item mappings, 25 items a ``BatchWriteItem``; what ``make bench`` loads its
    data with): the partnerships settled (their migration has run), their school cohorts (provider-led, the
    partnership active), the schools moved to their latest report or choice, and the participants onboarded
    at some of the 2024 schools already on the partnership's programme, with each provider's participant view
    (``bench.onboarding``, checked against ``induction.add_participant`` by ``python -m bench.participants``).
    The reports and choices happen a second apart in the hour before ``now``, after the GIAS import.
    Writing them through the services took most of the demo's start-up (and their stream records as long
    again); the banner's POST example still goes through the services and the stream (step 6)."""

    def __init__(self, loader: _DemoLoader, rows_by_urn: dict[str, dict[str, str]]) -> None:
        self.loader = loader
        self.rows = rows_by_urn
        self.rng = loader.rng
        self.clock = itertools.count(1)
        self.since = loader.now - REPORTS_BEFORE_NOW
        self.reported: list[Partnership] = []
        self.school_cohorts: dict[tuple[str, int], SchoolCohort] = {}
        self.touched: dict[str, datetime] = {}  # school id -> programme choice time
        self.onboarded: list[onboarding.Onboarding] = []
        self.programmes: list[Programme] = []
        self.academic_start = {int(c.start_year): partnerships.academic_start(c) for c in cohort_repo.list_cohorts()}

    def tick(self) -> datetime:
        return self.since + timedelta(seconds=next(self.clock))

    def uuid(self) -> str:
        return onboarding.seeded_uuid(self.rng)

    def partnerships(self, plan: list[tuple[dict[str, str], int, str, str]]) -> list[str]:
        """Report each planned partnership; their ids."""
        names = {dp_id: name for partners in self.loader.related.values() for dp_id, name in partners}
        for row, year, lp, dp_id in plan:
            at = self.tick()
            gias = importers.gias_school(row, f"URN {row['URN']}")
            school_id = importers.school_id_for(row["URN"])
            partnership = Partnership(
                id=self.uuid(), school_id=school_id, urn=row["URN"],
                lead_provider_id=self.loader.result.lead_providers[lp], delivery_partner_id=dp_id,
                delivery_partner_name=names[dp_id], cohort=year, relationship=False, pending=False,
                challenged_at=None, challenge_reason=None, report_id=self.uuid(),
                challenge_deadline=challenge_deadline(at, self.academic_start.get(year)), created_at=at,
                updated_at=at, induction_tutor_email=gias.primary_contact_email or gias.secondary_contact_email,
            )  # fmt: skip
            self.reported.append(partnership)
            self.school_cohorts[(school_id, year)] = SchoolCohort(
                school_id=school_id, cohort=year, induction_programme_choice=FIP, active_partnership_id=partnership.id,
                active_lead_provider_id=partnership.lead_provider_id, relationship_partnership_ids=frozenset(),
                default_induction_programme_id=None, appropriate_body=None, opt_out_of_updates=False,
                created_at=at, updated_at=at,
            )  # fmt: skip
        return [p.id for p in self.reported]

    def choices(self, choices: list[tuple[str, int, str]]) -> None:
        """Programme choices of unpartnered schools (``set_programme_choice``: the school cohort, the school
        touched)."""
        for urn, year, choice in choices:
            at = self.tick()
            school_id = importers.school_id_for(urn)
            self.touched[school_id] = at
            self.school_cohorts[(school_id, year)] = SchoolCohort(
                school_id=school_id, cohort=year, induction_programme_choice=SIT_CHOICES[choice],
                active_partnership_id=None, active_lead_provider_id=None, relationship_partnership_ids=frozenset(),
                default_induction_programme_id=None, appropriate_body=None, opt_out_of_updates=False,
                created_at=at, updated_at=at,
            )  # fmt: skip

    def onboard(self, urns: list[str]) -> int:
        """Participants at the 2024 partnership of each school (one to four ECTs and a mentor on average),
        onboarded a minute after the report onto the school cohort's default programme; the number onboarded."""
        by_school = {p.school_id: p for p in self.reported if p.cohort == ONBOARDED_COHORT}
        count = 0
        for urn in urns:
            partnership = by_school.get(importers.school_id_for(urn))
            if partnership is None:
                continue
            at = partnership.created_at + timedelta(minutes=1)
            school = SchoolRef(id=partnership.school_id, urn=urn)
            programme = onboarding.new_programme(self.rng, school, partnership.cohort, partnership.id, at)
            self.programmes.append(programme)
            key = (partnership.school_id, partnership.cohort)
            self.school_cohorts[key] = replace(
                self.school_cohorts[key], default_induction_programme_id=programme.id, updated_at=at
            )
            for _ in range(self.rng.randint(2, 5)):
                count += 1
                self.onboarded.append(
                    onboarding.onboard(
                        self.rng, school=school, programme=programme, partnership=partnership, at=at,
                        serial=next(self.loader.people),
                    )
                )  # fmt: skip
        return count

    def write(self) -> None:
        reported = {p.school_id for p in self.reported}
        schools = [
            (school_id, importers.gias_school(self.rows[urn], f"URN {urn}"), self.loader.schools_imported_at)
            for urn in self.rows
            if (school_id := importers.school_id_for(urn)) in reported or school_id in self.touched
        ]
        seed_repo.seed_schools(schools, self.reported, touched=self.touched)
        seed_repo.seed_partnerships(self.reported, list(self.school_cohorts.values()))
        onboarding.write_onboarded(self.onboarded, self.programmes)
