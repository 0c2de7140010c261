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
6. one API token per lead provider (``create_token``).

Everything is deterministic for a seed except the tokens and ids, which the services make.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.partnerships import CHALLENGE_REASONS
from chalicelib.domain.schools import SchoolFacts, is_cip_only, is_eligible, should_stage
from chalicelib.services import importers, induction, partnerships, providers, schools, tokens
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
    timings: dict[str, float] = field(default_factory=dict)


def _facts(row: dict[str, str]) -> SchoolFacts:
    def number(value: str) -> int | None:
        return int(value) if value.strip().isdigit() else None

    return SchoolFacts(
        status_code=number(row["EstablishmentStatus (code)"]),
        type_code=number(row["TypeOfEstablishment (code)"]),
        district_code=row["DistrictAdministrative (code)"] or None,
        section_41_approved=row["Section41Approved (name)"] == "Approved",
    )


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

    # 2. Cohorts, contracts, schedules and statements.
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
    eligible = [
        row for row in rows if should_stage(_facts(row)) and is_eligible(_facts(row)) and not is_cip_only(_facts(row))
    ]
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
    step("tokens", mark)
    result.timings["total"] = time.monotonic() - started
    return result
