"""``changes replay-failures``: the change feed's failed stream batches, replayed (docs/change-feed.md)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from admin import arguments, texts
from admin.context import Context, Output
from admin.output import table, to_jsonable
from chalicelib.domain.stream_failures import ReplayOutcome
from chalicelib.services import changes

if TYPE_CHECKING:
    from admin.parser import Commands

COLUMNS = ("message", "table", "shard", "first sequence", "last sequence", "records", "appended", "replayed", "problem")


def cmd_changes_replay_failures(args: argparse.Namespace, ctx: Context) -> Output:
    outcomes = changes.replay_failures(ctx.now, max_messages=args.max)
    queue = changes.dead_letter_queue()
    data = {"queue": queue, "outcomes": [to_jsonable(outcome) for outcome in outcomes]}
    if not outcomes:
        return Output(data, texts.NO_FAILED_BATCHES.format(queue=queue))
    replayed = [o for o in outcomes if o.replayed]
    lines = [
        texts.REPLAYED.format(
            replayed=len(replayed), total=len(outcomes), queue=queue, appended=sum(o.appended for o in replayed)
        ),
        "",
        table(COLUMNS, [_row(outcome) for outcome in outcomes]),
    ]
    if len(replayed) < len(outcomes):
        lines += ["", texts.KEPT_ON_QUEUE.format(seconds=changes.KEPT_MESSAGES_RETURN_AFTER)]
        lines += [f"  {o.message_id}: {o.problem}" for o in outcomes if not o.replayed]
    return Output(data, "\n".join(lines))


def _row(o: ReplayOutcome) -> tuple[Any, ...]:
    return (o.message_id, o.table, o.shard_id, o.first_sequence, o.last_sequence, o.records, o.appended,
            o.replayed, o.problem)  # fmt: skip


def register(commands: Any, add: Commands) -> None:
    actions = add.group(commands, "changes", texts.CHANGES, texts.CHANGES_EXAMPLE)
    p = add.add(
        actions, "replay-failures", cmd_changes_replay_failures, texts.CHANGES_REPLAY, texts.CHANGES_REPLAY_EXAMPLE
    )
    p.add_argument(
        "--max", type=arguments.count, default=changes.REPLAY_MAX_DEFAULT, metavar="N", help=texts.HELP_REPLAY_MAX
    )
