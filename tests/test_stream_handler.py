"""The partnerships stream handler, driven with Lambda-shaped DynamoDB stream events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.events.handlers import PARTNERSHIPS_STREAM_HANDLER
from chalicelib.models import Partnership
from chalicelib.repositories import events
from chalicelib.services import partnerships as service

NOW = datetime(2024, 6, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def stream_event(records):
    """Build the event Lambda's DynamoDB event source mapping delivers (what chalice's DynamoDBRecord reads)."""
    out = []
    for n, (name, old, new) in enumerate(records):
        image = new or old
        record = {
            "eventID": f"event-{n}",
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-2",
            "eventSourceARN": "arn:aws:dynamodb:eu-west-2:123456789012:table/partnerships/stream/2024",
            "dynamodb": {
                "ApproximateCreationDateTime": 1717200000,
                "Keys": {"id": image["id"]},
                "SequenceNumber": str(1000 + n),
                "SizeBytes": 512,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
        }
        if new is not None:
            record["dynamodb"]["NewImage"] = new
        if old is not None:
            record["dynamodb"]["OldImage"] = old
        out.append(record)
    return {"Records": out}


def image(partnership: Partnership):
    return partnership.serialize()


@pytest.fixture
def reported(world):
    world.cohort(2024)
    lp = world.lead_provider("Ambition Institute")
    dp = world.delivery_partner(lp, [2024])
    dp2 = world.delivery_partner(lp, [2024])
    school = world.school()
    record = service.create_partnership(
        lp.id, {"cohort": "2024", "school_id": school.id, "delivery_partner_id": dp.id}, NOW
    )
    return lp, dp, dp2, record


def test_events_are_written_once_however_often_the_batch_is_delivered(reported, client):
    _, _, dp2, record = reported
    before = Partnership.get(record.id)
    service.update_partnership(before.lead_provider_id, record.id, {"delivery_partner_id": dp2.id}, NOW + HOUR)
    changed = Partnership.get(record.id)
    service.challenge_partnership(record.id, "mistake", NOW + 2 * HOUR)
    challenged = Partnership.get(record.id)
    batch = stream_event(
        [
            ("INSERT", None, image(before)),
            ("MODIFY", image(before), image(changed)),
            ("MODIFY", image(changed), image(challenged)),
        ]
    )
    for _ in range(3):
        client.lambda_.invoke(PARTNERSHIPS_STREAM_HANDLER, batch)
    history = events.history(record.id)
    assert [e.event_type for e in history] == ["reported", "delivery_partner_changed", "challenged"]
    assert history[2].data["reason"] == "mistake"


def test_a_poisoned_record_fails_the_batch_for_retry(reported, client):
    _, _, _, record = reported
    good = image(Partnership.get(record.id))
    poisoned = {"id": {"S": "broken"}}  # no cohort, no report id, no times
    # The handler raises, so Lambda retries the batch and, with bisect-on-error, isolates the record.
    with pytest.raises(Exception, match="cannot be None"):
        client.lambda_.invoke(PARTNERSHIPS_STREAM_HANDLER, stream_event([("INSERT", None, poisoned)]))
    assert events.history("broken") == []
    # A retry after the bad record is skipped (bisect-on-error isolates it) still writes the good one once.
    client.lambda_.invoke(PARTNERSHIPS_STREAM_HANDLER, stream_event([("INSERT", None, good)]))
    assert [e.event_type for e in events.history(record.id)] == ["reported"]


def test_removals_are_ignored(reported, client):
    _, _, _, record = reported
    old = image(Partnership.get(record.id))
    client.lambda_.invoke(PARTNERSHIPS_STREAM_HANDLER, stream_event([("REMOVE", old, None)]))
    assert events.history(record.id) == []
