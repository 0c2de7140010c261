"""The local stack: stream poller against a moto server, demo data, GIAS extract, scheduler, whole process."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice import Chalice, Cron

from chalicelib import config, models
from chalicelib.domain import partnerships as domain
from chalicelib.domain.errors import Conflict
from chalicelib.events.handlers import PARTNERSHIPS_STREAM_HANDLER
from chalicelib.models import Partnership
from chalicelib.repositories import events
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.services import importers, partnerships, tokens
from localdev import gias
from localdev.poller import StreamPoller
from localdev.scheduler import Scheduler, parse_job
from tests.conftest import NOW, REFERENCE
from tests.factories import World

PROJECT_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


# --------------------------------------------------------------------------- poller against a moto server


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server in this process, with the models bound to fresh tables on it.

    Teardown removes the endpoint variable (while one is set, other tests' mock_aws
    would not intercept) and puts moto and the model bindings back as they were.
    """
    from localdev.stack import MotoServer, tune_moto

    server = MotoServer(free_port())  # tunes moto as the stack does
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.endpoint)
    config.reset()
    config.configure(table_prefix=f"ecf-lp-api-localdev-{uuid.uuid4().hex[:8]}")
    models.rebind_all()
    models.create_tables()
    try:
        yield server.endpoint
    finally:
        server.stop()
        monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
        config.reset()
        models.rebind_all()
        tune_moto()()  # undo


@pytest.fixture
def app() -> Chalice:
    import app as app_module

    return app_module.app


# The tests of the poller itself watch the partnerships handler alone (the change feed's handler has tests of its own).
PARTNERSHIPS_ONLY = {PARTNERSHIPS_STREAM_HANDLER: (Partnership,)}


def _report(world: World, lp, dp, year: int = 2024):  # type: ignore[no-untyped-def]
    school = world.school()
    attributes = {"cohort": str(year), "school_id": school.id, "delivery_partner_id": dp.id}
    return partnerships.create_partnership(lp.id, attributes, world.later()), school


@pytest.fixture
def delivered(app: Chalice, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every event the stream handler is called with (the handler itself still runs)."""
    events_seen: list[dict] = []
    handler = app.handler_map[PARTNERSHIPS_STREAM_HANDLER]

    def recording(event, context):  # type: ignore[no-untyped-def]
        events_seen.append(event)
        return handler(event, context)

    monkeypatch.setitem(app.handler_map, PARTNERSHIPS_STREAM_HANDLER, recording)
    return events_seen


def _drain(poller: StreamPoller) -> int:
    """Poll until the stream is quiet (the handler's own writes may add records)."""
    total = 0
    for _ in range(20):
        count = poller.poll_once()
        if count == 0:
            return total
        total += count
    raise AssertionError("the stream never went quiet")


def _ids(events_seen: list[dict]) -> list[str]:
    return [r["dynamodb"]["Keys"]["id"]["S"] for event in events_seen for r in event["Records"]]


def test_poller_delivers_partnership_changes_to_the_stream_handler(
    moto_endpoint: str, app: Chalice, delivered: list[dict]
) -> None:
    world = World(NOW)
    world.cohort(2024)
    lp = world.lead_provider("Ambition Institute")
    dp = world.delivery_partner(lp, [2024])
    record, _ = _report(world, lp, dp)

    poller = StreamPoller(app, moto_endpoint, handlers=PARTNERSHIPS_ONLY, backoff=0)
    assert poller.poll_once() >= 1
    assert delivered[0]["Records"][0]["eventName"] == "INSERT"
    assert [e.event_type for e in events.history(record.id)] == ["reported"]
    _drain(poller)
    assert poller.poll_once() == 0  # nothing is delivered twice

    partnerships.challenge_partnership(record.id, "mistake", world.later())
    assert _drain(poller) >= 1
    assert [e.event_type for e in events.history(record.id)] == ["reported", "challenged"]


def test_a_failing_handler_gets_the_same_batch_again(
    moto_endpoint: str, app: Chalice, delivered: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(NOW)
    world.cohort(2024)
    lp = world.lead_provider()
    dp = world.delivery_partner(lp, [2024])
    first, _ = _report(world, lp, dp)
    second, _ = _report(world, lp, dp)

    recording = app.handler_map[PARTNERSHIPS_STREAM_HANDLER]
    failures: list[int] = []

    def flaky(event, context):  # type: ignore[no-untyped-def]
        if not failures:
            failures.append(len(event["Records"]))
            delivered.append(event)
            raise RuntimeError("the handler's first attempt fails")
        return recording(event, context)

    monkeypatch.setitem(app.handler_map, PARTNERSHIPS_STREAM_HANDLER, flaky)
    poller = StreamPoller(app, moto_endpoint, handlers=PARTNERSHIPS_ONLY, backoff=0)

    assert poller.poll_once() == 0
    assert poller.pending_retries() == 1
    assert events.history(first.id) == []

    assert poller.poll_once() == 2
    assert poller.pending_retries() == 0
    assert delivered[0] == delivered[1]  # the same batch, in the same order
    assert _ids(delivered[:1]) == [first.id, second.id]
    _drain(poller)
    assert [e.event_type for e in events.history(first.id)] == ["reported"]
    assert [e.event_type for e in events.history(second.id)] == ["reported"]

    # The records are shaped as Lambda delivers them (what chalice's DynamoDBRecord reads).
    record = delivered[1]["Records"][0]
    assert record["eventName"] == "INSERT"
    assert record["eventSourceARN"].startswith(
        f"arn:aws:dynamodb:eu-west-2:123456789012:table/{Partnership.Meta.table_name}/stream/"
    )
    assert record["awsRegion"] == "eu-west-2"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)
    assert record["dynamodb"]["Keys"] == {"id": {"S": first.id}}
    assert record["dynamodb"]["NewImage"]["school_id"] == {"S": first.school_id}
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_a_failed_transaction_leaves_no_stream_records_and_the_stream_readable(
    moto_endpoint: str, app: Chalice, delivered: list[dict]
) -> None:
    """moto itself would replace the table object on rollback, orphaning open shard iterators."""
    world = World(NOW)
    world.cohort(2024)
    lp = world.lead_provider()
    dp = world.delivery_partner(lp, [2024])
    _, school = _report(world, lp, dp)
    poller = StreamPoller(app, moto_endpoint, handlers=PARTNERSHIPS_ONLY, backoff=0)
    _drain(poller)
    delivered.clear()

    rival = domain.Partnership(
        id=str(uuid.uuid4()),
        school_id=school.id,
        urn=school.urn,
        lead_provider_id=lp.id,
        delivery_partner_id=dp.id,
        delivery_partner_name=dp.name,
        cohort=2024,
        relationship=False,
        pending=False,
        challenged_at=None,
        challenge_reason=None,
        challenge_deadline=None,
        report_id=str(uuid.uuid4()),
        created_at=NOW,
        updated_at=NOW,
    )
    with pytest.raises(Conflict):  # the school cohort is already held by the first partnership
        partnership_repo.save_reported(rival, is_new=True, now=NOW)
    assert partnership_repo.get_partnership(rival.id) is None

    later, _ = _report(world, lp, dp)
    assert _drain(poller) >= 1
    assert later.id in _ids(delivered)  # the stream is still readable after the rollback...
    assert rival.id not in _ids(delivered)  # ...and has no record of the rolled-back put
    assert [e.event_type for e in events.history(later.id)] == ["reported"]
    assert events.history(rival.id) == []


# --------------------------------------------------------------------------- GIAS extract and demo data


def test_gias_extract_is_latin_1_with_the_real_header(tmp_path: Path) -> None:
    path = tmp_path / "gias.csv"
    rows = gias.write_gias_csv(path, 200, seed=7)
    data = path.read_bytes()
    reference = REFERENCE / "data" / "importer-samples" / "ecf_tech.csv"
    if reference.is_file():
        expected = reference.read_bytes().split(b"\n", 1)[0].rstrip(b"\r")
        assert data.split(b"\n", 1)[0] == expected
    assert data.split(b"\n", 1)[0].decode("iso-8859-1") == gias.HEADER
    assert b"\xe9" in data  # é as one Latin-1 byte...
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # ...so not UTF-8
    assert len(rows) == 200
    assert len({r["URN"] for r in rows}) == 200
    assert data == (gias.write_gias_csv(tmp_path / "again.csv", 200, seed=7) and (tmp_path / "again.csv").read_bytes())
    gias.write_gias_csv(tmp_path / "other.csv", 200, seed=8)
    assert (tmp_path / "other.csv").read_bytes() != data
    codes = {r["TypeOfEstablishment (code)"] for r in gias.generate_rows(3000)}
    assert {"1", "34", "28", "11", "10", "30"} <= codes
    districts = {r["DistrictAdministrative (code)"][:3] for r in gias.generate_rows(3000)}
    assert {"E06", "E07", "E08", "E09", "W06", "999"} <= districts


def test_gias_extract_imports_with_accents_intact(aws: None, tmp_path: Path) -> None:
    from chalicelib.repositories import schools as school_repo

    path = tmp_path / "gias.csv"
    rows = gias.write_gias_csv(path, 200, seed=7)
    result = importers.import_schools(path, NOW)
    assert result.rows == 200
    assert result.created > 150
    assert result.skipped > 0
    accented = [r for r in rows if not r["EstablishmentName"].isascii()]
    stored = [school_repo.get_school_by_urn(r["URN"]) for r in accented]
    assert any(s is not None and s.name == r["EstablishmentName"] for s, r in zip(stored, accented, strict=True))


def test_demo_data_loads_through_the_services(aws: None) -> None:
    from localdev.demo import LEAD_PROVIDERS, load_demo

    result = load_demo(NOW, schools_count=200, log=lambda _: None)
    assert list(result.tokens) == list(LEAD_PROVIDERS)
    for name, token in result.tokens.items():
        caller = tokens.authenticate(token, NOW)
        assert caller is not None
        assert caller.lead_provider_name == name
    assert result.schools_imported > 150
    assert result.delivery_partners >= len(LEAD_PROVIDERS)
    assert result.partnerships > 10
    assert result.challenged >= 1
    assert result.programme_choices > 0
    assert models.Partnership.count() == result.partnerships

    # The printed POST example works: an unpartnered eligible school and a partner of that LP.
    example = result.example
    assert example is not None
    created = partnerships.create_partnership(
        result.lead_providers[example.lead_provider],
        {
            "cohort": str(example.cohort),
            "school_id": example.school_id,
            "delivery_partner_id": example.delivery_partner_id,
        },
        NOW + timedelta(seconds=1),
    )
    assert created.school_id == example.school_id


def test_the_demos_bulk_is_what_the_services_and_the_stream_leave(aws: None) -> None:
    """Step 5 of the demo is written settled (``_SettledWriter``): the partnerships stream's migration, run now
    on every partnership, moves nobody and changes no provider's participant views, and every provider sees
    its participants through the API's own service."""
    from chalicelib.domain.paging import Order, Page
    from chalicelib.models.participants import ProviderParticipant
    from chalicelib.services import migrations, participants
    from localdev.demo import load_demo

    settled_at: list[int] = []
    result = load_demo(NOW, schools_count=300, log=lambda _: None, settled=lambda: settled_at.append(1))
    assert settled_at == [1]

    def views() -> dict[tuple[str, str], dict[str, object]]:
        return {(v.lead_provider_id, v.user_id): v.attribute_values for v in ProviderParticipant.scan()}

    before = views()
    assert len(before) >= result.participants - 20  # the example's 4 wait for a partnership; finance's are there
    later = NOW + timedelta(minutes=5)
    active = [p for p in models.Partnership.scan() if not p.challenge_reason and not p.relationship]
    assert len(active) > 20
    assert all(migrations.migrate(p.id, p.report_id, later) == 0 for p in active)
    assert views() == before

    visible = {key for key, view in before.items() if view.get("visible_to")}
    listed = set()
    for lead_provider_id in result.lead_providers.values():
        page = participants.list_participants(
            lead_provider_id, cohorts=None, training_status=None, updated_since=None, order=Order(),
            page=Page(1, 1000),
        )  # fmt: skip
        listed |= {(lead_provider_id, view.user_id) for view in page.items}
    assert listed == visible
    assert len(visible) > 50


# --------------------------------------------------------------------------- scheduler


def test_scheduler_runs_rate_and_cron_schedules() -> None:
    demo = Chalice(app_name="schedules")
    calls: list[tuple[str, object]] = []

    @demo.schedule("rate(5 minutes)")
    def every_five(event):  # type: ignore[no-untyped-def]
        calls.append(("every_five", event))

    @demo.schedule(Cron(30, 9, "?", "*", "MON-FRI", "*"))
    def weekday_mornings(event):  # type: ignore[no-untyped-def]
        calls.append(("weekday_mornings", event))

    @demo.schedule("cron(0 12 L * ? *)")
    def last_day(event):  # type: ignore[no-untyped-def]
        calls.append(("last_day", event))

    start = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)  # a Saturday
    scheduler = Scheduler(demo, clock=lambda: start)
    assert [job.name for job in scheduler.jobs] == ["every_five", "weekday_mornings"]
    assert [name for name, _ in scheduler.skipped] == ["last_day"]
    assert scheduler.jobs[1].next_run == datetime(2024, 6, 3, 9, 30, tzinfo=UTC)  # Monday

    assert scheduler.run_due(start + timedelta(minutes=4)) == []
    assert scheduler.run_due(start + timedelta(minutes=5)) == ["every_five"]
    assert scheduler.run_due(start + timedelta(minutes=6)) == []
    assert scheduler.run_due(start + timedelta(hours=2)) == ["every_five"]  # missed runs are not replayed
    assert scheduler.jobs[0].next_run == start + timedelta(hours=2, minutes=5)
    assert scheduler.run_due(datetime(2024, 6, 3, 9, 30, tzinfo=UTC)) == ["every_five", "weekday_mornings"]
    assert scheduler.jobs[1].next_run == datetime(2024, 6, 4, 9, 30, tzinfo=UTC)

    name, event = calls[-1]
    assert name == "weekday_mornings"
    assert event.detail_type == "Scheduled Event"  # type: ignore[attr-defined]
    assert event.source == "aws.events"  # type: ignore[attr-defined]
    assert event.resources == ["arn:aws:events:eu-west-2:123456789012:rule/weekday_mornings"]  # type: ignore[attr-defined]


def test_schedule_expressions() -> None:
    assert parse_job("a", "rate(1 hour)").every == timedelta(hours=1)
    assert parse_job("b", "rate(2 days)").every == timedelta(days=2)
    cron = parse_job("c", "cron(0/15 8-17 ? * MON-FRI *)").cron
    assert cron is not None
    assert cron.next_after(datetime(2024, 6, 7, 17, 50, tzinfo=UTC)) == datetime(2024, 6, 10, 8, 0, tzinfo=UTC)
    assert cron.next_after(datetime(2024, 6, 10, 8, 0, tzinfo=UTC)) == datetime(2024, 6, 10, 8, 15, tzinfo=UTC)
    monthly = parse_job("d", "cron(0 6 1 JAN,JUL ? *)").cron
    assert monthly is not None
    assert monthly.next_after(datetime(2024, 2, 1, tzinfo=UTC)) == datetime(2024, 7, 1, 6, 0, tzinfo=UTC)
    for bad, why in (
        ("rate(0 minutes)", "the rate must be at least 1"),
        ("every day", "neither rate"),
        ("cron(0 12 * * ?)", "needs 6 fields"),
        ("cron(0 25 * * ? *)", "out of range"),
    ):
        with pytest.raises(ValueError, match=why):
            parse_job("x", bad)


def test_the_apps_schedules_can_all_run_locally(app: Chalice) -> None:
    assert Scheduler(app).skipped == []


# --------------------------------------------------------------------------- the whole process


# What tests/conftest.py sets for the tests themselves: the local stack gets the local stage's values instead.
TEST_SETTINGS = ("AUTH_CACHE_SECONDS", "REFERENCE_CACHE_SECONDS", "RATE_LIMIT_PER_TOKEN", "RATE_LIMIT_PER_IP")
LOCAL_TOKEN_LIMIT = "4321"  # set as a tester would: the stack must keep it (docs/rate-limits.md)


def _environment(port: int, dynamodb_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL") and k not in TEST_SETTINGS}
    env.update(PORT=str(port), DYNAMODB_PORT=str(dynamodb_port), DEMO_SCHOOLS="300", PYTHONUNBUFFERED="1")
    env["RATE_LIMIT_PER_TOKEN"] = LOCAL_TOKEN_LIMIT
    return env


def test_the_local_stack_keeps_the_settings_a_user_set() -> None:
    """The stage's settings are defaults (a tester can lower a limit); the stage itself and the endpoint are not."""
    from localdev.stack import configure_environment, stage_variables

    env = {
        "RATE_LIMIT_PER_TOKEN": "5",
        "AUTH_CACHE_SECONDS": "0",
        "STAGE": "prod",
        "TABLE_PREFIX": "x",
        "AWS_PROFILE": "p",
    }
    assert configure_environment(8123, env) == "http://127.0.0.1:8123"
    assert (env["RATE_LIMIT_PER_TOKEN"], env["AUTH_CACHE_SECONDS"]) == ("5", "0")
    stage = stage_variables()
    assert (stage["RATE_LIMIT_PER_TOKEN"], stage["AUTH_CACHE_SECONDS"]) == ("1000", "60")
    for name in ("RATE_LIMIT_PER_IP", "RATE_LIMIT_WINDOW_SECONDS"):
        assert env[name] == stage[name] == "300"
    assert (env["STAGE"], env["TABLE_PREFIX"]) == ("local", "ecf-lp-api-local")
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:8123"
    assert "AWS_PROFILE" not in env


def test_loading_the_app_as_chalice_local_does_leaves_the_environment_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chalice writes the stage's variables into the environment it is given; the local stack gives it a copy."""
    from localdev.stack import load_app

    monkeypatch.setenv("RATE_LIMIT_PER_TOKEN", "7")
    monkeypatch.delenv("AWS_EXECUTION_ENV", raising=False)  # Chalice sets its user agent here: put back after
    before = dict(os.environ)
    app_object, chalice_config = load_app()
    assert app_object is not None
    assert chalice_config.environment_variables["RATE_LIMIT_PER_TOKEN"] == "1000"
    after = {name: value for name, value in os.environ.items() if name != "AWS_EXECUTION_ENV"}
    assert after == before


def test_python_m_localdev_serves_the_api_and_stops_cleanly(tmp_path: Path) -> None:
    port, dynamodb_port = free_port(), free_port()
    with (tmp_path / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "localdev", "--fresh-demo"],  # the path of a fresh clone: no snapshot
            cwd=PROJECT_DIR,
            env=_environment(port, dynamodb_port),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)

        threading.Thread(target=read, daemon=True).start()
        try:
            output, answers = _until_ready(process, lines, port, tmp_path)
            text = "".join(output)
            assert 503 in answers, answers  # the demo data takes long enough for at least one probe to see it
            starting = answers[: answers.index(401)] if 401 in answers else answers  # 401: served (the gate opens
            assert set(answers[len(starting) :]) <= {401}, answers  # just before the banner is printed)
            assert set(starting) <= {503, "refused"}, answers
            assert starting.index(503) > max((i for i, a in enumerate(starting) if a == "refused"), default=-1)
            assert re.search(r"^Started in \d+\.\ds \(", text, re.MULTILINE), text
            _assert_banner(text, port, dynamodb_port)
            _assert_get_is_recorded(text, port, dynamodb_port)
            assert not [line for line in output if line.startswith("{")], "structured lines go to stderr"
            _assert_unknown_route_is_a_404(port)
            _assert_schools_page_and_limits(port, text)

            feed_token, latest = _feed_end(text)

            # The printed POST example works as printed.
            post = re.search(r"-d '(\{.*\})' \"(http://\S+)\"", text)
            assert post is not None
            post_token = re.search(r'curl -X POST -H "Authorization: Bearer ([A-Za-z0-9_-]+)"', text).group(1)  # type: ignore[union-attr]
            request = urllib.request.Request(
                post.group(2),
                data=post.group(1).encode(),
                headers={"Authorization": f"Bearer {post_token}", "Content-Type": "application/vnd.api+json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
                reported = json.load(response)["data"]["id"]
            _assert_reported_in_feed(latest, feed_token, reported)

            # So does the printed declaration POST, after the demo's stream records were delivered.
            from tests.test_demo_declarations import curl_request

            line = next(x.strip() for x in output if "-X POST" in x and "/participant-declarations" in x)
            method, url, headers, data = curl_request(line)
            request = urllib.request.Request(url, data=data.encode(), headers=headers, method=method)
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
                assert json.load(response)["data"]["attributes"]["state"] == "eligible"
            assert "Statement to authorise: " in text
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            code = process.wait(timeout=20)
    assert code == 0, (tmp_path / "stderr.log").read_text()
    assert not listening(port)
    assert not listening(dynamodb_port)


def _assert_get_is_recorded(banner: str, port: int, dynamodb_port: int) -> None:
    """The banner's first token lists schools; the request reaches the audit trail (the stack ships its own log
    lines) and ``ecf-admin api-requests list`` shows it."""
    token = re.search(r'Bearer ([A-Za-z0-9_-]+)"', banner).group(1)  # type: ignore[union-attr]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v3/schools/ecf?filter[cohort]=2024&page[per_page]=5",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert len(json.load(response)["data"]) == 5
        request_id = response.headers["X-Request-Id"]
    lead_provider = re.search(r"Try it \((.+)\):", banner).group(1)  # type: ignore[union-attr]
    command = [sys.executable, "-m", "admin", "api-requests", "list", "--lead-provider", lead_provider, "--json"]
    deadline = time.monotonic() + 10
    while True:
        done = subprocess.run(command, cwd=PROJECT_DIR, env=_environment(port, dynamodb_port), capture_output=True,
                              text=True, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        if request_id in [row["request_id"] for row in json.loads(done.stdout)["requests"]]:
            return
        assert time.monotonic() < deadline, f"{request_id} not in ecf-admin api-requests list: {done.stdout}"
        time.sleep(0.5)


def _assert_schools_page_and_limits(port: int, banner: str) -> None:
    """A GET with the first printed token works; its rate limit is the tester's value, not the stage's."""
    token = re.search(r'Bearer ([A-Za-z0-9_-]+)"', banner).group(1)  # type: ignore[union-attr]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v3/schools/ecf?filter[cohort]=2024&page[per_page]=5",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["RateLimit-Limit"] == LOCAL_TOKEN_LIMIT
    assert f"Rate limits        {LOCAL_TOKEN_LIMIT} requests per 5 minutes per token, 300 per address" in banner


def _assert_unknown_route_is_a_404(port: int) -> None:
    """The deployed API's 404 for a path no route matches (localdev/apiserver.py; tests/test_localdev_server.py)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v3/no-such-resource", headers={"Authorization": "x"})
    with pytest.raises(urllib.error.HTTPError) as answered:
        urllib.request.urlopen(request, timeout=10)
    assert answered.value.code == 404
    assert answered.value.headers["Content-Type"] == "application/vnd.api+json"
    assert json.load(answered.value) == {"error": "Resource not Found"}


def _assert_banner(banner: str, port: int, dynamodb_port: int) -> None:
    """The banner names the servers and the stream handlers, and its documentation page and document are served."""
    assert f"http://127.0.0.1:{port}" in banner
    assert f"http://127.0.0.1:{dynamodb_port}" in banner
    assert PARTNERSHIPS_STREAM_HANDLER in banner
    page = re.search(r"^API docs +(http://\S+/api-docs/v3)\s", banner, re.M)
    assert page is not None, banner
    with urllib.request.urlopen(page.group(1), timeout=10) as response:
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert 'data-spec-url="v3/swagger.json"' in response.read().decode()
    with urllib.request.urlopen(f"{page.group(1)}/swagger.yaml", timeout=10) as response:
        assert response.headers["Content-Type"] == "application/yaml"


STARTED_WITHIN = 180  # s: a hang guard; building 300 schools' demo data takes over 60 s on a busy 2-core machine


def _until_ready(
    process: subprocess.Popen[str], lines: queue.Queue[str], port: int, tmp_path: Path
) -> tuple[list[str], list[int | str]]:
    """The output up to "Ready.", and what requests got meanwhile (refused, or 503 + Retry-After; never a hang)."""
    output: list[str] = []
    answers: list[int | str] = []
    deadline = time.monotonic() + STARTED_WITHIN
    while not any(line.startswith("Ready.") for line in output):
        assert process.poll() is None, "".join(output) + (tmp_path / "stderr.log").read_text()
        assert time.monotonic() < deadline, f"no banner after {STARTED_WITHIN} s:\n" + "".join(output)
        with contextlib.suppress(queue.Empty):
            output.append(lines.get(timeout=0.5))
        if not any(line.startswith("Ready.") for line in output):
            answers.append(_answer_while_starting(port))
    return output, answers


def _answer_while_starting(port: int) -> int | str:
    """A request during start-up with a short socket timeout: "refused", or the status (503 asserts its headers).
    A hang raises socket.timeout and fails the test."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        connection.request("GET", "/api/v3/participants/ecf", headers={"Authorization": "Bearer x"})
    except ConnectionRefusedError:
        return "refused"
    response = connection.getresponse()
    if response.status == 503:
        assert response.getheader("Retry-After", "").isdigit()
        assert json.loads(response.read())["errors"][0]["status"] == "503"
    connection.close()
    return response.status


def _feed_end(banner: str) -> tuple[str, str]:
    """The printed change-feed curl works as printed (-g: brackets are not globs): its token, and its page's
    links.latest (where the feed ends now)."""
    feed = re.search(r'curl -g -H "Authorization: Bearer ([A-Za-z0-9_-]+)" "(\S+/api/v3/changes\?\S+)"', banner)
    assert feed is not None, banner
    return feed.group(1), _get_json(feed.group(2), feed.group(1))["links"]["latest"]


def _assert_reported_in_feed(latest: str, token: str, partnership_id: str) -> None:
    """The partnership and the participants it made visible reach the reporting provider's feed (the banner's feed
    is that provider's) within seconds. Their order is not asserted: they come from two streams, and a partnership
    written while the poller is between them can be recorded after its participants (docs/change-feed.md)."""
    wanted = {("partnership", "created"), ("participant", "visible")}
    entries = _follow_until(latest, token, lambda found: wanted <= found)
    kinds = [(e["resource_type"], e["change"], e["resource_id"]) for e in entries]
    assert ("partnership", "created", partnership_id) in kinds


def _get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.load(response)


def _follow_until(url: str, token: str, done: Callable[[set[tuple[str, str]]], bool]) -> list[dict[str, Any]]:
    """Follow a feed from ``url`` (links.next after links.next) until ``done`` says so, for at most 10 s."""
    entries: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page = _get_json(url, token)
        entries += [item["attributes"] for item in page["data"]]
        url = page["links"]["next"]
        if done({(e["resource_type"], e["change"]) for e in entries}):
            return entries
        time.sleep(0.1)
    raise AssertionError(f"the feed did not show it in 10 s: {entries}")


def test_a_busy_port_is_a_one_line_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(  # noqa: PLW1510 - it must fail: the exit status is asserted below
            [sys.executable, "-m", "localdev"],
            cwd=PROJECT_DIR,
            env=_environment(port, free_port()),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"localdev: port {port} on 127.0.0.1 is already in use (set PORT to use another port)"
    )
