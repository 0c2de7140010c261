"""The sync figures of ``make bench``: cursor pages against page numbers at the benchmark's scale.

Rows in the main table: the first and the 100th page of the largest provider's participants (and of its
declarations), by page number and by cursor, in the default order and in ``updated_at`` order (the sync
order, served whole from the ``visible_sync`` index). A second table walks the largest provider's whole
participant list at ``per_page=1000`` each way and adds up what it cost.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.counting import RequestCount, count_requests
from bench.load import index_pages_sized_as_on_aws

PARTICIPANTS = "/api/v3/participants/ecf"
DECLARATIONS = "/api/v3/participant-declarations"
MAX_PER_PAGE = 3000
SYNC_PER_PAGE = 1000


def _relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _with(path: str, **params: str) -> str:
    separator = "&" if "?" in path else "?"
    return path + separator + "&".join(f"{key}={value}" for key, value in params.items())


def cursor_at(bench_: Any, path: str, offset: int) -> str | None:
    """The URL of the cursor page that starts after ``offset`` items (cursors are bound to filters and sort,
    not to ``per_page``, so big unmeasured pages get there in a few requests)."""
    url = _with(path, **{"page[per_page]": str(min(offset, MAX_PER_PAGE)), "page[cursor]": ""})
    done = 0
    while done < offset:
        body = json.loads(bench_.get(url).body)
        done += len(body["data"])
        following = body.get("links", {}).get("next")
        if following is None:
            return None
        step = min(offset - done, MAX_PER_PAGE)
        url = _relative(following).replace(f"page[per_page]={len(body['data'])}", f"page[per_page]={step or 100}")
    return url.replace(f"page[per_page]={MAX_PER_PAGE}", "page[per_page]=100")


def _measure_pair(bench_: Any, reps: int, name: str, path: str, items: int) -> None:
    """Page 1 and page ``deep`` of one list by page number and by cursor, per_page 100."""
    deep = min(100, max(2, items // 100 - 1))
    get = bench_.get
    first_cursor = _with(path, **{"page[per_page]": "100", "page[cursor]": ""})
    bench_.measure(f"{name}, cursor first page", first_cursor, lambda _i: get(first_cursor), reps)
    deep_cursor = cursor_at(bench_, path, (deep - 1) * 100)
    if deep_cursor is None:
        return
    shown = deep_cursor.split("page[cursor]=")[0] + "page[cursor]=<cursor>"
    bench_.measure(
        f"{name}, cursor page {deep}",
        shown,
        lambda _i: get(deep_cursor),
        reps,
        note=f"the cursor after {(deep - 1) * 100:,} items: nothing skipped",
    )


def run_sync_pages(bench_: Any, reps: int) -> None:
    """Cursor rows beside the page-number rows the main scenarios already measure."""
    data = bench_.data
    people = data.participants
    if people is not None:
        visible = len(people.by_lead_provider.get(bench_.lp, []))
        _measure_pair(bench_, reps, "GET participants", PARTICIPANTS, visible)
        _measure_pair(bench_, reps, "GET participants sort=updated_at", f"{PARTICIPANTS}?sort=updated_at", visible)
    found = data.declarations
    if found is not None and found.lead_provider_id == bench_.lp:
        _measure_pair(bench_, reps, "GET declarations", DECLARATIONS, found.count)


@dataclass
class SyncWalk:
    """A whole list walked page by page, and what it cost in all."""

    name: str
    request: str
    pages: int = 0
    items: int = 0
    seconds: float = 0.0
    counts: RequestCount = field(default_factory=RequestCount)
    note: str = ""


def _walk(bench_: Any, name: str, first: str, next_of: Any, note: str = "") -> SyncWalk:
    walk = SyncWalk(name, first, note=note)
    url: str | None = first
    with count_requests() as counts:
        began = time.perf_counter()
        while url is not None:
            response = bench_.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}: {response.body[:300]!r}")
            body = json.loads(response.body)
            walk.pages += 1
            walk.items += len(body["data"])
            url = next_of(url, body, walk.pages)
        walk.seconds = time.perf_counter() - began
    walk.counts = counts
    return walk


def _by_number(path: str, per_page: int) -> Any:
    def following(_url: str, body: dict[str, Any], pages: int) -> str | None:
        return (
            _with(path, **{"page[per_page]": str(per_page), "page[page]": str(pages + 1)})
            if len(body["data"]) == per_page
            else None
        )

    return following


def _by_cursor(_url: str, body: dict[str, Any], _pages: int) -> str | None:
    following = body.get("links", {}).get("next")
    return _relative(following) if following else None


def run_full_syncs(bench_: Any) -> list[SyncWalk]:
    """The largest provider's participants, all of them, at per_page=1000: by page number (as DfE's API has
    to), by cursor in the default order, and by cursor in ``updated_at`` order (the sync order)."""
    per = str(SYNC_PER_PAGE)
    walks = []
    numbered = _by_number(PARTICIPANTS, SYNC_PER_PAGE)
    first = _with(PARTICIPANTS, **{"page[per_page]": per, "page[page]": "1"})
    walks.append(_walk(bench_, "page numbers", first, numbered, "plain moto: pages of whole items"))
    with index_pages_sized_as_on_aws():
        walks.append(
            _walk(bench_, "page numbers [AWS page sizing]", first, numbered, "keys skipped as DynamoDB pages them")
        )
    cursor = _with(PARTICIPANTS, **{"page[per_page]": per, "page[cursor]": ""})
    walks.append(_walk(bench_, "cursor, default order", cursor, _by_cursor, "keys Query + BatchGets per page"))
    synced = _with(PARTICIPANTS, sort="updated_at", **{"page[per_page]": per, "page[cursor]": ""})
    walks.append(
        _walk(bench_, "cursor, sort=updated_at", synced, _by_cursor, "whole views from visible_sync, 1 MB a Query")
    )
    return walks


def sync_report(walks: list[SyncWalk], visible: int) -> list[str]:
    if not walks:
        return []
    lines = [
        "",
        "## Full sync of the largest provider's participants (`per_page=1000`)",
        "",
        f"Every visible participant of the largest provider ({visible:,}), walked to the end each way; the requests "
        "are all the walk made (by operation). Page numbers must read past every earlier page's keys; a cursor "
        "page starts where the last one ended.",
        "",
        "| Walk | Pages | Participants | DynamoDB requests in all (by operation) | Requests per 1,000 | Wall s "
        "| Notes |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    for walk in walks:
        per_thousand = walk.counts.total / max(walk.items, 1) * 1000
        lines.append(
            f"| {walk.name} | {walk.pages} | {walk.items:,} | {walk.counts.total} ({walk.counts}) "
            f"| {per_thousand:.1f} | {walk.seconds:.1f} | {walk.note} |"
        )
    return lines
