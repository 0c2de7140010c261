"""The change feed under concurrency: writers change partnerships, participants and declarations from threads
while every stream is delivered by its own poller thread (so several record_changes invocations append for the
same provider at once) and a reader follows each provider's feed. At the end (writers done, streams drained, the
rest of each feed read) each reader's rebuilt view (resource type -> id -> updated_at, hidden ids removed) equals
what the API's lists serve, no sequence number was skipped or repeated, and no change was appended twice.

moto runs in process, tuned as the local stack tunes its server: its requests are serialised as DynamoDB makes
each request atomic (localdev.motolock), so the appenders' conditions, not luck, decide every race for a feed's
head; the threads' requests interleave freely between each other.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.clock import iso, truncate
from chalicelib.domain.errors import Conflict, InputError, InvalidTransition, NotFound, ValidationFailed
from chalicelib.repositories import changes as change_repo
from chalicelib.repositories import schools as school_repo
from tests.feed_helpers import Reader, assert_contiguous_from, client_get, path_of
from tests.finance_env import DATA, NOW, declaration_body

WRITERS_SECONDS = 10.0
SCHOOLS_PER_PROVIDER = 4
PARTICIPANTS_PER_SCHOOL = 2
EXPECTED = (ValidationFailed, InvalidTransition, NotFound, Conflict, InputError)  # a write the rules refuse: fine here


@pytest.fixture
def tuned(aws: None) -> Iterator[None]:
    """moto in process, tuned as the local stack tunes its server: each DynamoDB request atomic (motolock, as
    DynamoDB makes them), transactions without whole-table copies, GetRecords under the same lock."""
    from localdev.stack import tune_moto

    untune = tune_moto()
    change_repo.clear_cache()
    try:
        yield
    finally:
        untune()


class Clock:
    """Business time for the writers: NOW plus the wall time elapsed, so every write is later than the last."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def now(self) -> datetime:
        return truncate(NOW + timedelta(seconds=time.monotonic() - self.started))


class World:
    """Two providers with a delivery partner (two for the first), schools with participants waiting for a
    partnership, the finance cohorts and statements, tokens. Built through the services."""

    def __init__(self, clock: Clock) -> None:
        from chalicelib.services import importers, providers, schools, tokens
        from tests.factories import World as Factories

        factories = Factories(NOW)
        self.clock = clock
        self.lps = [factories.lead_provider("Ambition Institute"), factories.lead_provider("Capita")]
        importers.import_cohort(DATA, NOW)
        self.dps = {
            lp.id: [providers.add_delivery_partner(f"DP {lp.name} {n}", lp.name, [2024], NOW) for n in (1, 2)]
            for lp in self.lps
        }
        self.tokens = {lp.id: tokens.create_token(lp.name, NOW).token for lp in self.lps}
        self.schools = []
        for _ in range(SCHOOLS_PER_PROVIDER * len(self.lps)):
            school = factories.school()
            schools.set_programme_choice(school.urn, 2024, "provider_led", NOW - timedelta(days=400))
            self.schools.append(school)
        self.active: dict[str, str] = {}  # school id -> the provider that reported it last (and did not challenge)
        self.reported: dict[str, str] = {}  # school id -> its provider's partnership
        self.reported_at: dict[str, float] = {}  # school id -> when (monotonic): challenged once participants moved in
        self.participants: dict[str, list[str]] = {}  # school id -> user ids
        for school in self.schools:
            self.participants[school.id] = [self.onboard(school) for _ in range(PARTICIPANTS_PER_SCHOOL)]

    def onboard(self, school: Any) -> str:
        from chalicelib.services import induction

        name = f"Person {uuid.uuid4().hex[:8]}"
        onboarded = induction.add_participant(
            urn=school.urn,
            cohort=2024,
            full_name=name,
            email=f"{name.replace(' ', '.').lower()}@example.org",
            participant_type="ect",
            trn=None,
            mentor_email=None,
            appropriate_body=None,
            partnership_id=None,
            now=NOW - timedelta(days=390),
        )
        return onboarded.user_id

    def report_all(self) -> None:
        """Each school reported by its provider (the migrations run when the streams are delivered)."""
        from chalicelib.services import partnerships

        for index, lp in enumerate(self.lps):
            for school in self.schools_of(index):
                attributes = {"cohort": "2024", "school_id": school.id, "delivery_partner_id": self.dps[lp.id][0].id}
                self.reported[school.id] = partnerships.create_partnership(lp.id, attributes, NOW).id
                self.reported_at[school.id] = time.monotonic()
                self.active[school.id] = lp.id

    def schools_of(self, index: int) -> list[Any]:
        return self.schools[index * SCHOOLS_PER_PROVIDER : (index + 1) * SCHOOLS_PER_PROVIDER]


REFUSED: Counter[str] = Counter()  # what the rules refused, by writer and error (the assertion messages show it)
DONE: Counter[str] = Counter()


def run_for(seconds: float, step: Callable[[random.Random], None], seed: int, errors: list[BaseException]) -> Any:
    def loop() -> None:
        rng = random.Random(seed)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                try:
                    step(rng)
                    DONE[step.__qualname__] += 1
                except EXPECTED as refused:
                    REFUSED[f"{step.__qualname__}: {type(refused).__name__}: {refused}"[:160]] += 1
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def partnership_writer(world: World, index: int) -> Callable[[random.Random], None]:
    """Change delivery partners (PUT), challenge (the admin service) and report challenged schools again (POST)."""
    from chalicelib.services import partnerships

    lp = world.lps[index]
    challenged: set[str] = set()  # school ids

    def step(rng: random.Random) -> None:
        school = rng.choice(world.schools_of(index))
        now = world.clock.now()
        partner = rng.choice(world.dps[lp.id]).id
        if school.id in challenged and rng.random() < 0.7:
            attributes = {"cohort": "2024", "school_id": school.id, "delivery_partner_id": partner}
            world.reported[school.id] = partnerships.create_partnership(lp.id, attributes, now).id
            world.reported_at[school.id] = time.monotonic()
            challenged.discard(school.id)
            world.active[school.id] = lp.id
        elif school.id not in challenged and time.monotonic() - world.reported_at[school.id] > 1 and rng.random() < 0.3:
            partnerships.challenge_partnership(world.reported[school.id], "mistake", now, ignore_deadline=True)
            challenged.add(school.id)
            world.active.pop(school.id, None)
        elif school.id not in challenged:
            partnerships.update_partnership(lp.id, world.reported[school.id], {"delivery_partner_id": partner}, now)
        time.sleep(0.05)

    return step


def trained_participant(world: World, rng: random.Random) -> tuple[Any, str] | None:
    """A participant at a school a provider has reported (and not seen challenged): (provider, user id)."""
    active = list(world.active.items())
    if not active:
        time.sleep(0.05)
        return None
    school_id, lp_id = rng.choice(active)
    lp = next(lp for lp in world.lps if lp.id == lp_id)
    return lp, rng.choice(world.participants[school_id])


def participant_writer(world: World) -> Callable[[random.Random], None]:
    """Defer, resume and withdraw participants."""
    from chalicelib.services import participants

    def step(rng: random.Random) -> None:
        picked = trained_participant(world, rng)
        if picked is None:
            return
        lp, user_id = picked
        action = rng.choice(["defer", "resume", "withdraw"])
        attributes = {"course_identifier": "ecf-induction"}
        if action != "resume":
            attributes["reason"] = "career-break" if action == "defer" else "moved-school"
        participants.change_training_status(lp.id, user_id, action, attributes, world.clock.now())
        time.sleep(0.03)

    return step


def declaration_writer(world: World) -> Callable[[random.Random], None]:
    """Declare (POST) and void declarations."""
    from chalicelib.services import declarations

    made: list[tuple[str, str]] = []  # (lead provider id, declaration id)

    def step(rng: random.Random) -> None:
        if made and rng.random() < 0.3:
            lp_id, declaration_id = made.pop(rng.randrange(len(made)))
            declarations.void(lp_id, declaration_id, world.clock.now())
            return
        picked = trained_participant(world, rng)
        if picked is None:
            return
        lp, user_id = picked
        attributes = declaration_body(user_id)  # started: one billable per participant until it is voided
        declared = declarations.submit(lp.id, lp.name, attributes["data"]["attributes"], world.clock.now())
        made.append((lp.id, declared.id))
        time.sleep(0.03)

    return step


class Overlap:
    """How many record_changes invocations ran at once, at most, and how often an appender lost the race for a
    feed's head (the appenders' transactions refused by the head's condition)."""

    def __init__(self, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        from chalicelib.events.handlers import CHANGES_STREAM_HANDLER

        self.running = self.most = self.lost_races = 0
        self._lock = threading.Lock()
        handler = app.handler_map[CHANGES_STREAM_HANDLER]
        refusal = change_repo._refusal

        def counted(event: Any, context: Any) -> Any:
            with self._lock:
                self.running += 1
                self.most = max(self.most, self.running)
            try:
                return handler(event, context)
            finally:
                with self._lock:
                    self.running -= 1

        def counted_refusal(*args: Any) -> Any:
            found = refusal(*args)
            with self._lock:
                self.lost_races += int(found.lost_race)
            return found

        monkeypatch.setitem(app.handler_map, CHANGES_STREAM_HANDLER, counted)
        monkeypatch.setattr(change_repo, "_refusal", counted_refusal)


def pollers(app: Any) -> list[Any]:
    """One poller per table, each in its own thread: record_changes runs for several tables at once."""
    from chalicelib.events.handlers import stream_handlers
    from localdev.poller import StreamPoller

    found = []
    for name, models_ in stream_handlers().items():
        for model in models_:
            found.append(StreamPoller(app, None, handlers={name: (model,)}, interval=0.2, backoff=0.05))
    return found


def drain(everyone: list[Any]) -> None:
    """Until no poller has anything more (a handler's writes may add records to another table's stream)."""
    for _ in range(200):
        if sum(p.poll_once() for p in everyone) == 0 and sum(p.poll_once() for p in everyone) == 0:
            assert all(p.pending_retries() == 0 for p in everyone)
            return
    raise AssertionError("the streams never went quiet")


def list_all(get: Callable[[str], Any], path: str) -> dict[str, str]:
    """id -> updated_at of every item of a list, paged by cursor."""
    found: dict[str, str] = {}
    url: str | None = f"{path}{'&' if '?' in path else '?'}page[cursor]=&page[per_page]=50"
    while url:
        status, body, _ = get(path_of(url))
        assert status == 200, body
        found.update({item["id"]: item["attributes"]["updated_at"] for item in body["data"]})
        url = (body.get("links") or {}).get("next")
    return found


@pytest.mark.usefixtures("tuned")
def test_concurrent_writers_and_deliveries_give_every_reader_the_lists_view(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalice.test import Client

    import app as app_module

    DONE.clear()
    REFUSED.clear()
    clock = Clock()
    world = World(clock)
    everyone = pollers(app_module.app)
    overlap = Overlap(app_module.app, monkeypatch)
    world.report_all()
    drain(everyone)  # the schools reported and their participants moved in, before the concurrent part
    with Client(app_module.app, stage_name="test") as client:
        readers = {lp.id: Reader(client_get(client, world.tokens[lp.id])) for lp in world.lps}
        for poller in everyone:
            poller.start()
        errors: list[BaseException] = []
        writers = [
            run_for(WRITERS_SECONDS, partnership_writer(world, 0), 1, errors),
            run_for(WRITERS_SECONDS, partnership_writer(world, 1), 2, errors),
            run_for(WRITERS_SECONDS, participant_writer(world), 3, errors),
            run_for(WRITERS_SECONDS, declaration_writer(world), 4, errors),
        ]
        pages = 0
        while any(w.is_alive() for w in writers):  # the readers follow the feeds while everything runs
            for feed in readers.values():
                feed.page()
                pages += 1
            time.sleep(0.05)
        for writer in writers:
            writer.join(30)
        assert not errors, errors
        for poller in everyone:
            poller.stop()
        drain(everyone)
        seen: Counter[tuple[str, str]] = Counter()
        for lp in world.lps:
            seen += check_reader(readers[lp.id], client_get(client, world.tokens[lp.id]), lp.id)
    assert sum(p.failed_batches for p in everyone) == 0
    assert pages > 10
    assert min(DONE.values()) >= 5, (DONE, REFUSED)  # each writer did real work, not only refused writes
    assert set(seen) >= WANTED, (WANTED - set(seen), DONE, REFUSED)  # every kind of change happened
    # Several record_changes invocations appended at once, and appenders lost races for a head (and retried).
    assert overlap.most >= 2, (overlap.most, overlap.lost_races)
    print(f"OVERLAP most={overlap.most} lost={overlap.lost_races} done={dict(DONE)}")


WANTED = {
    ("participant", "visible"),
    ("participant", "hidden"),
    ("participant", "updated"),
    ("partnership", "created"),
    ("partnership", "updated"),
    ("school", "visible"),
    ("school", "updated"),
    ("participant-declaration", "created"),
    ("participant-declaration", "updated"),
    ("statement", "created"),
}


def check_reader(feed: Reader, get: Callable[[str], Any], lead_provider_id: str) -> Counter[tuple[str, str]]:
    """The reader's view is the lists'; returns the kinds of entries it saw."""
    feed.follow()
    assert_contiguous_from(feed.entries, 1)
    head = change_repo.get_head(lead_provider_id)
    assert head is not None
    assert head.seq == feed.last_sequence()
    appended = Counter((e["resource_type"], e["resource_id"], e["change"], e["updated_at"]) for e in feed.entries)
    assert [key for key, count in appended.items() if count > 1] == []  # no change appended twice
    view = feed.view()
    assert view.get("participant", {}) == list_all(get, "/api/v3/participants/ecf")
    assert view.get("partnership", {}) == list_all(get, "/api/v3/partnerships/ecf")
    assert view.get("participant-declaration", {}) == list_all(get, "/api/v3/participant-declarations")
    assert view.get("statement", {}) == list_all(get, "/api/v3/statements")
    check_schools(view.get("school", {}), get)
    return Counter((e["resource_type"], e["change"]) for e in feed.entries)


def check_schools(seen: dict[str, str], get: Callable[[str], Any]) -> None:
    """The schools the lists show for any cohort, each with the school's own updated_at (what the list's
    filter[updated_since] compares). A list shows the later of the school's and its school cohort's time; a few
    school-cohort writes do not touch the school (the migration's default programme), so compare with that."""
    listed: dict[str, str] = {}
    for cohort in (2024, 2025):
        for school_id, updated_at in list_all(get, f"/api/v3/schools/ecf?filter[cohort]={cohort}").items():
            listed[school_id] = max(listed.get(school_id, ""), updated_at)
    assert set(seen) == set(listed)
    for school_id, updated_at in seen.items():
        school = school_repo.find_school(school_id)
        assert school is not None
        assert updated_at == iso(school.updated_at), school_id
        cohorts = [school_repo.find_school_cohort(school_id, year) for year in (2024, 2025)]
        latest = max([school.updated_at] + [c.updated_at for c in cohorts if c is not None])
        assert listed[school_id] == iso(latest), school_id
