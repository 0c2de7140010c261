"""Stream and schedule handlers: decode the record, call a service. Registered by ``app.py``."""

from __future__ import annotations

import logging
from typing import Any

from chalice.app import Chalice, CloudWatchEvent, Cron, DynamoDBEvent, Rate

from chalicelib.domain.changes import StreamRecord
from chalicelib.domain.clock import utcnow
from chalicelib.events.invocations import Counts, observed
from chalicelib.repositories.changes import source_models
from chalicelib.repositories.events import streamed_tables
from chalicelib.services import audit, changes, eligibility, migrations, statements

log = logging.getLogger("ecf.events")

# Deployed stages replace this with the table's real stream ARN ({"Fn::GetAtt": [...]}) in infra/.
PARTNERSHIPS_STREAM_PLACEHOLDER = "arn:aws:dynamodb:eu-west-2:000000000000:table/partnerships/stream/placeholder"
PARTNERSHIPS_STREAM_HANDLER = "on_partnership_change"
RECONCILE_SCHEDULE = "reconcile_migrations"
ELIGIBILITY_STREAM_PLACEHOLDER = (
    "arn:aws:dynamodb:eu-west-2:000000000000:table/participant-eligibilities/stream/placeholder"
)
ELIGIBILITY_STREAM_HANDLER = "on_eligibility_change"
RECONCILE_ELIGIBILITY_SCHEDULE = "reconcile_eligibility"
MARK_PAYABLE_SCHEDULE = "mark_statements_payable"
# One function reads the streams of every table behind a provider's views (infra/template.json gives it one event
# source per table; chalice's decorator takes one ARN, the first of them).
CHANGES_STREAM_PLACEHOLDER = "arn:aws:dynamodb:eu-west-2:000000000000:table/provider-participants/stream/placeholder"
CHANGES_STREAM_HANDLER = "record_changes"


def stream_handlers() -> dict[str, tuple[type, ...]]:
    """Handler name → the models whose tables' streams feed it (for the local poller and infra tests).

    The local poller reads them in this order on each pass, so a reported partnership reaches the change feed
    before the participants its migration makes visible (on AWS each stream is polled on its own; the migration's
    writes take longer than one record does, so it is usually that order there too).
    """
    tables = streamed_tables()
    return {
        CHANGES_STREAM_HANDLER: source_models(),
        PARTNERSHIPS_STREAM_HANDLER: (tables["partnerships"],),
        ELIGIBILITY_STREAM_HANDLER: (tables["eligibilities"],),
    }


def register(app: Chalice) -> None:
    _register_partnerships(app)
    _register_eligibility(app)
    _register_statements(app)
    _register_changes(app)


def _register_partnerships(app: Chalice) -> None:
    @app.on_dynamodb_record(
        stream_arn=PARTNERSHIPS_STREAM_PLACEHOLDER,
        batch_size=100,
        starting_position="TRIM_HORIZON",
        name=PARTNERSHIPS_STREAM_HANDLER,
    )
    @observed(PARTNERSHIPS_STREAM_HANDLER)
    def on_partnership_change(event: DynamoDBEvent) -> Counts:
        """Audit every change, and move participants into reported partnerships (idempotent).

        A failure raises: the event source mapping retries the batch (bisecting it
        to isolate a bad record) and the reconcile schedule finishes what is left.
        """
        moved = 0
        for record in event:
            old, new = _image(record.old_image), _image(record.new_image)
            audit.partnership_changed(event_name=record.event_name, old=old, new=new)
            moved += migrations.on_partnership_change(old, new, utcnow())
        return {"MigrationsRun": moved}

    @app.schedule(Rate(5, unit=Rate.MINUTES), name=RECONCILE_SCHEDULE)
    @observed(RECONCILE_SCHEDULE)
    def reconcile_migrations(event: CloudWatchEvent) -> Counts:
        """Finish any participant migration a stream batch did not complete."""
        done = migrations.reconcile(utcnow())
        if done:
            log.warning("reconciled %d partnership migration(s): %s", len(done), ", ".join(done))
        return {"MigrationsRun": sum(done.values()), "MigrationsReconciled": len(done)}


def _register_eligibility(app: Chalice) -> None:
    @app.on_dynamodb_record(
        stream_arn=ELIGIBILITY_STREAM_PLACEHOLDER,
        batch_size=100,
        starting_position="TRIM_HORIZON",
        name=ELIGIBILITY_STREAM_HANDLER,
    )
    @observed(ELIGIBILITY_STREAM_HANDLER)
    def on_eligibility_change(event: DynamoDBEvent) -> None:
        """A recorded eligibility check: submitted declarations of an eligible profile become eligible and
        attach to a statement; the participant's views show the new eligibility. Idempotent; a failure raises
        (retried, bisected, dead-lettered) and ``reconcile_eligibility`` finishes what is left."""
        for record in event:
            eligibility.on_change(_image(record.old_image), _image(record.new_image), utcnow())

    @app.schedule(Rate(5, unit=Rate.MINUTES), name=RECONCILE_ELIGIBILITY_SCHEDULE)
    @observed(RECONCILE_ELIGIBILITY_SCHEDULE)
    def reconcile_eligibility(event: CloudWatchEvent) -> Counts:
        done = eligibility.reconcile(utcnow())
        if done:
            log.warning("reconciled %d eligibility change(s): %s", len(done), ", ".join(done))
        return {"EligibilityReconciled": len(done)}


def _register_statements(app: Chalice) -> None:
    @app.schedule(Cron(30, 0, "*", "*", "?", "*"), name=MARK_PAYABLE_SCHEDULE)
    @observed(MARK_PAYABLE_SCHEDULE)
    def mark_statements_payable(event: CloudWatchEvent) -> Counts:
        """Daily, 00:30 UTC: statements whose deadline has passed move from open to payable."""
        done = statements.mark_payable(utcnow())
        for moved in done:
            log.info("statement %s payable: %d declaration(s)", moved.statement_id, moved.declarations)
        return {"StatementsMadePayable": len(done), "DeclarationsMadePayable": sum(m.declarations for m in done)}


def _register_changes(app: Chalice) -> None:
    @app.on_dynamodb_record(
        stream_arn=CHANGES_STREAM_PLACEHOLDER,
        batch_size=100,
        starting_position="TRIM_HORIZON",
        name=CHANGES_STREAM_HANDLER,
    )
    @observed(CHANGES_STREAM_HANDLER)
    def record_changes(event: DynamoDBEvent) -> Counts:
        """Append to each provider's change feed what these stream records change for it (docs/change-feed.md).

        The record's table (from its event source ARN) says how to read it. Idempotent per record (its event id);
        a failure raises, so the batch is retried, bisected and finally dead-lettered (``ecf-admin changes
        replay-failures`` replays it).
        """
        records = [StreamRecord(r.table_name, r.event_id, r.old_image, r.new_image) for r in event]
        appended = changes.record(records, utcnow())
        log.debug("record_changes: %d stream record(s), %d feed entries appended", len(records), appended)
        return {"ChangesRecorded": appended}


def _image(image: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stream image in DynamoDB JSON → plain values (strings, numbers, bools, sets)."""
    if not image:
        return None
    from boto3.dynamodb.types import TypeDeserializer  # noqa: PLC0415 - boto3 only when a stream record arrives, not on every API cold start

    deserializer = TypeDeserializer()
    return {key: deserializer.deserialize(value) for key, value in image.items()}
