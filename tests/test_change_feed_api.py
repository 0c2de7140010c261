"""GET /api/v3/changes against moto, fed by the real stream handlers (an in-process poller delivers every
stream, Lambda-style): entries, order, filters, cursors, retention, idempotent recording, request counts.
Every response is validated against the served OpenAPI document (tests/feed_helpers.py)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.counting import count_requests
from chalicelib.domain import messages as m
from chalicelib.events.handlers import CHANGES_STREAM_HANDLER
from chalicelib.models.changes import ChangeItem
from chalicelib.repositories import changes as repo
from chalicelib.services import partnerships as partnership_service
from tests.api_helpers import partnership_payload
from tests.feed_helpers import FEED, Reader, assert_contiguous_from, assert_feed_response, client_get, path_of
from tests.finance_env import NOW, FinanceEnv


@pytest.fixture
def env(world: Any, client: Any) -> FinanceEnv:
    return FinanceEnv(world, client)


@pytest.fixture
def poller(client: Any) -> Any:
    """Every stream handler's streams, delivered in process as Lambda would (failed batches again at once)."""
    import app as app_module
    from localdev.poller import StreamPoller

    return StreamPoller(app_module.app, None, backoff=0)


def reader(env: FinanceEnv, who: str = "lp", **kwargs: Any) -> Reader:
    return Reader(client_get(env.client, env.tokens[who]), **kwargs)


def at_end(env: FinanceEnv, who: str = "lp") -> Reader:
    """A reader that skips the backlog: it starts at links.latest of a first page."""
    first = reader(env, who)
    body = first.page()
    return reader(env, who, url=body["links"]["latest"])


def feed_get(env: FinanceEnv, path: str, who: str = "lp", **headers: str) -> Any:
    sent = {"Authorization": f"Bearer {env.tokens[who]}", **headers}
    return env.client.http.get(path, headers=sent)


def report(env: FinanceEnv, school: Any, cohort: int = 2024) -> str:
    response = env.api().send(
        "POST", "/api/v3/partnerships/ecf", partnership_payload(str(cohort), school.id, env.dp.id)
    )
    assert response.status_code == 200, response.body
    return str(json.loads(response.body)["data"]["id"])


def kinds(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["resource_type"], e["change"]) for e in entries]


# --------------------------------------------------------------------------- what the feed says


def test_a_reported_partnership_then_the_participants_it_made_visible(env: FinanceEnv, poller: Any) -> None:
    school = env.school(2024)
    waiting = {env.onboard(school, 2024, name, trn=None).user_id for name in ("Eve One", "Ann Two")}
    poller.drain()
    mine, theirs = at_end(env), at_end(env, "other")

    partnership_id = report(env, school)
    poller.drain()
    mine.follow()
    by_kind = {(e["resource_type"], e["change"], e["resource_id"]) for e in mine.entries}
    assert ("partnership", "created", partnership_id) in by_kind
    assert {e["resource_id"] for e in mine.entries if e["resource_type"] == "participant"} == waiting
    assert {e["change"] for e in mine.entries if e["resource_type"] == "participant"} == {"visible"}
    # The partnership comes first, then the participants the migration moved into it.
    order = [e["resource_type"] for e in mine.entries if e["resource_type"] in ("partnership", "participant")]
    assert order == ["partnership", "participant", "participant"]
    assert ("school", "updated", school.id) in by_kind  # the report touched the school
    created = next(e for e in mine.entries if e["resource_type"] == "partnership")
    assert path_of(created["links"]["related"]) == f"/api/v3/partnerships/ecf/{partnership_id}"
    assert next(e for e in mine.entries if e["resource_type"] == "school")["links"] is None  # its URL needs a cohort
    # The other provider sees the school change and nothing of this provider's partnership or participants.
    theirs.follow()
    assert kinds(theirs.entries) == [("school", "updated")]

    # A challenge hides the participants and updates the partnership; the participants' links are gone.
    partnership_service.challenge_partnership(partnership_id, "mistake", NOW, ignore_deadline=True)
    poller.drain()
    before = len(mine.entries)
    mine.follow()
    after = mine.entries[before:]
    assert ("partnership", "updated") in kinds(after)
    hidden = [e for e in after if e["resource_type"] == "participant"]
    assert {(e["resource_id"], e["change"]) for e in hidden} == {(uid, "hidden") for uid in waiting}
    assert all(e["links"] is None for e in hidden)
    assert mine.view()["participant"] == {}  # a client's rebuilt view: nobody visible
    assert (
        mine.view()["partnership"][partnership_id]
        == next(e for e in after if e["resource_type"] == "partnership")["updated_at"]
    )


def test_declarations_and_statements(env: FinanceEnv, poller: Any) -> None:
    ect = env.trained(2024)
    poller.drain()
    start = reader(env)
    start.follow()
    statements = {e["resource_id"] for e in start.entries if e["resource_type"] == "statement"}
    listed = json.loads(feed_get(env, "/api/v3/statements").body)["data"]
    assert statements == {s["id"] for s in listed}  # the output-fee statements the provider's list shows

    mine = at_end(env)
    declaration = env.declare(ect)
    poller.drain()
    assert env.void(declaration["id"], at=NOW + timedelta(minutes=1)).status_code == 200
    poller.drain()
    mine.follow()
    ours = [e for e in mine.entries if e["resource_type"] == "participant-declaration"]
    assert [(e["resource_id"], e["change"]) for e in ours] == [
        (declaration["id"], "created"),
        (declaration["id"], "updated"),
    ]
    shown = json.loads(feed_get(env, f"/api/v3/participant-declarations/{declaration['id']}").body)["data"]
    assert ours[-1]["updated_at"] == shown["attributes"]["updated_at"]
    assert path_of(ours[-1]["links"]["related"]) == f"/api/v3/participant-declarations/{declaration['id']}"


# --------------------------------------------------------------------------- exactly once, in order, no gaps


def recording(poller: Any, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every event record_changes is called with (the handler still runs)."""
    seen: list[dict[str, Any]] = []
    handler = poller.app.handler_map[CHANGES_STREAM_HANDLER]

    def wrapper(event: dict[str, Any], context: Any) -> Any:
        seen.append(event)
        return handler(event, context)

    monkeypatch.setitem(poller.app.handler_map, CHANGES_STREAM_HANDLER, wrapper)
    return seen


def test_redelivering_a_batch_appends_nothing(
    env: FinanceEnv, poller: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    school = env.school(2024)
    env.onboard(school, 2024, "Eve One", trn=None)
    delivered = recording(poller, monkeypatch)
    report(env, school)
    poller.drain()
    assert delivered
    heads = {lp.id: repo.get_head(lp.id) for lp in (env.lp, env.other)}
    entries = reader(env)
    entries.follow()
    for event in delivered * 2:  # every batch again, twice (a retry, then a replay)
        client.lambda_.invoke(CHANGES_STREAM_HANDLER, event)
    assert {lp.id: repo.get_head(lp.id) for lp in (env.lp, env.other)} == heads
    again = reader(env)
    again.follow()
    assert again.entries == entries.entries
    assert_contiguous_from(again.entries, 1)


def test_a_batch_that_fails_half_way_is_completed_exactly_once(
    env: FinanceEnv, poller: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 new schools in one batch go to both providers, 49 changes a transaction: the second transaction fails,
    the batch raises and is delivered again; every school then appears exactly once in each feed, in order."""
    poller.drain()
    first = {who: at_end(env, who) for who in ("lp", "other")}
    schools = [env.world.school() for _ in range(60)]
    original = repo._transact
    calls: list[int] = []

    def second_fails(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the second transaction of the batch fails")
        original(*args, **kwargs)

    monkeypatch.setattr(repo, "_transact", second_fails)
    assert poller.poll_once() == 0  # the batch failed...
    assert poller.pending_retries() == 1
    monkeypatch.setattr(repo, "_transact", original)
    assert poller.drain() == 60  # ...and was delivered again, whole
    for who, feed in first.items():
        feed.follow()
        assert [e["resource_id"] for e in feed.entries] == [s.id for s in schools], who
        assert_contiguous_from(feed.entries)
        assert {e["change"] for e in feed.entries} == {"visible"}


def put_entries(lead_provider_id: str, seqs: list[int], head: int, recorded: datetime) -> None:
    """Entries written by hand: a transaction a Query sees only part of looks like this."""
    ChangeItem(lead_provider_id=lead_provider_id, seq=0, head=head, started_at=recorded).save()
    for seq in seqs:
        ChangeItem(
            lead_provider_id=lead_provider_id,
            seq=seq,
            resource_type="school",
            resource_id=f"school-{seq}",
            change="updated",
            updated_at=recorded,
            recorded_at=recorded,
            expires_at=recorded + timedelta(days=31),
        ).save()


def test_a_reader_never_passes_a_missing_sequence_number(env: FinanceEnv) -> None:
    now = datetime.now(UTC)
    put_entries(env.lp.id, [1, 2, 4], head=4, recorded=now)
    feed = reader(env)
    body = feed.page()
    assert [e["sequence"] for e in feed.entries] == [1, 2]
    assert body["meta"]["caught_up"] is False
    assert body["links"]["latest"] != body["links"]["next"]  # latest is at the head (4)
    assert feed.page()["data"] == []  # still waiting for 3
    put_entries(env.lp.id, [3], head=4, recorded=now)
    body = feed.page()
    assert [e["sequence"] for e in feed.entries] == [1, 2, 3, 4]
    assert body["meta"]["caught_up"] is True


# --------------------------------------------------------------------------- cursors, filters, errors


def test_an_old_cursor_is_gone(env: FinanceEnv, poller: Any) -> None:
    env.school(2024)
    poller.drain()
    body = reader(env).page()
    later = datetime.now(UTC) + timedelta(days=29)
    response = feed_get(env, path_of(body["links"]["next"]), **{"X-With-Server-Date": later.isoformat()})
    assert response.status_code == 200
    much_later = datetime.now(UTC) + timedelta(days=31)
    response = feed_get(env, path_of(body["links"]["next"]), **{"X-With-Server-Date": much_later.isoformat()})
    assert response.status_code == 410
    expected = {"errors": [{"title": m.CHANGES_CURSOR_EXPIRED_TITLE, "detail": m.CHANGES_CURSOR_EXPIRED}]}
    assert assert_feed_response(410, json.loads(response.body), response.headers.get("Content-Type")) == expected
    assert m.CHANGES_CURSOR_EXPIRED == (
        "This '#/page[cursor]' is older than the change feed's 30-day retention, so changes after it may be gone. "
        "Run a full sync: note links.latest of a feed page, page through each list with '#/page[cursor]', then "
        "follow the feed from that links.latest."
    )
    fresh = feed_get(env, FEED, **{"X-With-Server-Date": much_later.isoformat()})
    assert fresh.status_code == 200  # an empty cursor is never too old


def bad_request(response: Any, detail: str, title: str = "Bad request") -> None:
    assert response.status_code == 400, response.body
    body = assert_feed_response(400, json.loads(response.body), response.headers.get("Content-Type"))
    assert body == {"errors": [{"title": title, "detail": detail}]}


def test_cursors_are_bound_to_the_caller_and_the_filters(env: FinanceEnv, poller: Any) -> None:
    env.school(2024)
    poller.drain()
    body = reader(env, url=f"{FEED}?filter[resource_type]=school&page[per_page]=1").page()
    link = path_of(body["links"]["next"])
    assert feed_get(env, link).status_code == 200
    bad_request(feed_get(env, link, "other"), m.CURSOR_INVALID)  # another provider's cursor
    bad_request(
        feed_get(env, link.replace("filter[resource_type]=school", "filter[resource_type]=partnership")),
        m.CURSOR_INVALID,
    )
    payload, _, signature = link.split("page[cursor]=")[1].partition(".")
    forged = link.replace(payload, payload[:-2] + ("AA" if payload[-2:] != "AA" else "AB"))
    bad_request(feed_get(env, forged), m.CURSOR_INVALID)  # tampered
    assert signature
    assert m.CURSOR_INVALID == (
        "The '#/page[cursor]' value is not valid for this request. Send the links.next URL of the previous page "
        "unchanged (same filters and sort), or an empty '#/page[cursor]' to start."
    )


def test_filters_and_paging_errors(env: FinanceEnv, poller: Any) -> None:
    school = env.school(2024)
    report(env, school)
    poller.drain()
    everything = reader(env)
    everything.follow()
    only = reader(env, url=f"{FEED}?filter[resource_type]=partnership,participant&page[per_page]=1")
    only.follow()
    wanted = [e for e in everything.entries if e["resource_type"] in ("partnership", "participant")]
    assert only.entries == wanted
    assert Counter(e["resource_type"] for e in everything.entries)["school"] >= 1
    bad_request(
        feed_get(env, f"{FEED}?filter[resource_type]=participants"), m.CHANGES_RESOURCE_TYPE_INVALID, "Bad parameter"
    )
    bad_request(feed_get(env, f"{FEED}?page[page]=2"), m.CHANGES_PAGE_NUMBER)
    bad_request(feed_get(env, f"{FEED}?page[per_page]=0"), m.PAGINATION_INVALID)
    bad_request(feed_get(env, f"{FEED}?filter=participant"), m.FILTER_NOT_A_HASH, "Bad parameter")
    assert m.CHANGES_PAGE_NUMBER == (
        "The change feed has no page numbers: send an empty '#/page[cursor]' to start, then follow links.next."
    )
    unauthenticated = env.client.http.get(FEED)
    assert unauthenticated.status_code == 401
    assert_feed_response(401, json.loads(unauthenticated.body), unauthenticated.headers.get("Content-Type"))
    big = feed_get(env, f"{FEED}?page[per_page]=5000")
    assert big.status_code == 200  # clamped to 3000, as the lists


def test_latest_skips_the_backlog(env: FinanceEnv, poller: Any) -> None:
    env.school(2024)
    poller.drain()
    follower = at_end(env)
    assert follower.page()["data"] == []
    school = env.world.school()
    poller.drain()
    follower.follow()
    assert [(e["resource_id"], e["change"]) for e in follower.entries] == [(school.id, "visible")]


def test_a_feed_older_than_the_retention_starts_inside_it(env: FinanceEnv) -> None:
    """Entries recorded 40, 29 and 1 day(s) before the request: a reader without a cursor starts with the first
    entry recorded within the last 30 days (older ones are expiring)."""
    from chalicelib.domain.changes import Change, NewEntry

    now = datetime.now(UTC).replace(microsecond=0)

    def append(days_ago: int, name: str) -> None:
        change = Change(env.lp.id, "school", name, "updated", now - timedelta(days=days_ago))
        repo.append(env.lp.id, [NewEntry(f"{env.lp.id}#{name}", change)], now - timedelta(days=days_ago))

    for days_ago, name in ((40, "a"), (40, "b"), (29, "c"), (29, "d"), (1, "e")):
        append(days_ago, name)
    feed = reader(env, url=f"{FEED}?page[per_page]=1")
    feed.follow()
    assert [(e["sequence"], e["resource_id"]) for e in feed.entries] == [(3, "c"), (4, "d"), (5, "e")]


# --------------------------------------------------------------------------- cost


def test_one_query_a_page_and_a_get_item_for_latest(env: FinanceEnv, poller: Any) -> None:
    for _ in range(5):
        env.world.school()
    poller.drain()
    feed_table = ChangeItem.Meta.table_name

    def feed_calls(path: str) -> tuple[list[str], dict[str, Any]]:
        with count_requests() as counts:
            response = feed_get(env, path)
        assert response.status_code == 200
        return sorted(c.operation for c in counts.calls if c.tables == (feed_table,)), json.loads(response.body)

    calls, body = feed_calls(f"{FEED}?page[per_page]=2")  # the first page: its Query starts at the head
    assert calls == ["Query"]
    assert body["meta"]["caught_up"] is False
    calls, body = feed_calls(path_of(body["links"]["next"]))  # a middle page: the head for links.latest
    assert calls == ["GetItem", "Query"]
    calls, body = feed_calls(path_of(body["links"]["next"]) + "&page[per_page]=10")
    assert calls == ["Query"]  # the end: links.latest is links.next, no GetItem
    assert body["meta"]["caught_up"] is True
    assert body["links"]["latest"] == body["links"]["next"]
