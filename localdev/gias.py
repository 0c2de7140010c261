"""A generated GIAS establishment extract (docs/reference/ecf-domain.md section 9) for the local stack and tests.

``write_gias_csv(path, count, seed)`` writes ``count`` establishments with the real
extract's 32 columns, ISO-8859-1 encoded, and returns the rows it wrote. The same
``count`` and ``seed`` always give the same file. The mix is realistic rather than
representative: mostly open, English, eligible schools, with enough closed, Welsh,
CIP-only, section 41 and ineligible establishments to exercise every importer rule.

This module imports nothing of the product, so it can be used before the environment
is set up (and by anything that needs a GIAS-shaped file).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ENCODING = "iso-8859-1"

# Copied byte for byte from the real service's sample extract (reference/data/importer-samples/ecf_tech.csv).
HEADER = (
    "URN,LA (code),LA (name),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (code),"
    "TypeOfEstablishment (name),EstablishmentStatus (code),EstablishmentStatus (name),OpenDate,CloseDate,"
    "PhaseOfEducation (code),PhaseOfEducation (name),UKPRN,LastChangedDate,Street,Locality,Address3,Town,Postcode,"
    "SchoolWebsite,MainEmail,AlternativeEmail,Section41Approved (name),DistrictAdministrative (code),"
    "DistrictAdministrative (name),Easting,Northing,PreviousLA (code),PreviousLA (name),OfstedRating (code),"
    "OfstedRating (name)"
)
COLUMNS = tuple(HEADER.split(","))


@dataclass(frozen=True)
class Area:
    la_code: str
    la_name: str
    district_code: str
    district_name: str
    postcode_area: str
    towns: tuple[str, ...]


# Real local authorities and administrative districts (codes as GIAS publishes them).
ENGLISH_AREAS = (
    Area("202", "Camden", "E09000007", "Camden", "NW", ("London",)),
    Area("204", "Hackney", "E09000012", "Hackney", "E", ("London",)),
    Area("206", "Islington", "E09000019", "Islington", "N", ("London",)),
    Area("208", "Lambeth", "E09000022", "Lambeth", "SE", ("London",)),
    Area("210", "Southwark", "E09000028", "Southwark", "SE", ("London",)),
    Area("211", "Tower Hamlets", "E09000030", "Tower Hamlets", "E", ("London",)),
    Area("213", "Westminster", "E09000033", "Westminster", "W", ("London",)),
    Area("301", "Barking and Dagenham", "E09000002", "Barking and Dagenham", "RM", ("Dagenham", "Barking")),
    Area("330", "Birmingham", "E08000025", "Birmingham", "B", ("Birmingham", "Sutton Coldfield")),
    Area("331", "Coventry", "E08000026", "Coventry", "CV", ("Coventry",)),
    Area("352", "Manchester", "E08000003", "Manchester", "M", ("Manchester", "Wythenshawe")),
    Area("356", "Stockport", "E08000007", "Stockport", "SK", ("Stockport", "Bramhall", "Marple")),
    Area("341", "Liverpool", "E08000012", "Liverpool", "L", ("Liverpool",)),
    Area("373", "Sheffield", "E08000019", "Sheffield", "S", ("Sheffield",)),
    Area("380", "Bradford", "E08000032", "Bradford", "BD", ("Bradford", "Keighley", "Ilkley")),
    Area("383", "Leeds", "E08000035", "Leeds", "LS", ("Leeds", "Otley", "Wetherby")),
    Area("384", "Wakefield", "E08000036", "Wakefield", "WF", ("Wakefield", "Pontefract", "Castleford")),
    Area("391", "Newcastle upon Tyne", "E08000021", "Newcastle upon Tyne", "NE", ("Newcastle upon Tyne",)),
    Area("801", "Bristol, City of", "E06000023", "Bristol, City of", "BS", ("Bristol",)),
    Area("810", "Kingston upon Hull, City of", "E06000010", "Kingston upon Hull, City of", "HU", ("Hull",)),
    Area("816", "York", "E06000014", "York", "YO", ("York",)),
    Area("831", "Derby", "E06000015", "Derby", "DE", ("Derby",)),
    Area("840", "County Durham", "E06000047", "County Durham", "DH", ("Durham", "Chester-le-Street", "Consett")),
    Area("851", "Portsmouth", "E06000044", "Portsmouth", "PO", ("Portsmouth", "Southsea")),
    Area("852", "Southampton", "E06000045", "Southampton", "SO", ("Southampton",)),
    Area("856", "Leicester", "E06000016", "Leicester", "LE", ("Leicester",)),
    Area("861", "Stoke-on-Trent", "E06000021", "Stoke-on-Trent", "ST", ("Stoke-on-Trent", "Hanley", "Burslem")),
    Area("879", "Plymouth", "E06000026", "Plymouth", "PL", ("Plymouth",)),
    Area("892", "Nottingham", "E06000018", "Nottingham", "NG", ("Nottingham",)),
    Area("908", "Cornwall", "E06000052", "Cornwall", "TR", ("Truro", "Falmouth", "Penzance", "St Austell")),
    Area("873", "Cambridgeshire", "E07000008", "Cambridge", "CB", ("Cambridge",)),
    Area("873", "Cambridgeshire", "E07000012", "South Cambridgeshire", "CB", ("Bar Hill", "Cambourne", "Sawston")),
    Area("850", "Hampshire", "E07000084", "Basingstoke and Deane", "RG", ("Basingstoke", "Tadley")),
    Area("850", "Hampshire", "E07000094", "Winchester", "SO", ("Winchester", "Alresford")),
    Area("878", "Devon", "E07000041", "Exeter", "EX", ("Exeter",)),
    Area("881", "Essex", "E07000070", "Chelmsford", "CM", ("Chelmsford", "South Woodham Ferrers")),
    Area("886", "Kent", "E07000110", "Maidstone", "ME", ("Maidstone", "Headcorn")),
    Area("886", "Kent", "E07000116", "Tunbridge Wells", "TN", ("Royal Tunbridge Wells", "Cranbrook")),
    Area("888", "Lancashire", "E07000117", "Burnley", "BB", ("Burnley", "Padiham")),
    Area("888", "Lancashire", "E07000123", "Preston", "PR", ("Preston", "Fulwood")),
    Area("919", "Hertfordshire", "E07000240", "St Albans", "AL", ("St Albans", "Harpenden")),
    Area("926", "Norfolk", "E07000148", "Norwich", "NR", ("Norwich",)),
    Area("931", "Oxfordshire", "E07000178", "Oxford", "OX", ("Oxford",)),
    Area("938", "West Sussex", "E07000229", "Worthing", "BN", ("Worthing",)),
)
# GIAS gives "9999" for a few English establishments with no administrative district.
UNKNOWN_DISTRICT = Area("935", "Suffolk", "9999", "", "IP", ("Ipswich", "Bury St Edmunds"))
WELSH_AREAS = (
    Area("681", "Cardiff", "W06000015", "Cardiff", "CF", ("Cardiff",)),
    Area("670", "Swansea", "W06000011", "Swansea", "SA", ("Swansea",)),
    Area("680", "Newport", "W06000022", "Newport", "NP", ("Newport",)),
)

# TypeOfEstablishment (code) -> (name, weight). Weights roughly follow the register's open schools.
TYPES: dict[int, tuple[str, float]] = {
    1: ("Community school", 24),
    2: ("Voluntary aided school", 10),
    3: ("Voluntary controlled school", 6),
    5: ("Foundation school", 4),
    6: ("City technology college", 0.2),
    7: ("Community special school", 3),
    8: ("Non-maintained special school", 0.6),
    10: ("Other independent special school", 2),
    11: ("Other independent school", 6),
    12: ("Foundation special school", 0.5),
    14: ("Pupil referral unit", 1),
    15: ("Local authority nursery school", 1.5),
    18: ("Further education", 1.2),
    24: ("Secure units", 0.2),
    26: ("Service children's education", 0.2),
    28: ("Academy sponsor led", 9),
    29: ("Higher education institutions", 0.4),
    34: ("Academy converter", 22),
    35: ("Free schools", 3),
    36: ("Free schools special", 0.6),
    40: ("University technical college", 0.4),
    41: ("Studio schools", 0.3),
    44: ("Academy special converter", 1.2),
    49: ("Online provider", 0.2),
}
WELSH_TYPE = (30, "Welsh establishment")
ACADEMY_TYPES = frozenset({28, 34, 35, 36, 40, 41, 44})
INDEPENDENT_TYPES = frozenset({10, 11})

STATUS_OPTIONS: tuple[tuple[tuple[int, str], float], ...] = (
    ((1, "Open"), 88),
    ((2, "Closed"), 6),
    ((3, "Open, but proposed to close"), 3),
    ((4, "Proposed to open"), 3),
)
PHASES = {
    0: "Not applicable",
    1: "Nursery",
    2: "Primary",
    3: "Middle deemed primary",
    4: "Secondary",
    5: "Middle deemed secondary",
    6: "16 plus",
    7: "All-through",
}
OFSTED = (("1", "Outstanding"), ("2", "Good"), ("3", "Requires improvement"), ("4", "Serious Weaknesses"))

PLACES = (
    "Abbey",
    "Alder",
    "Ashfield",
    "Beech Hill",
    "Bishopsgate",
    "Bramley",
    "Brookside",
    "Castle",
    "Cedars",
    "Chestnut Grove",
    "Church Hill",
    "Coppice",
    "Crossways",
    "Eastfield",
    "Elm Park",
    "Fairfield",
    "Fernhill",
    "Forest Gate",
    "Glebe",
    "Greenacre",
    "Grove",
    "Hawthorn",
    "Heathside",
    "Highfield",
    "Hillcrest",
    "Holly Bank",
    "Kingsmead",
    "Lakeside",
    "Larkrise",
    "Linden",
    "Longmoor",
    "Manor",
    "Meadowbank",
    "Millbrook",
    "Moorside",
    "Northfield",
    "Oakwood",
    "Orchard",
    "Parkside",
    "Priory",
    "Queensbridge",
    "Ravenscroft",
    "Redbrook",
    "Riverside",
    "Rosehill",
    "Sandringham",
    "Southfields",
    "Springfield",
    "Stoneleigh",
    "Thornbury",
    "Valley",
    "Westfield",
    "Whitehall",
    "Willowbrook",
    "Windmill Hill",
    "Woodlands",
    "Yew Tree",
)
SAINTS = (
    "St Mary's",
    "St John's",
    "St Peter's",
    "St Paul's",
    "St Andrew's",
    "St Anne's",
    "St Joseph's",
    "St Michael's",
    "St Thomas More",
    "Holy Trinity",
    "Christ Church",
    "St Bede's",
    "Our Lady's",
)
# Names with Latin-1 letters: the extract is ISO-8859-1, so these must survive the round trip.
# (A curly apostrophe is not ISO-8859-1 at all, so GIAS-style names use the straight one.)
ACCENTED_NAMES = (
    "St Thérèse of Lisieux Catholic Primary School",
    "École Française Jacques Prévert",
    "Brontë Academy",
    "Lycée International de Londres Winston Churchill",
    "St Clément's Church of England Primary School",
    "Crème de la Crème Montessori Nursery School",
    "Our Lady of Fátima Catholic Primary School",
)
STREETS = (
    "Church Lane",
    "High Street",
    "Station Road",
    "School Lane",
    "Mill Road",
    "Park Avenue",
    "Victoria Road",
    "Queen's Road",
    "Manor Way",
    "Green Lane",
    "North Street",
    "London Road",
    "Chapel Street",
    "Westfield Road",
    "The Crescent",
    "Grange Road",
    "Broad Walk",
    "Orchard Close",
    "Meadow Drive",
    "Windsor Road",
)
LOCALITIES = ("", "", "", "Upper Town", "Westgate", "Kingsway", "Old Town", "Southgate", "Harbour Side")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


NURSERY_TYPE = 15  # Local authority nursery school
INDEPENDENT_SPECIAL_TYPE = 10
FAITH_TYPES = frozenset({2, 3})  # voluntary aided and controlled: church schools
SPECIAL_TYPES = frozenset({7, 12, 36, 44})
OTHER_PROVISION_TYPES = frozenset({24, 26, 29, 49})  # secure units, service children's, HE, online
# Types whose name takes one form, over the place (one of PLACES or the town) and the town.
FIXED_NAMES = {
    14: "{town} Pupil Referral Unit",
    NURSERY_TYPE: "{place} Nursery School",
    18: "{town} College",
    40: "{town} University Technical College",
    41: "{place} Studio School",
}
SECONDARY_PHASE = 4
CLOSED_STATUS = 2
PROPOSED_TO_OPEN_STATUS = 4

# How often a row has something: the share of rows (or of the rows it applies to) drawn below the value.
WELSH_SHARE = 0.03
WELSH_WITH_ENGLISH_TYPE_SHARE = 0.3  # of the Welsh rows
UNKNOWN_DISTRICT_BELOW = 0.045  # the roll below which an English row has no district (1.5% of the rows)
ACADEMY_FAITH_SHARE = 0.15
SECTION41_APPROVED_SHARE = 0.2  # of the independent schools
OFSTED_RATED_SHARE = 0.9
UKPRN_SHARE = 0.8
STREET_NUMBER_SHARE = 0.5
WEBSITE_SHARE = 0.85
MAIN_EMAIL_SHARE = 0.95
ALTERNATIVE_EMAIL_SHARE = 0.4


def _weighted[T](rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    values = [value for value, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(values, weights=weights, k=1)[0]


def _phase(rng: random.Random, type_code: int, name_hint: str) -> int:
    if type_code == NURSERY_TYPE or "Nursery" in name_hint:
        return 1
    if type_code in (18, 29):
        return 6
    if type_code in (7, 8, 10, 12, 14, 24, 26, 36, 44, 49):
        return 0
    if type_code in (40, 41):
        return 4
    return _weighted(rng, ((2, 70), (4, 20), (7, 4), (3, 2), (5, 2), (6, 2)))


def _name(rng: random.Random, type_code: int, phase: int, town: str) -> str:
    place = rng.choice((*PLACES, town))
    if type_code in FIXED_NAMES:
        return FIXED_NAMES[type_code].format(place=place, town=town)
    if type_code in INDEPENDENT_TYPES:
        return rng.choice(
            (f"{place} House School", f"{place} Preparatory School", f"{town} Grammar School", f"{place} College")
        ) + (" (Independent Special)" if type_code == INDEPENDENT_SPECIAL_TYPE else "")
    if type_code in SPECIAL_TYPES:
        return rng.choice((f"{place} Special School", f"{place} School", f"{place} Academy"))
    if type_code in OTHER_PROVISION_TYPES:
        return f"{place} {rng.choice(('Secure Centre', 'Service School', 'Institute', 'Online School'))}"
    if type_code == WELSH_TYPE[0]:
        return rng.choice((f"Ysgol Gynradd {place}", f"Ysgol {place}", f"{place} Primary School"))
    return _school_name(rng, type_code, phase, place, town)


def _school_name(rng: random.Random, type_code: int, phase: int, place: str, town: str) -> str:
    """A mainstream school's name: primary or secondary, some of them church schools."""
    if phase == SECONDARY_PHASE:
        stem = rng.choice((f"{place} High School", f"{place} Community College", f"{place} School", f"{town} Academy"))
    else:
        stem = rng.choice(
            (
                f"{place} Primary School",
                f"{place} Infant School",
                f"{place} Junior School",
                f"{place} Community Primary School",
                f"{place} Primary Academy",
            )
        )
    if type_code in FAITH_TYPES or (type_code in ACADEMY_TYPES and rng.random() < ACADEMY_FAITH_SHARE):
        saint = rng.choice(SAINTS)
        faith = rng.choice(("Church of England", "Catholic", "CofE"))
        stem = f"{saint} {faith} {'Primary School' if phase != SECONDARY_PHASE else 'High School'}"
    return stem


def _slug(name: str) -> str:
    ascii_only = name.encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in ascii_only if ch.isalnum())[:30] or "school"


def _postcode(rng: random.Random, area: str) -> str:
    return f"{area}{rng.randint(1, 28)} {rng.randint(1, 9)}{rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}"


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class _Establishment:
    """What a row says about the establishment itself, before its contact details."""

    area: Area
    type_code: int
    type_name: str
    status_code: int
    status_name: str
    town: str
    phase: int
    name: str
    urn: int
    opened: date
    closed: str


def generate_rows(count: int, seed: int = 2024) -> list[dict[str, str]]:
    """``count`` establishments as CSV rows (column name -> text), deterministic for a seed.

    Each row draws from one generator in a fixed order (kind, status, town, phase and name, URN, dates, then
    the columns left to right), so the same ``count`` and ``seed`` always give the same rows."""
    rng = random.Random(seed)
    used_urns: set[int] = set()
    type_options = [(code, weight) for code, (_, weight) in TYPES.items()]
    step = max(1, count // len(ACCENTED_NAMES))
    accented_at = {(i * step + step // 2) % max(count, 1): i for i in range(len(ACCENTED_NAMES))}
    rows: list[dict[str, str]] = []
    for index in range(count):
        accented = ACCENTED_NAMES[accented_at[index]] if index in accented_at else None
        establishment = _establishment(rng, type_options, used_urns, first=index == 0, accented=accented)
        rows.append(_row(rng, establishment))
    return rows


def _establishment(
    rng: random.Random,
    type_options: Sequence[tuple[int, float]],
    used_urns: set[int],
    *,
    first: bool,
    accented: str | None,
) -> _Establishment:
    """The next establishment; the first is open, and ``accented`` replaces the generated name."""
    area, type_code, type_name = _kind(rng, type_options)
    status_code, status_name = (1, "Open") if first else _weighted(rng, STATUS_OPTIONS)
    town = rng.choice(area.towns)
    phase = _phase(rng, type_code, "")
    name = _name(rng, type_code, phase, town)
    if accented is not None:
        name = accented
        phase = _phase(rng, type_code, name)
    urn = _urn(rng, type_code, used_urns)
    opened, closed = _dates(rng, type_code, status_code)
    return _Establishment(area, type_code, type_name, status_code, status_name, town, phase, name, urn, opened, closed)


def _kind(rng: random.Random, type_options: Sequence[tuple[int, float]]) -> tuple[Area, int, str]:
    """(area, type code, type name): mostly English, a few Welsh rows, a few English ones with no district."""
    roll = rng.random()
    if roll < WELSH_SHARE:
        area = rng.choice(WELSH_AREAS)
        # A few Welsh rows carry an eligible English type: still out of scope.
        if rng.random() < WELSH_WITH_ENGLISH_TYPE_SHARE:
            return area, 1, TYPES[1][0]
        return area, WELSH_TYPE[0], WELSH_TYPE[1]
    area = UNKNOWN_DISTRICT if roll < UNKNOWN_DISTRICT_BELOW else rng.choice(ENGLISH_AREAS)
    type_code = _weighted(rng, type_options)
    return area, type_code, TYPES[type_code][0]


def _urn(rng: random.Random, type_code: int, used_urns: set[int]) -> int:
    """A URN not used yet, in the academies' range or the others'; once both are taken, anywhere in 100000-159999."""
    low, high = (136000, 149999) if type_code in ACADEMY_TYPES else (100000, 135999)
    urn = rng.randint(low, high)
    while urn in used_urns:
        urn = rng.randint(100000, 159999)
    used_urns.add(urn)
    return urn


def _dates(rng: random.Random, type_code: int, status_code: int) -> tuple[date, str]:
    """(OpenDate, CloseDate as text): academies opened since 2010, closed ones before September 2026, and those
    proposed to open after it."""
    opened = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 72))
    if type_code in ACADEMY_TYPES:
        opened = date(2010, 9, 1) + timedelta(days=rng.randint(0, 365 * 14))
    closed = ""
    if status_code == CLOSED_STATUS:
        closed = _day(min(opened + timedelta(days=rng.randint(400, 365 * 30)), date(2026, 8, 31)))
    if status_code == PROPOSED_TO_OPEN_STATUS:
        opened = date(2026, 9, 1) + timedelta(days=rng.randint(0, 365))
    return opened, closed


def _row(rng: random.Random, school: _Establishment) -> dict[str, str]:
    """The establishment's CSV row, its remaining columns drawn left to right."""
    area = school.area
    domain = f"{_slug(school.name)}.{_slug(area.la_name)}.example.org"
    section41 = "Not applicable"
    if school.type_code in INDEPENDENT_TYPES:
        section41 = "Approved" if rng.random() < SECTION41_APPROVED_SHARE else "Not approved"
    ofsted_code, ofsted_name = rng.choice(OFSTED) if rng.random() < OFSTED_RATED_SHARE else ("99", "")
    return {
        "URN": str(school.urn),
        "LA (code)": area.la_code,
        "LA (name)": area.la_name,
        "EstablishmentNumber": str(rng.randint(1000, 7999)),
        "EstablishmentName": school.name,
        "TypeOfEstablishment (code)": str(school.type_code),
        "TypeOfEstablishment (name)": school.type_name,
        "EstablishmentStatus (code)": str(school.status_code),
        "EstablishmentStatus (name)": school.status_name,
        "OpenDate": _day(school.opened),
        "CloseDate": school.closed,
        "PhaseOfEducation (code)": str(school.phase),
        "PhaseOfEducation (name)": PHASES[school.phase],
        "UKPRN": str(10000000 + rng.randint(0, 99999)) if rng.random() < UKPRN_SHARE else "",
        "LastChangedDate": _day(date(2024, 1, 1) + timedelta(days=rng.randint(0, 1000))),
        "Street": _street(rng),
        "Locality": rng.choice(LOCALITIES),
        "Address3": "",
        "Town": school.town,
        "Postcode": _postcode(rng, area.postcode_area),
        "SchoolWebsite": f"https://www.{domain}" if rng.random() < WEBSITE_SHARE else "",
        "MainEmail": f"office@{domain}" if rng.random() < MAIN_EMAIL_SHARE else "",
        "AlternativeEmail": f"head@{domain}" if rng.random() < ALTERNATIVE_EMAIL_SHARE else "",
        "Section41Approved (name)": section41,
        "DistrictAdministrative (code)": area.district_code,
        "DistrictAdministrative (name)": area.district_name,
        "Easting": str(rng.randint(150000, 655000)),
        "Northing": str(rng.randint(20000, 650000)),
        "PreviousLA (code)": "999",
        "PreviousLA (name)": "",
        "OfstedRating (code)": ofsted_code,
        "OfstedRating (name)": ofsted_name,
    }


def _street(rng: random.Random) -> str:
    return f"{rng.randint(1, 200)} {rng.choice(STREETS)}" if rng.random() < STREET_NUMBER_SHARE else rng.choice(STREETS)


def write_gias_csv(path: str | Path, count: int, seed: int = 2024) -> list[dict[str, str]]:
    """Write a deterministic ``count``-row GIAS extract (ISO-8859-1, like the real sample). Returns the rows."""
    rows = generate_rows(count, seed)
    buffer = io.StringIO()
    buffer.write(HEADER + "\n")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writerows(rows)
    Path(path).write_bytes(buffer.getvalue().encode(ENCODING))  # strict: a non-Latin-1 name is a bug here
    return rows
