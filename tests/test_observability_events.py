"""One structured line and one set of EMF metrics per stream and schedule invocation (events/invocations.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.events.handlers import (
    CHANGES_STREAM_HANDLER,
    PARTNERSHIPS_STREAM_HANDLER,
    RECONCILE_SCHEDULE,
)
from chalicelib.events.invocations import INVOCATION_MESSAGE
from chalicelib.models import Partnership
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.services import partnerships as partnership_service
from tests.observability_helpers import Captured, capture, emf_dimensions, emf_values
from tests.test_migration import NOW, school_with_participants  # noqa: F401 - registers the fixture here
from tests.test_stream_handler import stream_event


@pytest.fixture
def school(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A school with five unpartnered participants (tests/test_migration.py)."""
    found: dict[str, Any] = request.getfixturevalue("school_with_participants")
    return found


@pytest.fixture
def logs() -> Any:
    with capture() as captured:
        yield captured


def report(s: dict[str, Any]) -> Any:
    return partnership_service.create_partnership(
        s["lp"].id, {"cohort": "2024", "school_id": s["school"].id, "delivery_partner_id": s["dp"].id}, NOW
    )


def only_invocation(logs: Captured) -> tuple[dict[str, Any], dict[str, tuple[float, str]], dict[str, str]]:
    (line,) = logs.messages(INVOCATION_MESSAGE)
    (document,) = logs.metrics
    return line, emf_values(document), emf_dimensions(document)


def test_a_stream_batch_line_and_metrics(school: dict[str, Any], client: Any, logs: Captured) -> None:
    import app as app_module
    from bench.counting import count_requests

    app = app_module.app

    s = school
    record = report(s)
    new = Partnership.get(record.id).serialize()
    other = {**new, "id": {"S": "not-a-partnership"}, "relationship": {"BOOL": True}}  # a relationship row: ignored
    handler = app.handler_map[PARTNERSHIPS_STREAM_HANDLER]  # Lambda's entry point, with a context we know
    context = SimpleNamespace(aws_request_id="5f0e9d2c-lambda-invocation", function_name=PARTNERSHIPS_STREAM_HANDLER)
    with count_requests() as counts:
        handler(stream_event([("INSERT", None, new), ("INSERT", None, other)]), context)
    line, metrics, dimensions = only_invocation(logs)
    assert (line["message"], line["level"], line["service"]) == ("invocation", "INFO", "ecf-lp-api")
    assert line["request_id"] == "5f0e9d2c-lambda-invocation"  # the id on Lambda's own START/END/REPORT lines
    assert (line["handler"], line["records"], line["outcome"]) == (PARTNERSHIPS_STREAM_HANDLER, 2, "ok")
    assert line["counts"] == {"MigrationsRun": len(s["people"])}  # the school's 5 participants moved in
    assert line["dynamodb_requests"] == counts.total > 0
    assert line["duration_ms"] > 0
    assert isinstance(line["cold_start"], bool)
    assert metrics == {
        "MigrationsRun": (5.0, "Count"),
        "DynamoDBRequests": (float(counts.total), "Count"),
        "StreamBatchFailures": (0.0, "Count"),
    }
    assert dimensions == {"service": "ecf-lp-api", "stage": "test", "handler": PARTNERSHIPS_STREAM_HANDLER}

    logs.clear()
    client.lambda_.invoke(PARTNERSHIPS_STREAM_HANDLER, stream_event([("MODIFY", new, new)]))  # redelivered: no move
    line, metrics, _ = only_invocation(logs)
    assert (line["counts"], metrics["MigrationsRun"]) == ({"MigrationsRun": 0}, (0.0, "Count"))


def test_a_failed_batch_is_logged_counted_and_raised(
    school: dict[str, Any],
    client: Any,
    logs: Captured,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.services import migrations

    s = school
    new = Partnership.get(report(s).id).serialize()

    def broken(*args: Any) -> int:
        raise RuntimeError("DynamoDB is away")

    monkeypatch.setattr(migrations, "on_partnership_change", broken)
    with pytest.raises(RuntimeError, match="DynamoDB is away"):  # raised again: Lambda retries, bisects, dead-letters
        client.lambda_.invoke(PARTNERSHIPS_STREAM_HANDLER, stream_event([("INSERT", None, new)]))
    line, metrics, _ = only_invocation(logs)
    assert (line["outcome"], line["level"], line["records"]) == ("error", "ERROR", 1)
    assert uuid.UUID(line["request_id"])
    assert line["exception_name"] == "RuntimeError"
    assert "DynamoDB is away" in line["exception"]
    assert line["counts"] == {}
    assert metrics["StreamBatchFailures"] == (1.0, "Count")


def test_a_schedule_line_and_metrics(school: dict[str, Any], client: Any, logs: Captured, monkeypatch: Any) -> None:
    from chalicelib.events import handlers

    record = report(school)  # reported, never delivered: the reconcile job finishes it
    monkeypatch.setattr(handlers, "utcnow", lambda: NOW + timedelta(minutes=10))
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
    client.lambda_.invoke(RECONCILE_SCHEDULE, event)
    line, metrics, dimensions = only_invocation(logs)
    assert (line["handler"], line["outcome"]) == (RECONCILE_SCHEDULE, "ok")
    assert uuid.UUID(line["request_id"])  # the Lambda context's aws_request_id (chalice.test makes a UUID)
    assert "records" not in line  # not a stream batch
    assert line["counts"] == {"MigrationsRun": 5, "MigrationsReconciled": 1}
    assert "StreamBatchFailures" not in metrics
    assert metrics["MigrationsReconciled"] == (1.0, "Count")
    assert dimensions["handler"] == RECONCILE_SCHEDULE
    assert partnership_repo.pending_migration_ids(10) == []
    assert record.id


def test_record_changes_counts_the_entries_it_appends(world: Any, client: Any, logs: Captured) -> None:
    import app as app_module
    from chalicelib.repositories.changes import read_from_head, source_models
    from chalicelib.services import providers
    from localdev.poller import StreamPoller
    from tests.finance_env import FinanceEnv

    env = FinanceEnv(world, client)
    school = env.school(2024)
    env.partner(school, 2024)
    poller = StreamPoller(app_module.app, None, handlers={CHANGES_STREAM_HANDLER: source_models()}, backoff=0)
    logs.clear()  # what the set-up delivered to the partnerships handler
    assert poller.drain() > 0
    lines = logs.messages(INVOCATION_MESSAGE)
    assert lines
    assert {line["handler"] for line in lines} == {CHANGES_STREAM_HANDLER}
    recorded = sum(line["counts"]["ChangesRecorded"] for line in lines)
    appended = sum(len(read_from_head(lp.id, 1000).entries) for lp in providers.list_lead_providers())
    assert recorded == appended > 0
    assert sum(emf_values(d)["ChangesRecorded"][0] for d in logs.metrics) == recorded
