"""``make bench``: load realistic data into in-process moto, then measure the API through Chalice's test client.

For each request: the DynamoDB requests it makes (by operation) and its
median and 95th-percentile wall time in this process. Prints a Markdown
report, writes it to ``bench/results/latest.md`` and ends with the request
budget checks (PASS/FAIL); with ``BENCH_STRICT=1`` it exits 1 when a budget fails.

Environment: ``BENCH_SCALE`` (default 1.0: 25,000 schools, 3,000 partnerships),
``BENCH_REPS`` (most repetitions per row, default 40), ``BENCH_WRITE_REPS``
(POST/PUT, default 12), ``BENCH_ROW_SECONDS`` (after 3 repetitions a row stops
once it has run this long, default 20), ``BENCH_OUT`` (report path),
``BENCH_STRICT=1`` (exit 1 when a budget fails).

Times are in-process moto, not DynamoDB: moto scans and sorts a whole table
for every index query and copies every table a transaction touches, so times
grow with table size where DynamoDB's would not. The request counts are what
carries over to AWS (see the notes the report prints).
"""

from __future__ import annotations

# isort: off
import bench  # noqa: F401 - first: fake credentials and the test stage before moto or the app

# isort: on
import contextlib
import itertools
import json
import math
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from moto import mock_aws

from bench import feed
from bench.counting import RequestCount, count_requests
from bench.load import Dataset, Scale, fresh_tables, index_pages_sized_as_on_aws, load, without_transaction_snapshots
from bench.sync import SyncWalk, run_full_syncs, run_sync_pages, sync_report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.md"
FIRST_PAGE_BUDGET = 3
KEYS_PER_REQUEST = 10_000  # the deep-page rule: at most one more request per this many keys skipped
JSONAPI = "application/vnd.api+json"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _nproc() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Row:
    name: str
    request: str
    times: list[float] = field(default_factory=list)
    counts: list[RequestCount] = field(default_factory=list)
    note: str = ""
    budget: str = ""  # "first-page" rows are checked against FIRST_PAGE_BUDGET
    extra: bool = False  # a labelled extra row (moto behaviour changed), not a main figure

    @property
    def reps(self) -> int:
        return len(self.times)

    def typical(self) -> RequestCount:
        """The most common breakdown across repetitions."""
        by_text = Counter(str(c) for c in self.counts)
        text = by_text.most_common(1)[0][0]
        return next(c for c in self.counts if str(c) == text)

    def totals(self) -> str:
        totals = sorted({c.total for c in self.counts})
        return str(totals[0]) if len(totals) == 1 else f"{totals[0]}-{totals[-1]}"

    def without_auth(self) -> int:
        return max(_api_requests(c) for c in self.counts)

    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    def app_median_ms(self) -> float:
        """Median wall time outside DynamoDB calls: routing, auth, services, (de)serialisation."""
        return statistics.median(t - c.seconds for t, c in zip(self.times, self.counts, strict=True)) * 1000

    def p95_ms(self) -> float:
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000


def _api_requests(counts: RequestCount) -> int:
    """Requests other than the token lookup/touch (the cold-auth cost, reported apart)."""
    from chalicelib.repositories.seed import tokens_table

    tokens = (tokens_table(),)
    return sum(1 for call in counts.calls if call.tables != tokens)


class Bench:
    def __init__(self, data: Dataset, client: Any, row_seconds: float):
        self.data = data
        self.row_seconds = row_seconds
        self.client = client
        self.rows: list[Row] = []
        self.lp = data.largest_lead_provider
        self.headers = self.auth(data.tokens[self.lp])

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": JSONAPI, "Content-Type": JSONAPI}

    def measure(
        self,
        name: str,
        request: str,
        call: Callable[[int], Any],
        reps: int,
        *,
        status: int = 200,
        warm: bool = True,
        min_reps: int = 3,
        before: Callable[[int], None] | None = None,
        **row_fields: Any,
    ) -> Row:
        """Run ``call(i)`` up to ``reps`` times, counting and timing each.

        One unmeasured warm-up call first (unless ``warm`` is false). After
        ``min_reps`` the row stops once it has used its time budget; a row so
        slow that two repetitions take three budgets stops at two.
        """
        row = Row(name, request, **row_fields)
        if warm:
            if before:
                before(-1)
            self._check(call(-1), status, name)
        started = time.perf_counter()
        for i in range(reps):
            elapsed = time.perf_counter() - started
            if (i >= min_reps and elapsed > self.row_seconds) or (i >= 2 and elapsed > 3 * self.row_seconds):
                break
            if before:
                before(i)
            with count_requests() as counts:
                t0 = time.perf_counter()
                response = call(i)
                row.times.append(time.perf_counter() - t0)
            self._check(response, status, name)
            row.counts.append(counts)
        _say(
            f"  {name}: {row.typical()} | median {row.median_ms():.1f} ms, p95 {row.p95_ms():.1f} ms, "
            f"outside DynamoDB calls {row.app_median_ms():.1f} ms ({row.reps} in {time.perf_counter() - started:.1f} s)"
        )
        self.rows.append(row)
        return row

    @staticmethod
    def _check(response: Any, status: int, name: str) -> None:
        if response.status_code != status:
            raise SystemExit(f"{name}: HTTP {response.status_code} (wanted {status}): {response.body[:500]!r}")

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.http.get(path, headers=headers or self.headers)


def _school_scenarios(bench_: Bench, reps: int, facts: dict[str, Any]) -> None:
    from chalicelib.repositories import cohorts as cohort_repo

    data = bench_.data
    get = bench_.get
    schools = "/api/v3/schools/ecf?filter[cohort]=2025"

    bench_.measure("GET schools, first page", schools, lambda _i: get(schools), reps, budget="first-page")
    bench_.measure(
        "GET schools, first page, cold cohort cache",
        schools,
        lambda _i: get(schools),
        reps,
        before=lambda _i: cohort_repo.clear_cache(),
        note="the cohort list is read once per REFERENCE_CACHE_SECONDS per process",
    )
    deep_page = min(200, max(2, data.listed_schools // 100 - 10))
    skipped = (deep_page - 1) * 100
    facts["skipped"] = skipped
    deep = f"{schools}&page[page]={deep_page}&page[per_page]=100"
    deep_note = f"{skipped:,} keys skipped"
    bench_.measure(f"GET schools, page {deep_page}", deep, lambda _i: get(deep), reps, warm=False, note=deep_note)
    with index_pages_sized_as_on_aws():
        bench_.measure(
            f"GET schools, page {deep_page} [AWS page sizing]",
            deep,
            lambda _i: get(deep),
            reps,
            warm=False,
            budget="deep-page:GET schools, first page:skipped",
            extra=True,
            note=f"{deep_note}; EXTRA: moto pages sized on index entries, as DynamoDB does",
        )
    by_urn = f"{schools}&filter[urn]={data.sample_urn}"
    bench_.measure("GET schools, filter[urn]", by_urn, lambda _i: get(by_urn), reps, budget="first-page")
    assert data.recent_since is not None
    recent = f"{schools}&filter[updated_since]={_iso(data.recent_since)}"
    bench_.measure(
        "GET schools, filter[updated_since] last day",
        recent,
        lambda _i: get(recent),
        reps,
        budget="first-page",
        note="default sort (created_at)",
    )
    wide = f"{schools}&filter[updated_since]={_iso(data.now - timedelta(days=5 * 365))}"
    wide_note = "every school matches; default sort (created_at): all matching keys are read, then sorted"
    bench_.measure(
        "GET schools, filter[updated_since] 5 years ago", wide, lambda _i: get(wide), reps, warm=False, note=wide_note
    )
    with index_pages_sized_as_on_aws():
        bench_.measure(
            "GET schools, filter[updated_since] 5 years ago [AWS page sizing]",
            wide,
            lambda _i: get(wide),
            reps,
            warm=False,
            budget="first-page",
            extra=True,
            note=f"{wide_note}; EXTRA: moto pages sized on index entries",
        )
    wide_sorted = f"{wide}&sort=updated_at"
    bench_.measure(
        "GET schools, filter[updated_since] 5 years ago, sort=updated_at",
        wide_sorted,
        lambda _i: get(wide_sorted),
        reps,
        budget="first-page",
        note="index order: reads one page",
    )


def run_scenarios(bench_: Bench, reps: int, write_reps: int) -> dict[str, Any]:
    from chalicelib.services import tokens

    data = bench_.data
    get = bench_.get
    facts: dict[str, Any] = {}
    _school_scenarios(bench_, reps, facts)
    dps = "/api/v3/delivery-partners"
    bench_.measure("GET delivery-partners", dps, lambda _i: get(dps), reps, budget="first-page")
    partnerships = "/api/v3/partnerships/ecf"
    own = data.partnerships_of(bench_.lp)
    bench_.measure(
        "GET partnerships, first page",
        partnerships,
        lambda _i: get(partnerships),
        reps,
        budget="first-page",
        note=f"largest LP: {len(own):,} partnerships",
    )
    bench_.measure(
        "GET partnerships/{id}",
        f"{partnerships}/{{id}}",
        lambda i: get(f"{partnerships}/{own[i % len(own)].id}"),
        reps,
    )

    # Writes. POST reports a school nobody has partnered; PUT moves a partnership to another partner.
    targets = iter(data.unpartnered_schools)
    partners = data.delivery_partners[bench_.lp]

    def post(_i: int) -> Any:
        attributes = {"cohort": "2025", "school_id": next(targets), "delivery_partner_id": partners[0]}
        body = {"data": {"type": "ecf-partnership", "attributes": attributes}}
        return bench_.client.http.post(partnerships, headers=bench_.headers, body=json.dumps(body))

    # Round and round at small scales (BENCH_SCALE=0.02 has fewer rows than the repetitions): each PUT still moves
    # its row to another partner.
    moved = itertools.cycle(own[len(own) // 2 :])

    def put(_i: int) -> Any:
        row = next(moved)
        new_partner = next(p for p in partners if p != row.delivery_partner_id)
        body = {"data": {"type": "ecf-partnership-update", "attributes": {"delivery_partner_id": new_partner}}}
        return bench_.client.http.put(f"{partnerships}/{row.id}", headers=bench_.headers, body=json.dumps(body))

    bench_.measure("POST partnerships", partnerships, post, write_reps, note="new school each time")
    bench_.measure("PUT partnerships/{id}", f"{partnerships}/{{id}}", put, write_reps, note="change delivery partner")
    with without_transaction_snapshots():
        bench_.measure(
            "POST partnerships [moto snapshot off]",
            partnerships,
            post,
            write_reps,
            note="EXTRA: moto's deep copy of every table a transaction touches patched out",
            extra=True,
        )

    # Cold auth: a token's first use (lookup + last-used write), and a used token after the cache expires (lookup).
    lp_name = next(name for name, lp_id in data.lead_providers.items() if lp_id == bench_.lp)
    fresh: list[str] = []

    def new_token(_i: int) -> None:
        fresh.append(tokens.create_token(lp_name, data.now).token)

    bench_.measure(
        "GET delivery-partners, cold auth: new token",
        dps,
        lambda _i: get(dps, bench_.auth(fresh[-1])),
        reps,
        before=new_token,
        note="first use: token GetItem + last_used_at UpdateItem",
    )
    bench_.measure(
        "GET delivery-partners, cold auth: cache expired",
        dps,
        lambda _i: get(dps),
        reps,
        before=lambda _i: tokens.clear_cache(),
        note="token GetItem (used within the hour: no write)",
    )
    return facts


LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024  # bytes: a synchronous Lambda response (and so the API) cannot be larger
DEFER_BODY = {
    "data": {
        "type": "participant-defer",
        "attributes": {"reason": "career-break", "course_identifier": "ecf-induction"},
    }
}


def run_participant_scenarios(bench_: Bench, reps: int, write_reps: int, facts: dict[str, Any]) -> None:
    data = bench_.data
    people = data.participants
    if people is None:
        return
    get = bench_.get
    visible = people.by_lead_provider.get(bench_.lp, [])
    ects = people.ects_by_lead_provider.get(bench_.lp, [])
    facts["participants_visible"] = len(visible)
    base = "/api/v3/participants/ecf"
    note = f"largest LP: {len(visible):,} visible participants of {people.count:,}"
    first = f"{base}?page[per_page]=100"
    bench_.measure("GET participants, first page", first, lambda _i: get(first), reps, budget="first-page", note=note)
    big = f"{base}?page[per_page]=2000"
    sizes: list[int] = []

    def big_page(_i: int) -> Any:
        response = get(big)
        sizes.append(len(response.body))
        return response

    bench_.measure("GET participants, per_page=2000", big, big_page, reps, note="page of 2,000: see the size check")
    facts["participants_page_bytes"] = max(sizes)
    deep_page = min(100, max(2, len(visible) // 100 - 1))
    deep = f"{base}?page[page]={deep_page}&page[per_page]=100"
    bench_.measure(
        f"GET participants, page {deep_page}",
        deep,
        lambda _i: get(deep),
        reps,
        warm=False,
        note=f"{(deep_page - 1) * 100:,} keys skipped",
    )
    assert data.recent_since is not None
    recent = f"{base}?filter[updated_since]={_iso(data.recent_since)}"
    bench_.measure(
        "GET participants, filter[updated_since] last day",
        recent,
        lambda _i: get(recent),
        reps,
        note=f"default sort (created_at); {people.recent:,} participants onboarded in the last day (all LPs)",
    )
    v1 = "/api/v1/participants/ecf"
    bench_.measure("GET v1 participants, first page", v1, lambda _i: get(v1), reps, note="flat rows, default per_page")
    bench_.measure(
        "GET participants/{id}",
        f"{base}/{{id}}",
        lambda i: get(f"{base}/{visible[i % len(visible)]}"),
        reps,
    )
    deferred = iter(ects[len(ects) // 2 :])

    def defer(_i: int) -> Any:
        return bench_.client.http.put(
            f"{base}/{next(deferred)}/defer", headers=bench_.headers, body=json.dumps(DEFER_BODY)
        )

    bench_.measure(
        "PUT participants/{id}/defer",
        f"{base}/{{id}}/defer",
        defer,
        write_reps,
        note="a different ECT each time: profile + state transaction, read model re-projected",
    )


DECLARATIONS_PAGE_KEYS = 100


def run_declaration_scenarios(bench_: Bench, reps: int, write_reps: int, facts: dict[str, Any]) -> None:
    data = bench_.data
    found = data.declarations
    if found is None or found.lead_provider_id != bench_.lp:
        return
    get = bench_.get
    base = "/api/v3/participant-declarations"
    note = f"largest LP: {found.count:,} declarations"
    bench_.measure("GET declarations, first page", base, lambda _i: get(base), reps, budget="first-page", note=note)
    v1 = "/api/v1/participant-declarations"
    bench_.measure("GET v1 declarations, first page", v1, lambda _i: get(v1), reps, budget="first-page", note=note)
    deep_page = min(500, max(2, found.count // DECLARATIONS_PAGE_KEYS - 1))
    skipped = (deep_page - 1) * DECLARATIONS_PAGE_KEYS
    facts["declarations_skipped"] = skipped
    deep = f"{base}?page[page]={deep_page}&page[per_page]={DECLARATIONS_PAGE_KEYS}"
    deep_name = f"GET declarations, page {deep_page}"
    bench_.measure(deep_name, deep, lambda _i: get(deep), reps, warm=False, note=f"{skipped:,} keys skipped")
    with index_pages_sized_as_on_aws():
        bench_.measure(
            f"{deep_name} [AWS page sizing]",
            deep,
            lambda _i: get(deep),
            reps,
            warm=False,
            budget="deep-page:GET declarations, first page:declarations_skipped",
            extra=True,
            note=f"{skipped:,} keys skipped; EXTRA: moto pages sized on index entries, as DynamoDB does",
        )
    ids = found.sample_ids
    bench_.measure("GET declarations/{id}", f"{base}/{{id}}", lambda i: get(f"{base}/{ids[i % len(ids)]}"), reps)
    statements = "/api/v3/statements"
    bench_.measure("GET statements", statements, lambda _i: get(statements), reps, budget="first-page")
    assert found.target is not None
    one = f"{statements}/{found.target.id}"
    bench_.measure("GET statements/{id}", f"{statements}/{{id}}", lambda _i: get(one), reps)

    targets = iter(found.post_targets)
    day = _iso(data.now - timedelta(days=1))

    def post(_i: int) -> Any:
        user_id, course, declaration_type = next(targets)
        attributes = {
            "participant_id": user_id,
            "declaration_type": declaration_type,
            "declaration_date": day,
            "course_identifier": course,
            "evidence_held": "75-percent-engagement-met",
        }
        body = {"data": {"type": "participant-declaration", "attributes": attributes}}
        return bench_.client.http.post(base, headers=bench_.headers, body=json.dumps(body))

    bench_.measure(
        "POST participant-declarations",
        base,
        post,
        write_reps,
        budget="post-declaration",
        note="a different participant each time; eligible, attached to the next output-fee statement",
    )
    with without_transaction_snapshots():
        bench_.measure(
            "POST participant-declarations [moto snapshot off]",
            base,
            post,
            write_reps,
            note="EXTRA: moto's deep copy of every table a transaction touches patched out",
            extra=True,
        )


@dataclass
class FinanceRun:
    name: str
    command: str
    lines: int
    counts: RequestCount
    seconds: float
    note: str = ""

    @property
    def writes(self) -> int:
        return self.counts.writes

    @property
    def reads(self) -> int:
        return self.counts.reads


def run_finance(bench_: Bench, out: list[FinanceRun]) -> list[FinanceRun]:
    """The statement with ``statement_lines`` eligible declarations: its CSV, then mark-payable and authorise,
    through the admin CLI (as staff run them). Each is measured once per state (they change the data)."""
    import io
    import tempfile

    from admin.cli import run as admin

    found = bench_.data.declarations
    if found is None or found.target is None:
        return out
    statement = found.target
    now = bench_.data.now

    def cli(name: str, argv: list[str], note: str, *, snapshots: bool = True) -> None:
        stdout, stderr = io.StringIO(), io.StringIO()
        context = contextlib.nullcontext() if snapshots else without_transaction_snapshots()
        with context, count_requests() as counts:
            t0 = time.perf_counter()
            status = admin(argv, stdout, stderr, configure=False, now=now)
            seconds = time.perf_counter() - t0
        if status != 0:
            raise SystemExit(f"{name}: exit {status}: {stderr.getvalue().strip()}")
        shown = ["FILE" if arg.endswith(".csv") else "STATEMENT_ID" if arg == statement.id else arg for arg in argv]
        run = FinanceRun(name, "ecf-admin " + " ".join(shown), found.target_lines, counts, seconds, note)
        _say(f"  {name}: reads {run.reads}, writes {run.writes} ({counts}); {seconds:.1f} s")
        out.append(run)

    with tempfile.TemporaryDirectory() as folder:
        csv_path = str(Path(folder) / "declarations.csv")
        csv_args = ["finance", "declarations-csv", statement.id, "--output", csv_path]
        cli(
            "declarations CSV (open statement)",
            csv_args,
            "rows by participant name, with delivery partner and lead provider; streamed a page at a time",
        )
        cli(
            "mark payable",
            ["finance", "statements", "mark-payable", "--statement", statement.id],
            "eligible → payable: line pages, BatchGets, transactions of 25 declarations; moto snapshot off",
            snapshots=False,
        )
        cli(
            "authorise for payment",
            ["finance", "statements", "authorise", statement.id],
            "payable → paid, then the statement; moto snapshot off",
            snapshots=False,
        )
        cli("statement totals", ["finance", "statements", "show", statement.id], "totals by type and state")
        cli("declarations CSV (paid statement)", csv_args, "the same file after payment")
    return out


@dataclass
class Migration:
    name: str
    participants: int
    moved: int
    counts: RequestCount
    seconds: float
    note: str = ""

    @property
    def writes(self) -> int:
        return self.counts.writes

    def write_detail(self) -> str:
        return self.counts.write_detail()


def run_migrations(bench_: Bench, size: int, out: list[Migration]) -> list[Migration]:
    """induction.change_partnership for a school cohort of ``size`` participants: onboarded unpartnered, and
    onboarded under a partnership that was then challenged. Set up through the services (programme choice,
    partnership reports, challenge); the participants are batch-loaded as add_participant leaves them."""
    import random

    from bench.onboarding import onboard_school_cohort
    from chalicelib.repositories import partnerships as partnership_repo
    from chalicelib.repositories import schools as school_repo
    from chalicelib.services import induction
    from chalicelib.services import partnerships as partnership_service
    from chalicelib.services import schools as school_service

    data = bench_.data
    rng = random.Random(7)
    now = data.now
    spare = list(reversed(data.unpartnered_schools))  # POST partnerships takes from the front
    other_lp = next(lp for lp in data.lead_providers.values() if lp != bench_.lp)
    cohort = 2025

    def report(lp: str, school_id: str) -> str:
        partner = data.delivery_partners[lp][0]
        attributes = {"cohort": str(cohort), "school_id": school_id, "delivery_partner_id": partner}
        return partnership_service.create_partnership(lp, attributes, now).id

    def migrate(name: str, school_id: str, note: str) -> None:
        partnership_id = report(bench_.lp, school_id)
        # moto copies every table a transaction touches (here the 50,000-profile table, once per transaction),
        # which says nothing about DynamoDB: the migration runs with that copy patched out. Counts are unaffected.
        with without_transaction_snapshots(), count_requests() as counts:
            t0 = time.perf_counter()
            result = induction.change_partnership(partnership_id, now)
            seconds = time.perf_counter() - t0
        migration = Migration(name, size, len(result.users), counts, seconds, note)
        _say(
            f"  {name}: {len(result.users)} participants; writes {migration.writes} ({migration.write_detail()}); "
            f"all requests {counts.total} ({counts}); {seconds:.1f} s"
        )
        out.append(migration)

    # 1. Onboarded while the school cohort had no partnership: the default programme gets the partnership.
    school = data.schools_by_id[spare[0]]
    school_service.set_programme_choice(school.urn, cohort, "provider_led", now - timedelta(days=3))
    school_cohort = school_repo.find_school_cohort(school.id, cohort)
    assert school_cohort is not None
    onboard_school_cohort(rng, school, school_cohort, size, now - timedelta(days=2), None)
    migrate(
        f"{size} participants, school cohort unpartnered",
        school.id,
        "default programme gains the partnership; participants re-projected",
    )

    # 2. Onboarded under another provider's partnership, which the school then challenged.
    school = data.schools_by_id[spare[1]]
    school_service.set_programme_choice(school.urn, cohort, "provider_led", now - timedelta(days=3))
    first_id = report(other_lp, school.id)
    school_cohort = school_repo.find_school_cohort(school.id, cohort)
    first = partnership_repo.find_partnership(first_id)
    assert school_cohort is not None
    assert first is not None
    onboard_school_cohort(rng, school, school_cohort, size, now - timedelta(days=2), first)
    partnership_service.challenge_partnership(first_id, "another_provider", now, ignore_deadline=True)
    migrate(
        f"{size} participants, previous partnership challenged",
        school.id,
        f"records move in transactions of {induction.TX_PROFILES} profiles to a new programme; both providers' "
        "views re-projected",
    )
    return out


POST_DECLARATION_BUDGET = 20  # requests: POST reads a fixed set of items (no list grows with the data)
FINANCE_READS_PER_100 = 5  # CSV and transitions: reads per 100 lines (pages of 1,000, BatchGets of 100)
FINANCE_FIXED = 10


def budget_checks(
    rows: list[Row], facts: dict[str, Any], finance: list[FinanceRun] | None = None
) -> list[tuple[bool, str]]:
    checks: list[tuple[bool, str]] = []
    if "participants_page_bytes" in facts:
        size = facts["participants_page_bytes"]
        checks.append(
            (
                size < LAMBDA_RESPONSE_LIMIT,
                f"GET participants, per_page=2000: response {size:,} bytes "
                f"(Lambda response limit {LAMBDA_RESPONSE_LIMIT:,} bytes, 6 MB)",
            )
        )
    for row in rows:
        if row.budget == "first-page":
            used = row.without_auth()
            checks.append(
                (
                    used <= FIRST_PAGE_BUDGET,
                    f"{row.name}: {used} DynamoDB request{'' if used == 1 else 's'} (budget {FIRST_PAGE_BUDGET}): "
                    f"{row.typical().detail()}",
                )
            )
        elif row.budget.startswith("deep-page:"):
            _, base_name, skipped_fact = row.budget.split(":")
            base = next(r for r in rows if r.name == base_name)
            skipped = facts[skipped_fact]
            extra = row.without_auth() - base.without_auth()
            allowed = math.ceil(skipped / KEYS_PER_REQUEST)
            moto_row = next(r for r in rows if r.name == row.name.replace(" [AWS page sizing]", ""))
            moto_extra = moto_row.without_auth() - base.without_auth()
            checks.append(
                (
                    extra <= allowed,
                    f"{row.name}: +{extra} requests over the first page for {skipped:,} skipped keys "
                    f"(allowed +{allowed}, one per {KEYS_PER_REQUEST:,}); with moto's whole-item page sizing "
                    f"+{moto_extra}, a moto artefact: {row.typical().detail()}",
                )
            )
        elif row.budget == "post-declaration":
            used = row.without_auth()
            checks.append(
                (
                    used <= POST_DECLARATION_BUDGET,
                    f"{row.name}: {used} DynamoDB requests (fixed budget {POST_DECLARATION_BUDGET}, whatever the "
                    f"number of declarations): {row.typical().detail()}",
                )
            )
    for run in finance or []:
        if run.lines <= 0 or "show" in run.command:
            continue
        reads_allowed = FINANCE_READS_PER_100 * math.ceil(run.lines / 100) + FINANCE_FIXED
        writes_allowed = math.ceil(run.lines / 25) + FINANCE_FIXED
        checks.append(
            (
                run.reads <= reads_allowed and run.writes <= writes_allowed,
                f"{run.name} of {run.lines:,} declarations: {run.reads} reads (allowed {reads_allowed}: "
                f"{FINANCE_READS_PER_100} per 100 + {FINANCE_FIXED}), {run.writes} writes (allowed {writes_allowed}: "
                f"1 per 25 + {FINANCE_FIXED}): {run.counts}",
            )
        )
    return checks


@dataclass
class Sections:
    """What the report shows after the main table."""

    migrations: list[Migration] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    finance: list[FinanceRun] = field(default_factory=list)
    syncs: list[SyncWalk] = field(default_factory=list)


def report(
    data: Dataset,
    rows: list[Row],
    checks: list[tuple[bool, str]],
    load_seconds: float,
    run_seconds: float,
    sections: Sections,
) -> str:
    migrations, facts, finance = sections.migrations, sections.facts, sections.finance
    scale = os.environ.get("BENCH_SCALE")
    command = f"BENCH_SCALE={scale} make bench" if scale else "make bench"
    lines = [
        "# Benchmark: Lead Provider API on in-process moto",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Command: `{command}` (`.venv/bin/python -m bench.run`)",
        f"- Machine: {_nproc()} CPUs (nproc), {platform.machine()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        f"- Scale: {data.summary()}",
        f"- Load: {load_seconds:.1f} s ("
        + "; ".join(f"{name} {seconds:.1f} s" for name, seconds in data.seconds.items())
        + ")",
        f"- Measurement: {run_seconds:.1f} s. Every request goes through `chalice.test.Client` with a Bearer token; "
        "auth and cohort caches warm unless the row says cold; one unmeasured warm-up call per row except the slow "
        "deep reads; after 3 repetitions a row stops once it has run "
        f"{float(os.environ.get('BENCH_ROW_SECONDS', '20')):.0f} s (2 if very slow), hence N.",
        "- Rows marked EXTRA change moto's behaviour as their note says; every other row is plain moto.",
        "- The rate limiter's one `UpdateItem` per request goes through botocore directly: it is in the times (and in "
        "the time outside DynamoDB calls) but not in the request counts; `python -m bench.rate_limits` measures it.",
        "",
        "| Request | N | DynamoDB requests per API request (by operation) | Total | Median ms | p95 ms "
        "| Median ms outside DynamoDB calls | Notes |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        name = f"*{row.name}*" if row.extra else row.name
        lines.append(
            f"| {name} | {row.reps} | {row.typical()} | {row.totals()} | {row.median_ms():.1f} "
            f"| {row.p95_ms():.1f} | {row.app_median_ms():.1f} | {row.note} |"
        )
    if migrations:
        lines += [
            "",
            "## Participant migration (`induction.change_partnership`)",
            "",
            "The stream handler's work when a partnership is reported for a school cohort that already has "
            "participants: one call, measured once (it changes the data).",
            "",
            "| Scenario | Participants | Re-projected | Write requests (by operation) | All DynamoDB requests "
            "(by operation) | Wall s | Notes |",
            "|---|---:|---:|---|---|---:|---|",
        ]
        for mig in migrations:
            lines.append(
                f"| {mig.name} | {mig.participants} | {mig.moved} | {mig.writes} ({mig.write_detail()}) "
                f"| {mig.counts.total} ({mig.counts}) | {mig.seconds:.1f} | {mig.note} |"
            )
    if finance:
        lines += [
            "",
            "## Statement of the largest provider: CSV and transitions (admin CLI)",
            "",
            "`ecf-admin` commands on the statement that holds the benchmark's eligible declarations (deadline "
            "passed, still open), in this order; each measured once (they change the data).",
            "",
            "| Command | Declarations | Reads | Writes | All DynamoDB requests (by operation) | Wall s | Notes |",
            "|---|---:|---:|---:|---|---:|---|",
        ]
        for run in finance:
            lines.append(
                f"| `{run.command}` | {run.lines:,} | {run.reads} | {run.writes} | {run.counts.total} ({run.counts}) "
                f"| {run.seconds:.1f} | {run.name}: {run.note} |"
            )
    lines += sync_report(sections.syncs, facts.get("participants_visible", 0))
    if facts and "participants_page_bytes" in facts:
        lines += [
            "",
            f"Participants page of 2,000 (v3): {facts['participants_page_bytes']:,} bytes "
            f"({facts['participants_page_bytes'] / LAMBDA_RESPONSE_LIMIT:.0%} of the 6 MB Lambda response limit).",
        ]
    lines += ["", "Requests (`{id}` is a different partnership, or participant, each time):", ""]
    seen = set()
    for row in rows:
        if row.request not in seen:
            seen.add(row.request)
            lines.append(f"- `{row.request}`")
    lines += ["", "## Request budgets", ""]
    lines += [f"- **{'PASS' if ok else 'FAIL'}** {text}" for ok, text in checks]
    lines += ["", "## Reading the figures", "", *NOTES]
    return "\n".join(lines) + "\n"


NOTES = [
    "- Request counts are exact and carry over to DynamoDB; times are this process running moto and the app "
    "together and do not. *Outside DynamoDB calls* is the app's own time (routing, auth, services, PynamoDB "
    "(de)serialisation): roughly what a warm Lambda adds to DynamoDB's latency times the request count.",
    "- moto answers an index query by scanning and sorting the whole table, so read times grow with table size "
    "(DynamoDB's do not). It also ends a query page at 1 MB of *whole items* where DynamoDB counts index "
    "entries: a listing index entry is ~110 bytes and a school ~750, so a page that holds ~9,000 school keys on "
    "AWS holds ~1,300 in moto, and deep pages take more requests in moto than on AWS. The `[AWS page sizing]` "
    "rows size moto's pages on index entries (our reading of DynamoDB's rule; confirm on AWS); the deep-page "
    "budget is checked on them.",
    "- moto deep-copies every table a transaction touches (the schools table for POST and PUT), so POST/PUT "
    "times grow with table size; the `[moto snapshot off]` row is the same POST without that copy.",
    "- Cold rows: a token's first use adds a GetItem and an UpdateItem (last_used_at, at most hourly); after "
    "the auth cache expires, a GetItem; after the cohort cache expires, a Query of the cohorts. Budgets are "
    "checked on warm caches.",
    "- POST and PUT count the request's own DynamoDB calls; the participant migration their stream records "
    "trigger runs later in another Lambda and is not measured here.",
    "- Participants: loaded in the shape `induction.add_participant` leaves them (user, identity, profile with "
    "one active record, programme membership, initial state) with the read model built by "
    "`projection.build_views` (`python -m bench.participants` checks the shape against the service). The API "
    "pages over the largest provider's visible participants in its read model: a keys query of one index, then "
    "one BatchGetItem per 100 participants. Defer reads the user, profiles, programmes and partnerships, writes "
    "the profile and its new state in one transaction, and re-projects the participant.",
    "- Budgets: the first page of any list makes at most 3 DynamoDB requests whatever the table size; a deep "
    "page makes at most one more request per 10,000 keys skipped.",
]


def _admin_and_stream_runs(bench_: Bench) -> tuple[list[FinanceRun], list[Migration]]:
    """The statement's CSV and transitions (admin CLI) and the participant migrations, each measured once."""
    data = bench_.data
    finance: list[FinanceRun] = []
    if data.declarations is not None:
        _say("Statement CSV and transitions ...")
        finance = run_finance(bench_, finance)
    migrations: list[Migration] = []
    migration_size = int(os.environ.get("BENCH_MIGRATION_SIZE", "500"))
    if data.participants is not None and migration_size > 0:
        _say("Migrations ...")
        try:
            migrations = run_migrations(bench_, migration_size, migrations)
        except Exception as error:  # noqa: BLE001 - report what was measured rather than lose the run
            _say(f"  migration failed: {error!r}")
    return finance, migrations


def _sync_only(data: Any, app: Any, row_seconds: float, reps: int, out: Path, load_seconds: float) -> int:
    """``BENCH_ONLY=sync``: the cursor rows and the full syncs alone, on the same data set (the full run takes
    hours on a busy machine; these are the figures of the sync work)."""
    from chalice.test import Client

    t0 = time.perf_counter()
    with Client(app, stage_name="test", project_dir=str(ROOT)) as client:
        bench_ = Bench(data, client, row_seconds)
        run_sync_pages(bench_, reps)
        syncs = run_full_syncs(bench_)
    scale = os.environ.get("BENCH_SCALE", "1")
    lines = [
        "# Benchmark (sync only): cursor pages and full syncs on in-process moto",
        "",
        f"- Command: `BENCH_ONLY=sync BENCH_SCALE={scale} make bench`; {_nproc()} CPUs, Python "
        f"{platform.python_version()}; {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Scale: {data.summary()}; load {load_seconds:.1f} s, measurement {time.perf_counter() - t0:.1f} s",
        "",
        "| Request | N | DynamoDB requests per API request (by operation) | Total | Median ms | p95 ms "
        "| Median ms outside DynamoDB calls | Notes |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {row.name} | {row.reps} | {row.typical()} | {row.totals()} | {row.median_ms():.1f} "
        f"| {row.p95_ms():.1f} | {row.app_median_ms():.1f} | {row.note} |"
        for row in bench_.rows
    ]
    visible = len(data.participants.by_lead_provider.get(bench_.lp, [])) if data.participants else 0
    lines += sync_report(syncs, visible)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def main() -> int:
    # Warm caches for the main figures (the cold costs have rows of their own).
    os.environ["AUTH_CACHE_SECONDS"] = "3600"
    os.environ["REFERENCE_CACHE_SECONDS"] = "3600"
    factor = float(os.environ.get("BENCH_SCALE", "1"))
    reps = int(os.environ.get("BENCH_REPS", "40"))
    write_reps = int(os.environ.get("BENCH_WRITE_REPS", "12"))
    row_seconds = float(os.environ.get("BENCH_ROW_SECONDS", "20"))
    out = Path(os.environ.get("BENCH_OUT", str(RESULTS)))
    scale = Scale.factor(factor)
    if os.environ.get("BENCH_ONLY") == "sync":
        scale = replace(scale, declarations=0)  # the sync rows read participants only
    began = time.perf_counter()
    with mock_aws():
        fresh_tables()
        _say(f"Loading {scale} ...")
        t0 = time.perf_counter()
        data = load(scale, progress=_say)
        load_seconds = time.perf_counter() - t0
        _say(f"Loaded in {load_seconds:.1f} s. Measuring ...")

        from chalice.test import Client

        import app as app_module

        t0 = time.perf_counter()
        sources = feed.mark()  # the change feed records what the requests below write (see bench/feed.py)
        if os.environ.get("BENCH_ONLY") == "sync":
            return _sync_only(data, app_module.app, row_seconds, reps, out, load_seconds)
        with Client(app_module.app, stage_name="test", project_dir=str(ROOT)) as client:
            bench_ = Bench(data, client, row_seconds)
            facts = run_scenarios(bench_, reps, write_reps)
            run_participant_scenarios(bench_, reps, write_reps, facts)
            run_declaration_scenarios(bench_, reps, write_reps, facts)
            _say("Cursor pages and full syncs ...")
            run_sync_pages(bench_, reps)
            syncs = run_full_syncs(bench_) if data.participants is not None else []
        finance, migrations = _admin_and_stream_runs(bench_)
        recorded = feed.run(bench_, sources, reps, facts, _say)
        run_seconds = time.perf_counter() - t0
    checks = budget_checks(bench_.rows, facts, finance)
    sections = Sections(migrations, facts, finance, syncs)
    text = report(data, bench_.rows, checks, load_seconds, run_seconds, sections)
    text += "\n".join(feed.report_lines(recorded, facts)) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    where = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    _say(f"Wrote {where}; total {time.perf_counter() - began:.0f} s")
    failed = not all(ok for ok, _ in checks)
    return 1 if failed and os.environ.get("BENCH_STRICT") == "1" else 0


if __name__ == "__main__":
    sys.exit(main())
