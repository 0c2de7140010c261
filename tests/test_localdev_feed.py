"""The change feed on the local stack's own pieces: moto's server, the stream poller's thread (every 0.2 s, every
stream handler) and the API. A reported partnership reaches the reporting provider's feed within a second,
followed by the participants its migration made visible."""

from __future__ import annotations

import time

from chalice import Chalice

from chalicelib.domain.clock import utcnow
from localdev.poller import StreamPoller
from tests.api_helpers import partnership_payload
from tests.feed_helpers import Reader, client_get
from tests.finance_env import FinanceEnv
from tests.test_localdev import app, moto_endpoint  # noqa: F401 - fixtures: a moto server, the app

PARTNERSHIP_WITHIN = 1.0  # seconds from the POST's response to the entry in the feed
PARTICIPANTS_WITHIN = 5.0


def test_a_reported_partnership_reaches_the_feed_within_a_second(moto_endpoint: str, app: Chalice) -> None:  # noqa: F811 - the fixtures
    from chalice.test import Client

    from tests.factories import World

    with Client(app, stage_name="test") as client:
        env = FinanceEnv(World(utcnow()), client)
        school = env.school(2024)
        waiting = {env.onboard(school, 2024, name, trn=None).user_id for name in ("Eve One", "Ann Two", "Max Three")}
        poller = StreamPoller(app, moto_endpoint)  # as the local stack runs it: every handler, every 0.2 s
        poller.drain()
        first = Reader(client_get(client, env.tokens["lp"]))
        follower = Reader(client_get(client, env.tokens["lp"]), url=first.page()["links"]["latest"])
        poller.start()
        try:
            response = env.api().send(
                "POST", "/api/v3/partnerships/ecf", partnership_payload("2024", school.id, env.dp.id)
            )
            assert response.status_code == 200, response.body
            posted = time.monotonic()
            partnership_at = participants_at = None
            while time.monotonic() - posted < PARTICIPANTS_WITHIN and participants_at is None:
                follower.page()
                kinds = [(e["resource_type"], e["change"]) for e in follower.entries]
                if partnership_at is None and ("partnership", "created") in kinds:
                    partnership_at = time.monotonic() - posted
                visible = {e["resource_id"] for e in follower.entries if e["resource_type"] == "participant"}
                if visible == waiting:
                    participants_at = time.monotonic() - posted
                time.sleep(0.02)
        finally:
            poller.stop()
    assert partnership_at is not None, follower.entries
    assert partnership_at < PARTNERSHIP_WITHIN, partnership_at
    assert participants_at is not None, follower.entries
    # Each exactly once. Their order is usually partnership first, but not asserted: two streams feed them, and a
    # partnership written while the poller is between the two can be recorded after its participants
    # (docs/change-feed.md, "What each change means").
    kinds = sorted(e["resource_type"] for e in follower.entries if e["resource_type"] in ("partnership", "participant"))
    assert kinds == ["participant", "participant", "participant", "partnership"]
    print(f"partnership in the feed after {partnership_at:.2f}s, its participants after {participants_at:.2f}s")


def test_the_stack_starts_the_feed_after_the_demo_data(moto_endpoint: str, app: Chalice) -> None:  # noqa: F811 - the fixtures
    """``StreamPoller.skip``: the handler's shards move past what is already written (an event source mapping
    created at LATEST); what comes later is delivered as usual."""
    from chalicelib.events.handlers import CHANGES_STREAM_HANDLER
    from chalicelib.repositories import changes as change_repo
    from tests.factories import World

    world = World(utcnow())
    lp = world.lead_provider()
    for _ in range(3):
        world.school()
    poller = StreamPoller(app, moto_endpoint, backoff=0)
    assert poller.skip(CHANGES_STREAM_HANDLER) == 5  # one shard per source table
    poller.drain()
    assert change_repo.get_head(lp.id) is None  # nothing recorded for the schools written before
    after = world.school()
    poller.drain()
    entries = change_repo.read_from_head(lp.id, 10).entries
    assert [(e.seq, e.resource_id) for e in entries] == [(1, after.id)]
