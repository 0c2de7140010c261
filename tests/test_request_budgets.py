"""Request budgets: how many DynamoDB requests the list endpoints make (counts, never times).

The data comes from the benchmark's loader (``bench/load.py``) at a small
scale, loaded once for the module into moto set up as the ``aws`` fixture
does (module-scoped here: loading 1,500 schools for each test would take most
of a minute). The budgets hold whatever the table size:

* the first page of a list: at most 3 requests once the caller's token is cached;
* the delivery-partners list: 1 request (one Query of the LP's relationships);
* a deep page: one more index Query per ``chunk`` keys skipped, nothing else.

``conftest`` turns the auth and cohort caches off; these tests turn them on
(budgets are for warm caches) and check what a cold cache costs separately.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import pytest

from bench.counting import RequestCount, count_requests
from bench.load import Dataset, Scale, load
from chalicelib import config, models
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import common
from chalicelib.services import tokens

SCALE = Scale(schools=1_500, partnerships=300, delivery_partners=20, participants=600, declarations=0)
FIRST_PAGE_BUDGET = 3
SCHOOLS = "/api/v3/schools/ecf?filter[cohort]=2025"
PARTNERSHIPS = "/api/v3/partnerships/ecf"
DELIVERY_PARTNERS = "/api/v3/delivery-partners"


@dataclass
class Api:
    client: Any
    data: Dataset
    headers: dict[str, str]
    worker: ThreadPoolExecutor

    def count(self, path: str, headers: dict[str, str] | None = None) -> RequestCount:
        # On a worker thread (as a server would) with a shallow stack. Deep in pytest's stack, CPython 3.11
        # mapped and unmapped a frame-stack chunk on nearly every call in moto's serialiser (600,000 mmap/munmap
        # pairs for two requests): requests ran 10x slower.
        with count_requests() as counts:
            response = self.worker.submit(self.client.http.get, path, headers=headers or self.headers).result()
        assert response.status_code == 200, response.body
        return counts

    def fetch(self, path: str) -> tuple[RequestCount, dict[str, Any]]:
        """The requests a call made and its body."""
        with count_requests() as counts:
            response = self.worker.submit(self.client.http.get, path, headers=self.headers).result()
        assert response.status_code == 200, response.body
        return counts, json.loads(response.body)

    def warm(self) -> None:
        """Make sure the caller's token and the cohort list are cached: counts then hold the endpoint's own requests."""
        self.count(DELIVERY_PARTNERS)
        cohort_repo.list_cohorts()


def _auth_calls(counts: RequestCount) -> list[str]:
    from chalicelib.models import ApiToken

    return [call.operation for call in counts.calls if call.tables == (ApiToken.Meta.table_name,)]


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """The ``aws`` fixture's steps, once for the module; then the small-scale load and a test client."""
    from chalice.test import Client
    from moto import mock_aws

    import app as app_module

    config.reset()
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        models.rebind_all()
        models.create_tables()
        tokens.reset_key()
        cohort_repo.clear_cache()
        warm = replace(config.current(), auth_cache_seconds=3600, reference_cache_seconds=3600)
        patch.setattr(config, "_override", [warm])
        data = load(SCALE)
        headers = {"Authorization": f"Bearer {data.tokens[data.largest_lead_provider]}"}
        with Client(app_module.app, stage_name="test") as client, ThreadPoolExecutor(1) as worker:
            yield Api(client, data, headers, worker)
        tokens.clear_cache()
        cohort_repo.clear_cache()
    models.rebind_all()


def test_a_token_is_looked_up_once_then_cached(api: Api) -> None:
    name = next(iter(api.data.lead_providers))
    headers = {"Authorization": f"Bearer {tokens.create_token(name, api.data.now).token}"}

    first = api.count(DELIVERY_PARTNERS, headers)
    again = api.count(DELIVERY_PARTNERS, headers)
    tokens.clear_cache()
    expired = api.count(DELIVERY_PARTNERS, headers)

    # First use: the lookup and the last_used_at write (at most hourly); nothing while cached; a lookup after.
    assert _auth_calls(first) == ["GetItem", "UpdateItem"], first.detail()
    assert _auth_calls(again) == [], again.detail()
    assert _auth_calls(expired) == ["GetItem"], expired.detail()


def test_the_cohort_list_is_read_once_then_cached(api: Api) -> None:
    from chalicelib.models import Cohort

    api.warm()
    cohort_repo.clear_cache()
    cold = api.count(SCHOOLS)
    warm = api.count(SCHOOLS)
    cohort_reads = [call.operation for call in cold.calls if call.tables == (Cohort.Meta.table_name,)]
    assert cohort_reads == ["Query"], cold.detail()
    assert cold.total == warm.total + 1, (cold.detail(), warm.detail())


def test_the_delivery_partners_list_is_one_query(api: Api) -> None:
    api.warm()
    counts = api.count(DELIVERY_PARTNERS)
    assert counts.total <= 1, counts.detail()


def test_schools_by_urn_is_within_budget(api: Api) -> None:
    api.warm()
    counts = api.count(f"{SCHOOLS}&filter[urn]={api.data.sample_urn}")
    assert counts.total <= FIRST_PAGE_BUDGET, counts.detail()


@pytest.mark.parametrize(
    "path",
    [SCHOOLS, f"{SCHOOLS}&sort=-updated_at", PARTNERSHIPS, "/api/v3/participants/ecf", "/api/v1/participants/ecf"],
    ids=["schools", "schools-by-updated", "partnerships", "participants-v3", "participants-v1"],
)
def test_the_first_page_is_within_budget(api: Api, path: str) -> None:
    api.warm()
    counts = api.count(path)
    assert counts.total <= FIRST_PAGE_BUDGET, counts.detail()
    # A full page was read: an empty list would meet any budget.
    assert any(call.operation == "BatchGetItem" for call in counts.calls), counts.detail()


def test_a_deep_page_costs_one_query_per_chunk_skipped(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    chunk, per_page = 200, 100
    monkeypatch.setattr(common, "SKIP_CHUNK", chunk)
    api.warm()
    last = api.data.listed_schools // per_page  # a full page with 1,100+ keys skipped
    assert last >= 12, "the scale must give enough listed schools"

    queries, others = {}, {}
    for page in (1, 4, last):
        counts = api.count(f"{SCHOOLS}&page[page]={page}&page[per_page]={per_page}")
        queries[page] = counts.count("Query")
        others[page] = counts.total - queries[page]

    assert len(set(others.values())) == 1, f"only the index queries may depend on the page: {others}"
    for page, used in queries.items():
        skipped = (page - 1) * per_page
        # Keys are read ``chunk`` at a time: page k takes ceil((skipped + per_page) / chunk) index queries,
        # so it costs at most one request per ``chunk`` keys skipped more than the first page.
        assert used - queries[1] <= math.ceil(skipped / chunk), queries
        assert used == math.ceil((skipped + per_page) / chunk), queries


# A cursor page's requests, whatever its depth: one index Query, then BatchGets of what the page shows (100 keys a
# request). The schools list reads the schools and their school cohorts (the cohort's programme choice), two
# tables; a participants page in updated_at order (a sync) reads whole views from the ALL-projected
# ``visible_sync`` index, so its Query is all.
CURSOR_BUDGETS = {
    "schools": (SCHOOLS, 3),
    "schools-by-updated": (f"{SCHOOLS}&sort=-updated_at", 3),
    "partnerships": (PARTNERSHIPS, 2),
    "participants-v3": ("/api/v3/participants/ecf", 2),
    "participants-v3-sync": ("/api/v3/participants/ecf?sort=updated_at", 1),
    "participants-v1": ("/api/v1/participants/ecf", 2),
}


@pytest.mark.parametrize("name", list(CURSOR_BUDGETS))
def test_every_cursor_page_costs_the_same_however_deep(api: Api, name: str) -> None:
    """Keyset pages start at the previous page's last index entry: no keys are read to be skipped, so the last
    page of a walk costs what the first does."""
    from tests.api_helpers import relative

    path, budget = CURSOR_BUDGETS[name]
    api.warm()
    separator = "&" if "?" in path else "?"
    url: str | None = f"{path}{separator}page[per_page]=20&page[cursor]="
    pages = 0
    while url is not None:
        counts, body = api.fetch(url)
        pages += 1
        assert counts.count("Query") == 1, counts.detail()
        assert counts.total <= budget, counts.detail()
        following = body.get("links", {}).get("next")
        url = relative(following) if following else None
    assert pages >= 5, "the walk must go deep enough to show the cost does not grow"
