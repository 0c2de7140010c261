"""The change feed at the benchmark's scale (docs/change-feed.md): what recording costs per stream record and per
appended entry, and what a page of the feed costs.

``mark()`` notes the end of each source table's stream before the benchmark's requests run. ``record()`` then
reads every record the requests, the finance commands and the migrations wrote to those streams since, hands them
to the change feed's own code in Lambda's batches of 100 per table (``services.changes.record``, what the
``record_changes`` handler runs) and counts the DynamoDB requests. ``page_rows()`` measures feed pages of the
largest provider through the API, like every other row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench.counting import RequestCount, count_requests
from bench.load import without_transaction_snapshots

BATCH = 100  # the event source mapping's batch size (infra/template.json)


@dataclass
class Source:
    table: str
    iterator: str  # a LATEST shard iterator taken before the benchmark's requests (moto keeps it valid)


@dataclass
class Recorded:
    """One source table's records since the mark, recorded in batches of 100."""

    table: str
    records: int
    entries: int
    counts: RequestCount
    seconds: float

    def per_record(self) -> float:
        return self.counts.total / self.records if self.records else 0.0

    def per_entry(self) -> float:
        return self.counts.total / self.entries if self.entries else 0.0


def _streams() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))


def mark() -> list[Source]:
    """Where each source table's stream ends now: a LATEST iterator reads what is written after it."""
    from chalicelib.repositories.changes import source_models

    streams = _streams()
    found = []
    for model in source_models():
        table = model.Meta.table_name  # type: ignore[attr-defined]
        arn = streams.list_streams(TableName=table)["Streams"][0]["StreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")
        found.append(Source(table, latest["ShardIterator"]))
    return found


def since(source: Source) -> list[dict[str, Any]]:
    """Every record written after the mark."""
    streams = _streams()
    out: list[dict[str, Any]] = []
    iterator: str | None = source.iterator
    while iterator is not None:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        page = response.get("Records", [])
        if not page:
            return out
        out += page
        iterator = response.get("NextShardIterator")
    return out


def record(sources: list[Source], now: datetime, say: Callable[[str], None]) -> list[Recorded]:
    """Record each table's new records as record_changes would, counting requests. moto's per-transaction table
    copy is patched out (it says nothing about DynamoDB, and the feed's tables grow); that patch is safe only where
    every transaction succeeds, as here: one appender, and records never recorded before."""
    from chalicelib.domain.changes import StreamRecord
    from chalicelib.services import changes

    out = []
    for source in sources:
        raw = since(source)
        records = [
            StreamRecord(source.table, r["eventID"], r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage"))
            for r in raw
        ]
        entries = 0
        with without_transaction_snapshots(), count_requests() as counts:
            started = time.perf_counter()
            for start in range(0, len(records), BATCH):
                entries += changes.record(records[start : start + BATCH], now)
            seconds = time.perf_counter() - started
        result = Recorded(source.table, len(records), entries, counts, seconds)
        say(f"  feed from {source.table}: {len(records)} records, {entries} entries; {counts} ({seconds:.1f} s)")
        out.append(result)
    return out


def run(
    bench_: Any, sources: list[Source], reps: int, facts: dict[str, Any], say: Callable[[str], None]
) -> list[Recorded]:
    """Record what was written since ``mark()``, then measure feed pages (rows of the main table)."""
    from pathlib import Path

    from chalice.test import Client

    import app as app_module

    say("Change feed ...")
    recorded = record(sources, bench_.data.now, say)
    root = Path(__file__).resolve().parent.parent
    with Client(app_module.app, stage_name="test", project_dir=str(root)) as client:
        bench_.client = client
        page_rows(bench_, reps, facts)
    return recorded


def page_rows(bench_: Any, reps: int, facts: dict[str, Any]) -> None:
    """Pages of the largest provider's feed through the API: the first page (no cursor), a page in the middle
    (a cursor: one Query, and a GetItem of the head for links.latest), a filtered page, the end of the feed, and
    3,000 entries (the most a page holds)."""
    import json

    base = "/api/v3/changes"
    first = json.loads(bench_.get(f"{base}?page[per_page]=100").body)
    entries = _count(bench_, base)
    facts["feed_entries"] = entries
    note = f"largest LP: {entries:,} entries"
    bench_.measure("GET changes, first page", f"{base}?page[per_page]=100", lambda _i: bench_.get(
        f"{base}?page[per_page]=100"), reps, budget="first-page", note=note)  # fmt: skip
    middle = _path(first["links"]["next"])
    bench_.measure("GET changes, next page (cursor)", f"{base}?page[cursor]=...", lambda _i: bench_.get(middle),
                   reps, budget="first-page", note=f"{note}; links.latest costs the head's GetItem")  # fmt: skip
    only = f"{base}?filter[resource_type]=participant&page[per_page]=100"
    bench_.measure("GET changes, filter[resource_type]=participant", only, lambda _i: bench_.get(only), reps,
                   budget="first-page", note="reads up to 1,000 entries to fill the page")  # fmt: skip
    end = _path(first["links"]["latest"])
    bench_.measure("GET changes, at the end (caught up)", f"{base}?page[cursor]=<latest>", lambda _i: bench_.get(end),
                   reps, budget="first-page", note="a client polling: one Query")  # fmt: skip
    big = f"{base}?page[per_page]=3000"
    sizes: list[int] = []

    def big_page(_i: int) -> Any:
        response = bench_.get(big)
        sizes.append(len(response.body))
        return response

    bench_.measure("GET changes, per_page=3000", big, big_page, reps, note="the largest page")
    facts["feed_page_bytes"] = max(sizes)


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _count(bench_: Any, base: str) -> int:
    """Entries in the feed (followed to its end, 3,000 a page)."""
    import json

    url, total = f"{base}?page[per_page]=3000", 0
    while True:
        body = json.loads(bench_.get(url).body)
        total += len(body["data"])
        if body["meta"]["caught_up"]:
            return total
        url = _path(body["links"]["next"])


def report_lines(recorded: list[Recorded], facts: dict[str, Any]) -> list[str]:
    """The report's change-feed section."""
    lines = [
        "",
        "## Change feed: recording (`record_changes`, per source table)",
        "",
        "The stream records the benchmark's requests, finance commands and migrations wrote to the five source "
        "tables, recorded in Lambda's batches of 100 by `services.changes.record` (moto's per-transaction table copy "
        "patched out). A school change is one entry per lead provider; a batch makes, per provider it touches, one "
        "GetItem of the feed's head and one transaction per 49 entries (entries, receipts, head).",
        "",
        "| Source table | Stream records | Entries appended | DynamoDB requests (by operation) | Requests per record "
        "| Requests per entry | Wall s |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for row in recorded:
        lines.append(
            f"| {row.table} | {row.records:,} | {row.entries:,} | {row.counts.total} ({row.counts}) "
            f"| {row.per_record():.2f} | {row.per_entry():.3f} | {row.seconds:.1f} |"
        )
    if "feed_page_bytes" in facts:
        lines += ["", f"Feed page of 3,000 entries: {facts['feed_page_bytes']:,} bytes."]
    return lines
