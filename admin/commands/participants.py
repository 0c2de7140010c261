"""``participants add|transfer|show|eligibility``: ECTs and mentors."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from admin import arguments, texts
from admin.context import Context, DomainErrorMessage, Output
from admin.output import cell, fields, labelled, table, to_jsonable
from chalicelib.domain import messages as m
from chalicelib.domain.errors import InputError, NotFound
from chalicelib.domain.participants import ECT, MENTOR
from chalicelib.domain.statements import ELIGIBILITY_REASONS, ELIGIBILITY_STATUSES
from chalicelib.services import eligibility, induction, participant_admin

if TYPE_CHECKING:
    from admin.parser import Commands
    from chalicelib.services.participant_admin import InductionRecordRow, ParticipantAdminView, ProfileAdminView

RECORD_HEADERS = [
    "start", "end", "induction status", "training status", "school urn", "training programme", "lead provider",
    "delivery partner", "partnership",
]  # fmt: skip


def _participant[T](participant_id: str, call: Callable[[], T]) -> T:
    """Run a service call, re-wording an unknown participant id for the command line."""
    try:
        return call()
    except NotFound as error:
        raise DomainErrorMessage(texts.NO_PARTICIPANT.format(id=participant_id)) from error


# --------------------------------------------------------------------------- add, transfer


def cmd_participants_add(args: argparse.Namespace, ctx: Context) -> Output:
    try:
        added = induction.add_participant(
            urn=args.urn,
            cohort=args.cohort,
            full_name=args.full_name,
            email=args.email,
            participant_type=args.type,
            trn=args.trn,
            mentor_email=args.mentor_email,
            appropriate_body=args.appropriate_body,
            partnership_id=args.partnership,
            now=ctx.now,
        )
    except InputError as error:
        if str(error) == m.no_programme_choice(args.urn, args.cohort):
            raise DomainErrorMessage(texts.USE_SCHOOLS_PROGRAMME.format(error=error)) from error
        raise
    data = {"participant_id": added.user_id, "training_record_id": added.profile_id, "programme_id": added.programme_id}
    text = texts.PARTICIPANT_ADDED + "\n"
    text += fields(
        [
            ("participant id", added.user_id),
            ("training record id", added.profile_id),
            ("programme id", added.programme_id),
        ]
    )
    if added.programme_id is None:
        text += "\n" + texts.NOT_ENROLLED.format(urn=args.urn, cohort=args.cohort)
    return Output(data, text)


def cmd_participants_transfer(args: argparse.Namespace, ctx: Context) -> Output:
    try:
        moved = _participant(
            args.participant_id,
            lambda: induction.transfer_participant(
                args.participant_id,
                to_urn=args.to_urn,
                start_date=args.start_date,
                keep_provider=args.keep_provider,
                now=ctx.now,
            ),
        )
    except InputError as error:
        if str(error) == m.KEEP_PROVIDER_NEEDS_PARTNERSHIP:
            raise DomainErrorMessage(texts.KEEP_PROVIDER_NEEDS_PARTNERSHIP) from error
        raise
    data = {
        "participant_id": moved.user_id,
        "training_record_id": moved.profile_id,
        "programme_id": moved.programme_id,
        "to_urn": args.to_urn,
        "start_date": args.start_date,
        "keep_provider": bool(args.keep_provider),
    }
    return Output(data, texts.PARTICIPANT_TRANSFERRED + "\n" + labelled(data))


# --------------------------------------------------------------------------- show


def cmd_participants_show(args: argparse.Namespace, ctx: Context) -> Output:
    view = _participant(
        args.participant_id, lambda: participant_admin.participant_admin_view(args.participant_id, ctx.now)
    )
    data = to_jsonable(view)
    if ctx.as_json:
        return Output(data, "")
    parts = [_participant_text(view)]
    if not view.profiles:
        parts.append(texts.NO_PROFILES)
    parts += [_profile_text(profile) for profile in view.profiles]
    return Output(data, "\n\n".join(parts))


def _participant_text(view: ParticipantAdminView) -> str:
    return fields(
        [
            ("participant", view.id),
            ("name", view.full_name),
            ("email", view.email),
            ("TRN", view.trn),
            ("created at", view.created_at),
            ("updated at", view.updated_at),
        ]
    )


def _profile_text(profile: ProfileAdminView) -> str:
    heading = texts.ECT_PROFILE if profile.participant_type == ECT else texts.MENTOR_PROFILE
    parts = [heading + "\n" + _profile_fields(profile)]
    if profile.induction_records:
        rows = [_record_row(r) for r in profile.induction_records]
        parts.append(f"  {texts.INDUCTION_RECORDS_HEADING}\n" + table(RECORD_HEADERS, rows, indent="  "))
    else:
        parts.append(f"  {texts.NOT_IN_A_PROGRAMME}")
    if profile.states:
        states = [(s.state, s.reason, s.lead_provider_name or s.lead_provider_id, s.created_at) for s in profile.states]
        parts.append(
            f"  {texts.PROFILE_STATES_HEADING}\n" + table(["state", "reason", "provider", "date"], states, indent="  ")
        )
    return "\n\n".join(parts)


def _profile_fields(profile: ProfileAdminView) -> str:
    schedule = texts.SCHEDULE_OF_COHORT.format(schedule=profile.schedule_identifier, cohort=profile.schedule_cohort)
    return fields(
        [
            ("training record id", profile.training_record_id),
            ("type", profile.participant_type),
            ("course", profile.course_identifier),
            ("cohort", profile.cohort),
            ("schedule", schedule),
            ("training status", profile.training_status),
            ("status", profile.status),
            ("mentor", profile.mentor_participant_id),
            ("induction start", profile.induction_start_date),
            ("school urn", profile.school_urn),
            ("training programme", profile.training_programme),
            ("lead provider", profile.lead_provider_name),
            ("delivery partner", profile.delivery_partner_name),
            ("partnership", profile.partnership_id),
        ],
        indent="  ",
    )


def _record_row(r: InductionRecordRow) -> tuple[Any, ...]:
    return (
        r.start_date,
        r.end_date,
        r.induction_status,
        r.training_status,
        r.school_urn,
        r.training_programme,
        r.lead_provider_name or r.lead_provider_id,
        r.delivery_partner_name,
        _record_partnership(r),
    )


def _record_partnership(row: InductionRecordRow) -> str:
    if row.partnership_id is None:
        return cell(None)
    kind = texts.KIND_RELATIONSHIP if row.relationship else texts.KIND_REPORTED
    if row.challenged:
        challenged = texts.KIND_CHALLENGED.format(kind=kind)
        return (
            texts.WITH_REASON.format(text=challenged, reason=row.challenge_reason)
            if row.challenge_reason
            else challenged
        )
    return kind


# --------------------------------------------------------------------------- eligibility


def cmd_participants_eligibility(args: argparse.Namespace, ctx: Context) -> Output:
    try:
        recorded = eligibility.record(args.participant_id, args.status, args.reason, ctx.now, course=args.course)
    except NotFound as error:
        raise InputError(texts.NO_PARTICIPANT.format(id=args.participant_id)) from error
    check = recorded.eligibility
    data = {
        "participant_id": recorded.participant_id,
        "training_record_id": check.profile_id,
        "participant_type": recorded.participant_type,
        "status": check.status,
        "reason": check.reason,
        "eligible_for_funding": check.eligible_for_funding,
        "change_id": check.change_id,
        "pending": check.pending,
        "recorded_at": check.updated_at,
    }
    text = texts.ELIGIBILITY_RECORDED + "\n"
    text += fields(
        [
            ("participant id", recorded.participant_id),
            ("training record id", check.profile_id),
            ("participant type", recorded.participant_type),
            ("status", check.status),
            ("reason", check.reason),
            ("recorded at", check.updated_at),
        ]
    )
    return Output(data, f"{text}\n{texts.ELIGIBILITY_PENDING_NOTE}")


# --------------------------------------------------------------------------- parser


def register(commands: Any, add: Commands) -> None:
    actions = add.group(commands, "participants", texts.PARTICIPANTS, texts.PARTICIPANTS_EXAMPLE)
    _register_add(actions, add)
    p = add.add(
        actions, "transfer", cmd_participants_transfer, texts.PARTICIPANTS_TRANSFER, texts.PARTICIPANTS_TRANSFER_EXAMPLE
    )
    p.add_argument("participant_id", metavar="PARTICIPANT_ID", type=arguments.value, help=texts.HELP_PARTICIPANT_ID)
    p.add_argument("--to-urn", metavar="URN", type=arguments.urn, required=True, help=texts.HELP_TO_URN)
    p.add_argument("--start-date", metavar="DATE", type=arguments.midnight, required=True, help=texts.HELP_START_DATE)
    p.add_argument("--keep-provider", action="store_true", help=texts.HELP_KEEP_PROVIDER)
    p = add.add(actions, "show", cmd_participants_show, texts.PARTICIPANTS_SHOW, texts.PARTICIPANTS_SHOW_EXAMPLE)
    p.add_argument("participant_id", metavar="PARTICIPANT_ID", type=arguments.value, help=texts.HELP_PARTICIPANT_ID)
    _register_eligibility(actions, add)


def _register_add(actions: Any, add: Commands) -> None:
    p = add.add(actions, "add", cmd_participants_add, texts.PARTICIPANTS_ADD, texts.PARTICIPANTS_ADD_EXAMPLE)
    p.add_argument("--urn", metavar="URN", type=arguments.urn, required=True, help=texts.HELP_ADD_URN)
    p.add_argument("--cohort", metavar="YEAR", type=arguments.year, required=True, help=texts.HELP_ADD_COHORT)
    p.add_argument("--full-name", metavar="NAME", type=arguments.name, required=True, help=texts.HELP_FULL_NAME)
    p.add_argument("--email", metavar="EMAIL", type=arguments.value, required=True, help=texts.HELP_EMAIL)
    p.add_argument("--type", choices=[ECT, MENTOR], required=True, help=texts.HELP_PARTICIPANT_TYPE)
    p.add_argument("--trn", metavar="TRN", type=arguments.value, help=texts.HELP_TRN)
    p.add_argument("--mentor-email", metavar="EMAIL", type=arguments.value, help=texts.HELP_MENTOR_EMAIL)
    p.add_argument("--appropriate-body", metavar="NAME", type=arguments.name, help=texts.HELP_APPROPRIATE_BODY)
    p.add_argument("--partnership", metavar="PARTNERSHIP_ID", type=arguments.value, help=texts.HELP_ENROL_PARTNERSHIP)


def _register_eligibility(actions: Any, add: Commands) -> None:
    p = add.add(
        actions,
        "eligibility",
        cmd_participants_eligibility,
        texts.PARTICIPANTS_ELIGIBILITY,
        texts.PARTICIPANTS_ELIGIBILITY_EXAMPLE,
    )
    p.add_argument("participant_id", metavar="PARTICIPANT_ID", type=arguments.value, help=texts.HELP_PARTICIPANT_ID)
    p.add_argument("--status", choices=ELIGIBILITY_STATUSES, required=True, help=texts.HELP_ELIGIBILITY_STATUS)
    p.add_argument("--reason", choices=ELIGIBILITY_REASONS, help=texts.HELP_ELIGIBILITY_REASON)
    p.add_argument("--course", choices=["ecf-induction", "ecf-mentor"], help=texts.HELP_COURSE)
