"""Realistic data, loaded fast, in exactly the shape the services write.

Lead providers, the demo cohorts (2020-2025) and API tokens go through the
services. The bulk (delivery partners and their provider relationships,
schools, school cohorts, partnerships) is written with ``Model.batch_write()``
as the finished items the services would have left behind:

* schools as ``services.importers.import_schools`` creates them (id from the
  URN, ``elig`` from ``domain.schools.listed_by_eligibility``, ``lst`` when
  listed, ``ck``/``uk`` from ``repositories.schools.sort_key``);
* partnerships as ``repositories.partnerships.save_reported`` leaves them
  (``stamp`` sets ``lpv``, ``ck``, ``uk``; version 1; a report id and the
  challenge deadline of the report time), with the school cohort's
  ``active_partnership_id``/``active_lead_provider_id`` and the provider-led
  choice, and the school's ``pc``, ``lst``, ``updated_at`` and ``uk`` moved to
  its latest report;
* provider relationships as ``services.providers.add_delivery_partner`` does.

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
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bench.declarations import DeclarationData, load_declarations
from bench.participants import ParticipantData, make_participants, write_onboarded
from chalicelib.domain.clock import start_of_day, truncate, utcnow
from chalicelib.domain.partnerships import FIP, challenge_deadline
from chalicelib.domain.schools import SchoolFacts, listed_by_eligibility
from chalicelib.models import DeliveryPartner, Partnership, ProviderRelationship, School, SchoolCohort
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import providers as provider_repo
from chalicelib.repositories import schools as school_repo
from chalicelib.repositories.partnerships import stamp
from chalicelib.services import importers, providers, tokens
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
    schools_by_id: dict[str, School] = field(default_factory=dict, repr=False)

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


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _write(model: type, items: Iterable[object]) -> int:
    written = 0
    with model.batch_write() as batch:  # type: ignore[attr-defined]
        for item in items:
            batch.save(item)
            written += 1
    return written


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
    academic_start: dict[int, datetime | None] = {}
    for cohort in cohort_repo.list_cohorts():
        value = cohort.academic_year_start_date
        academic_start[int(cohort.start_year)] = start_of_day(value.date()) if value is not None else None
    phase("lead providers, cohorts, tokens (services)", started)

    started = time.perf_counter()
    _load_delivery_partners(data, rng)
    phase("delivery partners and relationships (batch)", started)

    started = time.perf_counter()
    schools = _make_schools(data, rng)
    school_cohorts, partnership_items = _make_partnerships(data, rng, schools, academic_start)
    phase("generate schools and partnerships", started)

    if scale.participants:
        started = time.perf_counter()
        data.participants = make_participants(
            scale.participants,
            now,
            random.Random(seed + 1),
            data.largest_lead_provider,
            schools,
            school_cohorts,
            partnership_items,
        )
        phase(f"generate {scale.participants:,} participants (read model via projection.build_views)", started)
    data.schools_by_id = {s.id: s for s in schools}

    started = time.perf_counter()
    _write(School, schools)
    phase(f"write {len(schools):,} schools (batch)", started)

    started = time.perf_counter()
    _write(SchoolCohort, school_cohorts)
    _write(Partnership, partnership_items)
    phase(f"write {len(partnership_items):,} partnerships and school cohorts (batch)", started)

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
        partner = DeliveryPartner(id=_uuid(rng), name=name, created_at=at, updated_at=at)
        partners.append(partner)
        chosen: set[str] = set()
        for _ in range(rng.choices([1, 2, 3], weights=[35, 40, 25])[0]):
            chosen.add(rng.choices(lp_ids, weights=weights)[0])
        links[partner.id] = chosen
    # Every lead provider works with at least three partners (PUT needs somewhere to move to).
    for lp_id in lp_ids:
        for partner in partners:
            if sum(lp_id in lps for lps in links.values()) >= 3:
                break
            if lp_id not in links[partner.id] and len(links[partner.id]) < 3:
                links[partner.id].add(lp_id)

    relationships = []
    for partner in partners:
        for lp_id in sorted(links[partner.id]):
            data.delivery_partners.setdefault(lp_id, []).append(partner.id)
            for year in RELATIONSHIP_COHORTS:
                # The item services.providers.add_delivery_partner / relate_delivery_partner write.
                at = truncate(partner.created_at + timedelta(days=30 * (year - 2022)))
                relationships.append(
                    ProviderRelationship(
                        lead_provider_id=lp_id,
                        delivery_partner_cohort=provider_repo.relationship_key(partner.id, year),
                        lead_provider_cohort=f"{lp_id}#{year:04d}",
                        delivery_partner_id=partner.id,
                        cohort=year,
                        delivery_partner_name=partner.name,
                        delivery_partner_created_at=partner.created_at,
                        delivery_partner_updated_at=partner.updated_at,
                        created_at=at,
                        updated_at=at,
                    )
                )
    _write(DeliveryPartner, partners)
    data.relationships = _write(ProviderRelationship, relationships)
    data.partner_names = {p.id: p.name for p in partners}


def _make_schools(data: Dataset, rng: random.Random) -> list[School]:
    """GIAS-shaped schools, created over three years of imports (creation order = URN order)."""
    kinds = list(SCHOOL_KINDS)
    shares = [SCHOOL_KINDS[k][0] for k in kinds]
    first = data.now - timedelta(days=4 * 365)
    step = timedelta(days=3 * 365) / max(data.scale.schools, 1)
    schools = []
    for i in range(data.scale.schools):
        urn = str(URN_BASE + i)
        school_id = importers.school_id_for(urn)
        kind = rng.choices(kinds, weights=shares)[0]
        status, status_name, type_code, type_name, s41 = rng.choice(SCHOOL_KINDS[kind][1])
        place = PLACES[rng.randrange(len(PLACES))]
        phase_code, phase_name = rng.choice(PHASES)
        la = 300 + PLACES.index(place)
        at = truncate(first + step * i)
        facts = SchoolFacts(status, type_code, f"E0{la:07d}", s41)
        elig = 1 if listed_by_eligibility(facts) else 0
        slug = f"{place.lower()}{urn}"
        school = School(
            id=school_id,
            urn=urn,
            name=f"{place} {rng.choice(['St Mary', 'Oakwood', 'Hillside', 'Riverside', 'Greenfield', 'Kings'])} "
            f"{rng.choice(SCHOOL_WORDS)}",
            ukprn=str(10_000_000 + i),
            address_line1=f"{rng.randrange(1, 200)} {rng.choice(STREETS)}",
            address_line2=None if rng.random() < 0.6 else "Westfield",
            address_line3=place,
            postcode=f"{place[:2].upper()}{rng.randrange(1, 30)} {rng.randrange(1, 10)}{rng.choice('ABDEFGHJ')}Z",
            school_type_code=type_code,
            school_type_name=type_name,
            school_status_code=status,
            school_status_name=status_name,
            school_phase_type=phase_code,
            school_phase_name=phase_name,
            administrative_district_code=facts.district_code,
            administrative_district_name=place,
            la_code=str(la),
            la_name=place,
            section_41_approved=s41,
            school_website=f"https://www.{slug}.sch.uk",
            primary_contact_email=f"office@{slug}.sch.uk",
            secondary_contact_email=None if rng.random() < 0.7 else f"head@{slug}.sch.uk",
            created_at=at,
            updated_at=at,
            listed_by_eligibility=elig,
        )
        # As services.importers.import_schools creates a school.
        school.created_key = school_repo.sort_key(at, school_id)
        school.updated_key = school_repo.sort_key(at, school_id)
        school.listed = school_repo.LISTED if elig else None
        data.school_mix[kind] += 1
        schools.append(school)
    data.sample_urn = next(s.urn for s in reversed(schools) if s.listed_by_eligibility)
    return schools


def _make_partnerships(
    data: Dataset, rng: random.Random, schools: list[School], academic_start: dict[int, datetime | None]
) -> tuple[list[SchoolCohort], list[Partnership]]:
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
    school_cohorts: list[SchoolCohort] = []
    items: list[Partnership] = []
    latest: dict[int, datetime] = {}
    for n, ((index, year), lp_id) in enumerate(zip(sorted(pairs), owners, strict=True)):
        school = eligible[index]
        if n % max(count // recent, 1) == 0:
            created = truncate(data.now - timedelta(seconds=rng.randrange(60, 20 * 3600)))
            updated = created
        else:
            # Reported between the school's creation (or 900 days ago) and two days ago.
            earliest = max(school.created_at + timedelta(days=1), data.now - timedelta(days=900))
            window = (data.now - timedelta(days=2) - earliest).total_seconds()
            created = truncate(earliest + timedelta(seconds=rng.uniform(0, window)))
            updated = created
            if rng.random() < 0.1:  # the delivery partner was changed later (PUT)
                later = created + timedelta(days=rng.randrange(1, 60))
                updated = truncate(min(data.now - timedelta(days=1, hours=1), later))
        partner_id = rng.choice(data.delivery_partners[lp_id])
        partnership = Partnership(
            id=_uuid(rng),
            school_id=school.id,
            urn=school.urn,
            lead_provider_id=lp_id,
            delivery_partner_id=partner_id,
            delivery_partner_name=names[partner_id],
            cohort=year,
            relationship=False,
            pending=False,
            report_id=_uuid(rng),
            challenge_deadline=challenge_deadline(updated, academic_start.get(year)),
            created_at=created,
            version=1,  # what the first conditional save leaves
        )
        stamp(partnership, updated)  # updated_at, uk, ck, lpv: as save_reported does
        items.append(partnership)
        school_cohorts.append(
            SchoolCohort(
                school_id=school.id,
                cohort=year,
                induction_programme_choice=FIP,
                active_partnership_id=partnership.id,
                active_lead_provider_id=lp_id,
                opt_out_of_updates=False,
                created_at=created,
                updated_at=created,
            )
        )
        data.partnerships.append(PartnershipRow(partnership.id, lp_id, partner_id, school.id, year))
        school.partnered_cohorts = (school.partnered_cohorts or set()) | {year}
        school.listed = school_repo.LISTED
        if updated > latest.get(index, school.updated_at):
            latest[index] = updated
    for index, at in latest.items():
        school = eligible[index]
        school.updated_at = at
        school.updated_key = school_repo.sort_key(at, school.id)
    partnered = {i for i, _ in pairs}
    data.unpartnered_schools = [s.id for i, s in enumerate(eligible) if i not in partnered]
    rng.shuffle(data.unpartnered_schools)
    data.listed_schools = sum(1 for s in schools if s.listed)
    data.recent_since = data.now - timedelta(days=1)
    return school_cohorts, items
