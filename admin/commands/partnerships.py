"""``partnerships challenge``, and how a partnership is shown (also by ``schools show``)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

from admin import texts
from admin.commands.providers import provider_names
from admin.context import Context, DomainErrorMessage, Output
from admin.output import cell, fields, to_jsonable
from chalicelib.domain.errors import NotFound
from chalicelib.domain.partnerships import CHALLENGE_REASONS, api_status, in_challenge_window
from chalicelib.domain.records import PartnershipRecord
from chalicelib.services import partnerships

if TYPE_CHECKING:
    from admin.parser import Commands


def challenge_window_open(record: PartnershipRecord, now: datetime) -> bool:
    """Whether the school can still challenge it: not challenged yet, and its challenge deadline not passed.

    The rule ``partnerships.challenge_partnership`` applies (without ``ignore_deadline``), for display.
    """
    return record.challenge_reason is None and in_challenge_window(record.challenge_deadline, now)


def partnership_data(record: PartnershipRecord, names: dict[str, str], now: datetime) -> dict[str, Any]:
    data = to_jsonable(record)
    data["lead_provider_name"] = names.get(record.lead_provider_id)
    data["status"] = api_status(record.challenge_reason)
    data["challenge_window_open"] = challenge_window_open(record, now)
    return dict(data)


def status_text(record: PartnershipRecord) -> str:
    status = api_status(record.challenge_reason)
    return texts.WITH_REASON.format(text=status, reason=record.challenge_reason) if record.challenge_reason else status


def deadline_text(record: PartnershipRecord, now: datetime) -> str:
    """The deadline, and whether it has passed."""
    if record.challenge_deadline is None:
        return cell(None)
    state = texts.WINDOW_OPEN if in_challenge_window(record.challenge_deadline, now) else texts.WINDOW_PASSED
    return f"{cell(record.challenge_deadline)} ({state})"


def cmd_partnerships_challenge(args: argparse.Namespace, ctx: Context) -> Output:
    try:
        record = partnerships.challenge_partnership(
            args.partnership_id, args.reason, ctx.now, ignore_deadline=args.ignore_deadline
        )
    except NotFound as error:
        raise DomainErrorMessage(texts.NO_PARTNERSHIP.format(id=args.partnership_id)) from error
    data = partnership_data(record, provider_names(), ctx.now)
    text = texts.PARTNERSHIP_CHALLENGED + "\n"
    text += fields(
        [
            ("id", record.id),
            ("urn", record.urn),
            ("cohort", record.cohort),
            ("lead provider", data["lead_provider_name"] or record.lead_provider_id),
            ("delivery partner", record.delivery_partner_name),
            ("status", data["status"]),
            ("reason", record.challenge_reason),
            ("challenged at", record.challenged_at),
            ("challenge deadline", record.challenge_deadline),
            ("deadline ignored", bool(args.ignore_deadline)),
        ]
    )
    return Output(data, text)


def register(commands: Any, add: Commands) -> None:
    actions = add.group(commands, "partnerships", texts.PARTNERSHIPS, texts.PARTNERSHIPS_EXAMPLE)
    p = add.add(
        actions,
        "challenge",
        cmd_partnerships_challenge,
        texts.PARTNERSHIPS_CHALLENGE,
        texts.PARTNERSHIPS_CHALLENGE_EXAMPLE,
    )
    p.add_argument("partnership_id", metavar="PARTNERSHIP_ID", help=texts.HELP_PARTNERSHIP_ID)
    p.add_argument("--reason", choices=CHALLENGE_REASONS, required=True, help=texts.HELP_CHALLENGE_REASON)
    p.add_argument("--ignore-deadline", action="store_true", help=texts.HELP_IGNORE_DEADLINE)
