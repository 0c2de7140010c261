"""Realistic data, loaded fast, as the domain records the services build, written by the repositories.

Lead providers, the demo cohorts (2020-2025) and API tokens go through the
services. The bulk is built as domain records (``chalicelib.domain``) with
the services' and the domain's own builders, and written with the batch
functions of ``repositories.seed``, which make the items with the
repositories' own record → item mappings and key functions:

* delivery partners and their provider relationships (``DeliveryPartner``,
  ``ProviderRelationship``), as ``services.providers.add_delivery_partner``
  and ``relate_delivery_partner`` leave them (``seed.seed_delivery_partners``);
* schools as GIAS extract rows read by the importer's own
  ``services.importers.gias_school`` (``elig`` from the eligibility rules),
  written as ``import_schools`` creates them and moved to their latest
  partnership report as ``save_reported`` moves them (``seed.seed_schools``);
* partnerships (``domain.partnerships.Partnership``, the challenge deadline
  from ``challenge_deadline`` at the report time) and their school cohorts
  (``domain.schools.SchoolCohort``: the active partnership and the
  provider-led choice), as ``save_reported`` leaves them (``seed.seed_partnerships``);
* participants (``bench.onboarding``) and declarations (``bench.declarations``).

Partnerships are loaded settled: their participant migration has run, so
``pm`` (pending migration) is absent, as the stream handler leaves it.

Everything is derived from a seeded ``random.Random``, so a scale and a seed
give the same ids and times (bar the clock) on every run. The caller owns the
moto mock: ``fresh_tables()`` then ``load(...)`` inside ``mock_aws()``.

Two context managers change moto for clearly labelled extra benchmark rows
only: ``without_transaction_snapshots`` and ``index_pages_sized_as_on_aws``.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bench.declarations import DeclarationData, load_declarations
from bench.onboarding import ParticipantData, make_participants, seeded_uuid, write_onboarded
from chalicelib.domain.clock import truncate, utcnow
from chalicelib.domain.imports import GiasSchool
from chalicelib.domain.participants import SchoolRef
from chalicelib.domain.partnerships import FIP, Partnership, challenge_deadline
from chalicelib.domain.providers import DeliveryPartner, ProviderRelationship
from chalicelib.domain.schools import SchoolCohort
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import seed as seed_repo
from chalicelib.services import importers, providers, tokens
from chalicelib.services import partnerships as partnership_service
from localdev.fakeaws import fresh_storage

DEMO_COHORT = Path(__file__).resolve().parent.parent / "data" / "demo-cohort"

# The demo cohort's lead providers and their share of partnerships (the largest has ~30%).
LEAD_PROVIDERS: dict[str, float] = {
    "Ambition Institute": 0.30,
    "Teach First": 0.20,
    "UCL Institute of Education": 0.16,
    "Education Development Trust": 0.12,
    "Best Practice Network": 0.10,
    "National Institute of Teaching": 0.07,
    "Capita": 0.05,
}
PARTNERSHIP_COHORTS = {2023: 0.30, 2024: 0.35, 2025: 0.35}
RELATIONSHIP_COHORTS = (2023, 2024, 2025)
URN_BASE = 200_000

# School mix: GIAS facts per kind and its share (elig is computed from the facts, never assumed).
SCHOOL_KINDS: dict[str, tuple[float, list[tuple[int, str, int, str, bool]]]] = {
    # kind: (share, [(status code, status name, type code, type name, section 41), ...])
    "eligible": (
        0.85,
        [
            (1, "Open", 1, "Community school", False),
            (1, "Open", 2, "Voluntary aided school", False),
            (1, "Open", 3, "Voluntary controlled school", False),
            (1, "Open", 5, "Foundation school", False),
            (1, "Open", 7, "Community special school", False),
            (1, "Open", 28, "Academy sponsor led", False),
            (1, "Open", 34, "Academy converter", False),
            (1, "Open", 35, "Free schools", False),
            (3, "Open, but proposed to close", 34, "Academy converter", False),
        ],
    ),
    "cip_only": (
        0.06,
        [
            (1, "Open", 11, "Other independent school", False),
            (1, "Open", 10, "Other independent special school", False),
            (1, "Open", 37, "British schools overseas", False),
        ],
    ),
    "section_41": (0.01, [(1, "Open", 11, "Other independent school", True)]),
    "closed": (
        0.08,
        [
            (2, "Closed", 1, "Community school", False),
            (2, "Closed", 34, "Academy converter", False),
            (4, "Proposed to open", 35, "Free schools", False),
        ],
    ),
}
PHASES = [(2, "Primary"), (4, "Secondary"), (0, "Not applicable"), (7, "All-through")]
PLACES = [
    "Ashford", "Barnsley", "Bedford", "Birmingham", "Blackburn", "Bolton", "Bradford", "Brighton", "Bristol",
    "Cambridge", "Carlisle", "Chelmsford", "Chester", "Coventry", "Derby", "Doncaster", "Durham", "Exeter",
    "Gateshead", "Gloucester", "Halifax", "Hull", "Ipswich", "Kendal", "Lancaster", "Leeds", "Leicester",
    "Lincoln", "Liverpool", "Luton", "Manchester", "Middlesbrough", "Newcastle", "Northampton", "Norwich",
    "Nottingham", "Oldham", "Oxford", "Peterborough", "Plymouth", "Portsmouth", "Preston", "Reading",
    "Rochdale", "Salford", "Sheffield", "Slough", "Southampton", "Stockport", "Sunderland", "Swindon",
    "Taunton", "Telford", "Truro", "Wakefield", "Walsall", "Warrington", "Wigan", "Wolverhampton", "York",
]  # fmt: skip
SCHOOL_WORDS = [
    "Primary School", "Academy", "CofE Primary School", "High School", "Infant School",
    "Junior School", "Catholic Primary School", "Community College", "Free School", "Special School",
]  # fmt: skip
STREETS = ["Church Lane", "High Street", "School Road", "Station Road", "Park Avenue", "Mill Lane", "Green Lane"]
DP_WORDS = ["Teaching School Hub", "Learning Trust", "Education Partnership", "Teaching Alliance", "Institute"]


@dataclass(frozen=True)
class Scale:
    schools: int = 25_000
    partnerships: int = 3_000
    delivery_partners: int = 150
    participants: int = 50_000
    declarations: int = 100_000  # of the largest lead provider
    statement_lines: int = 10_000  # on the statement the CSV and transition rows use

    @classmethod
    def factor(cls, factor: float) -> Scale:
        """``BENCH_SCALE``: 1.0 is the full 25,000 schools, 3,000 partnerships, 150 delivery partners."""
        return cls(
            schools=max(300, round(25_000 * factor)),
            partnerships=max(30, round(3_000 * factor)),
            delivery_partners=max(14, round(150 * factor)),
            participants=max(500, round(50_000 * factor)),
            declarations=max(1_000, round(100_000 * factor)),
            statement_lines=max(100, round(10_000 * factor)),
        )

    def __str__(self) -> str:
        return (
            f"{self.schools:,} schools, {self.partnerships:,} partnerships, "
            f"{self.delivery_partners} delivery partners, {len(LEAD_PROVIDERS)} lead providers, "
            f"{self.participants:,} participants, {self.declarations:,} declarations of the largest lead provider"
        )


@dataclass(frozen=True)
class PartnershipRow:
    id: str
    lead_provider_id: str
    delivery_partner_id: str
    school_id: str
    cohort: int


@dataclass(frozen=True)
class NewSchool:
    """A school as the GIAS import creates it: its id (from the URN), GIAS fields and creation time."""

    id: str
    gias: GiasSchool
    created_at: datetime

    @property
    def urn(self) -> str:
        return self.gias.urn

    @property
    def listed_by_eligibility(self) -> bool:
        return bool(self.gias.listed_by_eligibility)


@dataclass
class Dataset:
    scale: Scale
    now: datetime
    lead_providers: dict[str, str] = field(default_factory=dict)  # name -> id
    tokens: dict[str, str] = field(default_factory=dict)  # lead provider id -> bearer token
    delivery_partners: dict[str, list[str]] = field(default_factory=dict)  # lead provider id -> related DP ids
    partnerships: list[PartnershipRow] = field(default_factory=list)
    unpartnered_schools: list[str] = field(default_factory=list)  # eligible, no school cohort: POST targets
    school_mix: Counter[str] = field(default_factory=Counter)
    listed_schools: int = 0  # in the listing indexes (lst set)
    recent_since: datetime | None = None  # updated_since that finds only the last day's changes
    sample_urn: str = ""
    relationships: int = 0
    partner_names: dict[str, str] = field(default_factory=dict)  # delivery partner id -> name
    seconds: dict[str, float] = field(default_factory=dict)
    participants: ParticipantData | None = None
    declarations: DeclarationData | None = None
    schools_by_id: dict[str, SchoolRef] = field(default_factory=dict, repr=False)

    @property
    def largest_lead_provider(self) -> str:
        return Counter(p.lead_provider_id for p in self.partnerships).most_common(1)[0][0]

    def partnerships_of(self, lead_provider_id: str) -> list[PartnershipRow]:
        return [p for p in self.partnerships if p.lead_provider_id == lead_provider_id]

    def summary(self) -> str:
        mix = ", ".join(f"{kind} {n:,}" for kind, n in sorted(self.school_mix.items()))
        shares = Counter(p.lead_provider_id for p in self.partnerships)
        names = {v: k for k, v in self.lead_providers.items()}
        lps = ", ".join(f"{names[lp]} {n}" for lp, n in shares.most_common())
        return (
            f"{self.scale}; school mix: {mix}; listed {self.listed_schools:,}; "
            f"{self.relationships} provider relationships (cohorts 2023-2025); partnerships by LP: {lps}"
            + (self.participants.summary(names) if self.participants else "")
            + (self.declarations.summary() if self.declarations else "")
        )


def fresh_tables() -> None:
    """Settings from the environment, models bound to them, empty tables (inside ``mock_aws``)."""
    fresh_storage()


@contextmanager
def without_transaction_snapshots() -> Iterator[None]:
    """Stop moto deep-copying every table a transaction touches (its rollback snapshot).

    moto's ``transact_write_items`` copies each touched table whole before
    applying a transaction, so a transaction costs time in proportion to the
    tables' sizes (seconds with 25,000 schools); DynamoDB's cost does not
    depend on table size. Inside this block a transaction that fails part-way
    would leave its earlier actions applied: use it only where every
    transaction succeeds (the labelled extra benchmark row).
    """
    import moto.dynamodb.models as backend
    from moto.dynamodb.models.table import Table

    real = backend.copy

    class _Copy:
        @staticmethod
        def deepcopy(value: object, memo: dict[int, object] | None = None) -> object:
            return value if isinstance(value, Table) else real.deepcopy(value, memo)

    backend.copy = _Copy  # type: ignore[assignment]
    try:
        yield
    finally:
        backend.copy = real


@contextmanager
def index_pages_sized_as_on_aws() -> Iterator[None]:
    """Make moto end an index query's page at 1 MB of *index entries*, as DynamoDB does.

    moto sizes a GSI query page by the whole table items, so a page of a
    keys-plus-a-few-attributes index holds ~1,000 school keys instead of the
    ~9,000 DynamoDB returns, and skipping to a deep page takes several times
    the requests it takes on AWS. Inside this block the page size counts only
    the attributes the index projects (its keys, the table's keys and any
    INCLUDE attributes). Results are unchanged; only where pages end moves.
    """
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.models.utilities import bytesize

    real_query, real_size = Table.query, Item.size
    projected: list[set[str] | None] = []

    def size(self: Item) -> int:
        names = projected[-1] if projected else None
        if names is None:
            return real_size(self)
        return sum(bytesize(key) + value.size() for key, value in self.attrs.items() if key in names)

    def query(self: Table, *args: object, **kwargs: object) -> object:
        index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
        names = None
        if index_name:
            index = self.get_index(str(index_name))
            projection = index.projection or {}
            kind = projection.get("ProjectionType")
            if kind in ("KEYS_ONLY", "INCLUDE"):
                names = {*index.table_key_attrs, *index.schema_key_attrs}
                if kind == "INCLUDE":
                    names.update(projection.get("NonKeyAttributes", []))
        projected.append(names)
        try:
            return real_query(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            projected.pop()

    Table.query = query  # type: ignore[assignment,method-assign]
    Item.size = size  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = real_query  # type: ignore[method-assign]
        Item.size = real_size  # type: ignore[method-assign]


def load(
    scale: Scale,
    *,
    now: datetime | None = None,
    seed: int = 2025,
    progress: Callable[[str], None] | None = None,
) -> Dataset:
    """Load everything into the current (moto) tables; returns what the benchmark and tests need to know."""
    now = truncate(now or utcnow())
    rng = random.Random(seed)
    data = Dataset(scale=scale, now=now)
    say = progress or (lambda _message: None)

    def phase(name: str, started: float) -> None:
        data.seconds[name] = time.perf_counter() - started
        say(f"  {name}: {data.seconds[name]:.1f} s")

    # Lead providers, cohorts and tokens: through the services, as an admin would.
    started = time.perf_counter()
    for name in LEAD_PROVIDERS:
        data.lead_providers[name] = providers.add_lead_provider(name, now - timedelta(days=1500)).id
    importers.import_cohort(DEMO_COHORT, now - timedelta(days=1400))
    for name, lp_id in data.lead_providers.items():
        data.tokens[lp_id] = tokens.create_token(name, now - timedelta(days=30)).token
    academic_start = {int(c.start_year): partnership_service.academic_start(c) for c in cohort_repo.list_cohorts()}
    phase("lead providers, cohorts, tokens (services)", started)

    started = time.perf_counter()
    _load_delivery_partners(data, rng)
    phase("delivery partners and relationships (batch)", started)

    started = time.perf_counter()
    schools = _make_schools(data, rng)
    school_cohorts, partnerships = _make_partnerships(data, rng, schools, academic_start)
    phase("generate schools and partnerships", started)
    data.schools_by_id = {s.id: SchoolRef(id=s.id, urn=s.urn) for s in schools}

    if scale.participants:
        started = time.perf_counter()
        data.participants = make_participants(
            scale.participants,
            now,
            random.Random(seed + 1),
            data.largest_lead_provider,
            data.schools_by_id,
            school_cohorts,
            partnerships,
        )
        phase(f"generate {scale.participants:,} participants (read model via projection.build_views)", started)

    started = time.perf_counter()
    seed_repo.seed_schools([(s.id, s.gias, s.created_at) for s in schools], partnerships)
    phase(f"write {len(schools):,} schools (batch)", started)

    started = time.perf_counter()
    seed_repo.seed_partnerships(partnerships, list(school_cohorts.values()))
    phase(f"write {len(partnerships):,} partnerships and school cohorts (batch)", started)

    if data.participants is not None:
        started = time.perf_counter()
        items = write_onboarded(data.participants.onboarded, data.participants.programmes)
        phase(f"write {scale.participants:,} participants: {items:,} items (batch)", started)

    if data.participants is not None and scale.declarations:
        started = time.perf_counter()
        lp = data.largest_lead_provider
        name = next(n for n, lp_id in data.lead_providers.items() if lp_id == lp)
        data.declarations = load_declarations(
            lp,
            name,
            data.participants.by_lead_provider.get(lp, []),
            scale.declarations,
            scale.statement_lines,
            now,
            random.Random(seed + 2),
            say,
        )
        phase(
            f"{data.declarations.count:,} declarations: built by the services' builders, "
            f"{data.declarations.items:,} items (batch)",
            started,
        )
    return data


def _at_least_three(lp_ids: list[str], partners: list[DeliveryPartner], links: dict[str, set[str]]) -> None:
    """Every lead provider works with at least three partners (PUT needs somewhere to move to)."""
    for lp_id in lp_ids:
        for partner in partners:
            if sum(lp_id in lps for lps in links.values()) >= 3:
                break
            if lp_id not in links[partner.id] and len(links[partner.id]) < 3:
                links[partner.id].add(lp_id)


def _load_delivery_partners(data: Dataset, rng: random.Random) -> None:
    lp_ids = list(data.lead_providers.values())
    weights = list(LEAD_PROVIDERS.values())
    partners: list[DeliveryPartner] = []
    links: dict[str, set[str]] = {}
    for i in range(data.scale.delivery_partners):
        at = truncate(data.now - timedelta(days=1300 - i * 2, seconds=rng.randrange(86_400)))
        name = f"{PLACES[i % len(PLACES)]} {DP_WORDS[(i // len(PLACES)) % len(DP_WORDS)]}"
        if i >= len(PLACES) * len(DP_WORDS):
            name += f" {i // (len(PLACES) * len(DP_WORDS)) + 1}"
        partner = DeliveryPartner(id=seeded_uuid(rng), name=name, created_at=at, updated_at=at)
        partners.append(partner)
        chosen: set[str] = set()
        for _ in range(rng.choices([1, 2, 3], weights=[35, 40, 25])[0]):
            chosen.add(rng.choices(lp_ids, weights=weights)[0])
        links[partner.id] = chosen
    _at_least_three(lp_ids, partners, links)

    relationships = []
    for partner in partners:
        for lp_id in sorted(links[partner.id]):
            data.delivery_partners.setdefault(lp_id, []).append(partner.id)
            for year in RELATIONSHIP_COHORTS:
                # What services.providers.add_delivery_partner / relate_delivery_partner build.
                at = truncate(partner.created_at + timedelta(days=30 * (year - 2022)))
                relationships.append(
                    ProviderRelationship(
                        lead_provider_id=lp_id,
                        delivery_partner_id=partner.id,
                        cohort=year,
                        delivery_partner_name=partner.name,
                        delivery_partner_created_at=partner.created_at,
                        delivery_partner_updated_at=partner.updated_at,
                        created_at=at,
                        updated_at=at,
                    )
                )
    data.relationships = seed_repo.seed_delivery_partners(partners, relationships)
    data.partner_names = {p.id: p.name for p in partners}


SCHOOL_NAMES = ["St Mary", "Oakwood", "Hillside", "Riverside", "Greenfield", "Kings"]


def _gias_row(rng: random.Random, i: int, urn: str, kind: str) -> dict[str, str]:
    """One row of a GIAS extract (the columns ``importers.gias_school`` reads). The draws from ``rng`` keep
    their order: the data set depends on it."""
    status, status_name, type_code, type_name, s41 = rng.choice(SCHOOL_KINDS[kind][1])
    place = PLACES[rng.randrange(len(PLACES))]
    phase_code, phase_name = rng.choice(PHASES)
    la = 300 + PLACES.index(place)
    slug = f"{place.lower()}{urn}"
    row = {"URN": urn}
    row["EstablishmentName"] = f"{place} {rng.choice(SCHOOL_NAMES)} {rng.choice(SCHOOL_WORDS)}"
    row["UKPRN"] = str(10_000_000 + i)
    row["Street"] = f"{rng.randrange(1, 200)} {rng.choice(STREETS)}"
    row["Locality"] = "" if rng.random() < 0.6 else "Westfield"
    row["Town"] = place
    row["Postcode"] = f"{place[:2].upper()}{rng.randrange(1, 30)} {rng.randrange(1, 10)}{rng.choice('ABDEFGHJ')}Z"
    row |= {
        "TypeOfEstablishment (code)": str(type_code),
        "TypeOfEstablishment (name)": type_name,
        "EstablishmentStatus (code)": str(status),
        "EstablishmentStatus (name)": status_name,
        "PhaseOfEducation (code)": str(phase_code),
        "PhaseOfEducation (name)": phase_name,
        "DistrictAdministrative (code)": f"E0{la:07d}",
        "DistrictAdministrative (name)": place,
        "LA (code)": str(la),
        "LA (name)": place,
        "Section41Approved (name)": "Approved" if s41 else "Not approved",
        "SchoolWebsite": f"https://www.{slug}.sch.uk",
        "MainEmail": f"office@{slug}.sch.uk",
    }
    row["AlternativeEmail"] = "" if rng.random() < 0.7 else f"head@{slug}.sch.uk"
    return row


def _make_schools(data: Dataset, rng: random.Random) -> list[NewSchool]:
    """GIAS-shaped schools, created over three years of imports (creation order = URN order)."""
    kinds = list(SCHOOL_KINDS)
    shares = [SCHOOL_KINDS[k][0] for k in kinds]
    first = data.now - timedelta(days=4 * 365)
    step = timedelta(days=3 * 365) / max(data.scale.schools, 1)
    schools = []
    for i in range(data.scale.schools):
        urn = str(URN_BASE + i)
        kind = rng.choices(kinds, weights=shares)[0]
        row = _gias_row(rng, i, urn, kind)
        gias = importers.gias_school(row, f"school {urn}")  # elig from the eligibility rules, as the importer
        schools.append(NewSchool(importers.school_id_for(urn), gias, truncate(first + step * i)))
        data.school_mix[kind] += 1
    data.sample_urn = next(s.urn for s in reversed(schools) if s.listed_by_eligibility)
    return schools


def _reported_at(data: Dataset, rng: random.Random, school: NewSchool, is_recent: bool) -> tuple[datetime, datetime]:
    """(created, updated) of a partnership report: the last day's for a recent one, else between the school's
    creation (or 900 days ago) and two days ago, with a later delivery partner change (PUT) one time in ten."""
    if is_recent:
        created = truncate(data.now - timedelta(seconds=rng.randrange(60, 20 * 3600)))
        return created, created
    earliest = max(school.created_at + timedelta(days=1), data.now - timedelta(days=900))
    window = (data.now - timedelta(days=2) - earliest).total_seconds()
    created = truncate(earliest + timedelta(seconds=rng.uniform(0, window)))
    updated = created
    if rng.random() < 0.1:  # the delivery partner was changed later (PUT)
        later = created + timedelta(days=rng.randrange(1, 60))
        updated = truncate(min(data.now - timedelta(days=1, hours=1), later))
    return created, updated


def _make_partnerships(
    data: Dataset, rng: random.Random, schools: list[NewSchool], academic_start: dict[int, datetime | None]
) -> tuple[dict[tuple[str, int], SchoolCohort], list[Partnership]]:
    """Reported partnerships over the eligible schools and their school cohorts (by school id and cohort)."""
    names = data.partner_names
    eligible = [s for s in schools if s.listed_by_eligibility]
    count = min(data.scale.partnerships, len(eligible))
    # Exact shares per lead provider, in a random order.
    lp_ids = list(data.lead_providers.values())
    quota = [int(count * share) for share in LEAD_PROVIDERS.values()]
    quota[0] += count - sum(quota)
    owners = [lp for lp, n in zip(lp_ids, quota, strict=True) for _ in range(n)]
    rng.shuffle(owners)

    years = list(PARTNERSHIP_COHORTS)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < count:
        pairs.add((rng.randrange(len(eligible)), rng.choices(years, weights=list(PARTNERSHIP_COHORTS.values()))[0]))
    recent = max(3, count // 50)  # the last day's reports: what a recent updated_since finds
    school_cohorts: dict[tuple[str, int], SchoolCohort] = {}
    partnerships: list[Partnership] = []
    for n, ((index, year), lp_id) in enumerate(zip(sorted(pairs), owners, strict=True)):
        school = eligible[index]
        created, updated = _reported_at(data, rng, school, n % max(count // recent, 1) == 0)
        partner_id = rng.choice(data.delivery_partners[lp_id])
        partnership = Partnership(
            id=seeded_uuid(rng),
            school_id=school.id,
            urn=school.urn,
            lead_provider_id=lp_id,
            delivery_partner_id=partner_id,
            delivery_partner_name=names[partner_id],
            cohort=year,
            relationship=False,
            pending=False,
            challenged_at=None,
            challenge_reason=None,
            report_id=seeded_uuid(rng),
            challenge_deadline=challenge_deadline(updated, academic_start.get(year)),
            created_at=created,
            updated_at=updated,
            induction_tutor_email=school.gias.primary_contact_email or school.gias.secondary_contact_email,
        )
        partnerships.append(partnership)
        school_cohorts[(school.id, year)] = SchoolCohort(
            school_id=school.id,
            cohort=year,
            induction_programme_choice=FIP,
            active_partnership_id=partnership.id,
            active_lead_provider_id=lp_id,
            relationship_partnership_ids=frozenset(),
            default_induction_programme_id=None,
            appropriate_body=None,
            opt_out_of_updates=False,
            created_at=created,
            updated_at=created,
        )
        data.partnerships.append(PartnershipRow(partnership.id, lp_id, partner_id, school.id, year))
    partnered = {i for i, _ in pairs}
    data.unpartnered_schools = [s.id for i, s in enumerate(eligible) if i not in partnered]
    rng.shuffle(data.unpartnered_schools)
    # In the listing indexes: listed by eligibility, or partnered (only eligible schools are).
    data.listed_schools = len(eligible)
    data.recent_since = data.now - timedelta(days=1)
    return school_cohorts, partnerships
