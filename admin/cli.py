"""``ecf-admin``: the admin command line. Parses arguments, calls the services, prints.

It never touches DynamoDB itself: every command is one call into
``chalicelib.services`` (the same code the API runs), and every domain error
becomes a one-line ``error: ...`` on stderr with exit status 1. Usage errors
exit with 2, as argparse does.

``main()`` is the console script: it points the services at the chosen stage
(environment, settings, table bindings) and then calls :func:`run`. Tests call
``run(argv, out, err, configure=False)`` inside moto's ``mock_aws`` so that no
``AWS_ENDPOINT_URL*`` variable is ever set in the test process.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from admin.output import ProgressBar, cell, dumps, fields, table, to_jsonable
from chalicelib import config, models
from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.participants import ECT, MENTOR
from chalicelib.domain.partnerships import CHALLENGE_REASONS, SIT_CHOICES, api_status, in_challenge_window
from chalicelib.domain.providers import NoCohortsGiven
from chalicelib.domain.records import PartnershipRecord
from chalicelib.domain.statements import StatementRefused
from chalicelib.services import importers, induction, participant_admin, partnerships, providers, schools, tokens

PROG = "ecf-admin"
LOCAL_STAGES = ("local", "test")  # served by the local moto server (`make run`)
LOCAL_REGION = "eu-west-2"
DEBUG_VARIABLE = "ECF_ADMIN_DEBUG"
STAGE_VARIABLE = "ECF_STAGE"

EXIT_OK = 0
EXIT_ERROR = 1  # bad input, missing data, conflicts, AWS unreachable
EXIT_USAGE = 2  # bad arguments (argparse's own status)

TOKEN_WARNING = (
    "warning: this token is shown only once. Store it now: only a keyed hash of it is saved, "
    "so it cannot be shown again (create a new token if it is lost)."
)


# --------------------------------------------------------------------------- plumbing


class UsageError(Exception):
    """Bad arguments: exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


@dataclass(frozen=True)
class Context:
    now: datetime
    err: TextIO
    as_json: bool


@dataclass(frozen=True)
class Output:
    data: Any  # what --json prints
    text: str  # what a person reads


class DomainErrorMessage(DomainError):
    """A domain error re-worded for the command line."""


Handler = Callable[[argparse.Namespace, Context], Output]


def _year(text: str) -> int:
    if not (text.isdigit() and len(text) == 4):
        raise argparse.ArgumentTypeError(f"{text!r} is not a cohort year (for example 2024)")
    return int(text)


def _urn(text: str) -> str:
    text = text.strip()
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a URN (a number, for example 100000)")
    return text


def _name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a name cannot be blank")
    return text


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise argparse.ArgumentTypeError("a value cannot be blank")
    return text


def _date(text: str) -> datetime:
    """``YYYY-MM-DD`` → midnight UTC that day."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD, for example 2024-09-01)") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --------------------------------------------------------------------------- commands


def _labelled(data: dict[str, Any]) -> str:
    return fields((key.replace("_", " "), value) for key, value in data.items())


def cmd_import_cohort(args: argparse.Namespace, ctx: Context) -> Output:
    bar = ProgressBar(ctx.err, "import-cohort")
    try:
        result = importers.import_cohort(args.directory, ctx.now, progress=bar)
    finally:
        bar.close()
    bar.finish()
    data = {"directory": str(Path(args.directory)), **asdict(result)}
    text = f"Imported {args.directory}\n" + fields(
        [
            ("cohorts", result.cohorts),
            ("lead provider links", result.lead_provider_links),
            ("contracts", result.contracts),
            ("mentor contracts", result.mentor_contracts),
            ("schedules", result.schedules),
            ("milestones", result.milestones),
            ("statements", result.statements),
        ]
    )
    return Output(data, text)


def cmd_import_schools(args: argparse.Namespace, ctx: Context) -> Output:
    bar = ProgressBar(ctx.err, "import-schools", unit="schools")
    try:
        result = importers.import_schools(args.file, ctx.now, progress=bar)
    finally:
        bar.close()
    bar.finish()
    data = {"file": str(Path(args.file)), **asdict(result)}
    text = f"Imported {args.file}\n" + fields(
        [
            ("rows read", result.rows),
            ("skipped (not in scope)", result.skipped),
            ("created", result.created),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
        ]
    )
    return Output(data, text)


def cmd_lead_providers_add(args: argparse.Namespace, ctx: Context) -> Output:
    provider = providers.add_lead_provider(args.name, ctx.now)
    data = {"id": provider.id, "name": provider.name, "created_at": provider.created_at}
    return Output(data, "Added lead provider\n" + _labelled(data))


def cmd_lead_providers_list(args: argparse.Namespace, ctx: Context) -> Output:
    found = providers.list_lead_providers()
    rows = [{"id": p.id, "name": p.name, "created_at": p.created_at} for p in found]
    if not rows:
        return Output({"lead_providers": []}, f"No lead providers yet: add one with '{PROG} lead-providers add NAME'.")
    text = table(["id", "name", "created at"], [(r["id"], r["name"], r["created_at"]) for r in rows])
    return Output({"lead_providers": rows}, text)


def cmd_tokens_create(args: argparse.Namespace, ctx: Context) -> Output:
    issued = tokens.create_token(args.lead_provider, ctx.now)
    ctx.err.write(TOKEN_WARNING + "\n")
    data = {
        "token": issued.token,
        "lead_provider_id": issued.lead_provider_id,
        "lead_provider_name": issued.lead_provider_name,
        "created_at": ctx.now,
    }
    text = (
        f"API token for {issued.lead_provider_name} (lead provider {issued.lead_provider_id}):\n\n    {issued.token}\n"
    )
    return Output(data, text)


def cmd_delivery_partners_add(args: argparse.Namespace, ctx: Context) -> Output:
    partner = providers.add_delivery_partner(args.name, args.lead_provider, args.cohort, ctx.now)
    data = {
        "id": partner.id,
        "name": partner.name,
        "lead_provider": args.lead_provider,
        "cohorts": sorted(set(args.cohort)),
        "created_at": partner.created_at,
    }
    return Output(data, "Added delivery partner\n" + _labelled(data))


def cmd_delivery_partners_relate(args: argparse.Namespace, ctx: Context) -> Output:
    added = providers.relate_delivery_partner(args.delivery_partner_id, args.lead_provider, args.cohort, ctx.now)
    data = {
        "delivery_partner_id": args.delivery_partner_id,
        "lead_provider": args.lead_provider,
        "cohorts_added": sorted(added),
        "cohorts_already_related": sorted(set(args.cohort) - set(added)),
    }
    return Output(data, "Related delivery partner\n" + _labelled(data))


def cmd_schools_programme(args: argparse.Namespace, ctx: Context) -> Output:
    school_cohort = schools.set_programme_choice(args.urn, args.cohort, args.choice, ctx.now)
    data = {
        "school_id": school_cohort.school_id,
        "urn": args.urn,
        "cohort": int(school_cohort.cohort),
        "choice": args.choice,
        "induction_programme_choice": school_cohort.induction_programme_choice,
        "updated_at": school_cohort.updated_at,
    }
    return Output(data, "Programme choice saved\n" + _labelled(data))


def _partnership(record: PartnershipRecord, names: dict[str, str], now: datetime) -> dict[str, Any]:
    data = to_jsonable(record)
    data["lead_provider_name"] = names.get(record.lead_provider_id)
    data["status"] = api_status(record.challenge_reason)
    data["challenge_window_open"] = record.challenge_reason is None and in_challenge_window(
        record.challenge_deadline, now
    )
    return dict(data)


def _deadline_text(record: PartnershipRecord, now: datetime) -> str:
    if record.challenge_deadline is None:
        return cell(None)
    state = "open" if in_challenge_window(record.challenge_deadline, now) else "passed"
    return f"{cell(record.challenge_deadline)} ({state})"


def cmd_schools_show(args: argparse.Namespace, ctx: Context) -> Output:
    view = schools.show_school(args.urn)
    names = {p.id: p.name for p in providers.list_lead_providers()}
    data = to_jsonable(view)
    for cohort_data, cohort_view in zip(data["cohorts"], view.cohorts, strict=True):
        cohort_data["partnerships"] = [_partnership(r, names, ctx.now) for r in cohort_view.partnerships]
    if ctx.as_json:
        return Output(data, "")
    parts = [
        fields(
            [
                ("school", view.name),
                ("id", view.id),
                ("urn", view.urn),
                ("status", view.status),
                ("type", view.type),
                ("district", view.district),
                ("section 41 approved", view.section_41_approved),
                ("open", view.open),
                ("eligible", view.eligible),
                ("CIP only", view.cip_only),
                ("contact email", view.contact_email),
                ("created at", view.created_at),
                ("updated at", view.updated_at),
            ]
        )
    ]
    if not view.cohorts:
        parts.append("No cohorts: no programme choice or partnership recorded yet.")
    else:
        parts.append(
            table(
                ["cohort", "training programme", "appropriate body", "delivery partner", "lead provider"],
                [
                    (c.cohort, c.training_programme, c.appropriate_body, c.delivery_partner, c.lead_provider)
                    for c in view.cohorts
                ],
            )
        )
        rows = [
            (
                r.id,
                r.cohort,
                names.get(r.lead_provider_id, r.lead_provider_id),
                r.delivery_partner_name,
                "relationship" if r.relationship else "reported",
                api_status(r.challenge_reason) + (f" ({r.challenge_reason})" if r.challenge_reason else ""),
                _deadline_text(r, ctx.now),
                r.created_at,
            )
            for c in view.cohorts
            for r in c.partnerships
        ]
        if rows:
            parts.append(
                "Partnerships\n"
                + table(
                    [
                        "id",
                        "cohort",
                        "lead provider",
                        "delivery partner",
                        "kind",
                        "status",
                        "challenge deadline",
                        "created at",
                    ],
                    rows,
                )
            )
    return Output(data, "\n\n".join(parts))


def cmd_partnerships_challenge(args: argparse.Namespace, ctx: Context) -> Output:
    try:
        record = partnerships.challenge_partnership(
            args.partnership_id, args.reason, ctx.now, ignore_deadline=args.ignore_deadline
        )
    except NotFound as error:
        raise DomainErrorMessage(f"No partnership with id {args.partnership_id}") from error
    names = {p.id: p.name for p in providers.list_lead_providers()}
    data = _partnership(record, names, ctx.now)
    text = "Partnership challenged\n" + fields(
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


def _participant(participant_id: str, call: Callable[[], Any]) -> Any:
    """Run a service call, re-wording an unknown participant id for the command line."""
    try:
        return call()
    except NotFound as error:
        raise DomainErrorMessage(f"No participant with id {participant_id}") from error


def cmd_participants_add(args: argparse.Namespace, ctx: Context) -> Output:
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
    data = {"participant_id": added.user_id, "training_record_id": added.profile_id, "programme_id": added.programme_id}
    text = "Added participant\n" + fields(
        [
            ("participant id", added.user_id),
            ("training record id", added.profile_id),
            ("programme id", added.programme_id),
        ]
    )
    if added.programme_id is None:
        text += f"\nNot enrolled: school {args.urn} has no default induction programme for {args.cohort}."
    return Output(data, text)


def cmd_participants_transfer(args: argparse.Namespace, ctx: Context) -> Output:
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
    data = {
        "participant_id": moved.user_id,
        "training_record_id": moved.profile_id,
        "programme_id": moved.programme_id,
        "to_urn": args.to_urn,
        "start_date": args.start_date,
        "keep_provider": bool(args.keep_provider),
    }
    return Output(data, "Transferred participant\n" + _labelled(data))


def _record_partnership(row: participant_admin.InductionRecordRow) -> str:
    if row.partnership_id is None:
        return cell(None)
    kind = "relationship" if row.relationship else "reported"
    if row.challenged:
        return f"{kind}, challenged" + (f" ({row.challenge_reason})" if row.challenge_reason else "")
    return kind


def _profile_text(profile: participant_admin.ProfileAdminView) -> str:
    heading = f"{'ECT' if profile.participant_type == ECT else 'Mentor'} profile"
    parts = [
        heading
        + "\n"
        + fields(
            [
                ("training record id", profile.training_record_id),
                ("type", profile.participant_type),
                ("course", profile.course_identifier),
                ("cohort", profile.cohort),
                ("schedule", f"{profile.schedule_identifier} ({profile.schedule_cohort})"),
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
    ]
    if profile.induction_records:
        rows = [
            (
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
            for r in profile.induction_records
        ]
        headers = [
            "start",
            "end",
            "induction status",
            "training status",
            "school urn",
            "training programme",
            "lead provider",
            "delivery partner",
            "partnership",
        ]
        parts.append("  Induction records\n" + table(headers, rows, indent="  "))
    else:
        parts.append("  No induction records: not enrolled in a programme.")
    if profile.states:
        states = [(s.state, s.reason, s.lead_provider_name or s.lead_provider_id, s.created_at) for s in profile.states]
        parts.append("  Profile states\n" + table(["state", "reason", "provider", "date"], states, indent="  "))
    return "\n\n".join(parts)


def cmd_participants_show(args: argparse.Namespace, ctx: Context) -> Output:
    view = _participant(
        args.participant_id, lambda: participant_admin.participant_admin_view(args.participant_id, ctx.now)
    )
    data = to_jsonable(view)
    if ctx.as_json:
        return Output(data, "")
    parts = [
        fields(
            [
                ("participant", view.id),
                ("name", view.full_name),
                ("email", view.email),
                ("TRN", view.trn),
                ("created at", view.created_at),
                ("updated at", view.updated_at),
            ]
        )
    ]
    if not view.profiles:
        parts.append("No participant profiles.")
    parts += [_profile_text(profile) for profile in view.profiles]
    return Output(data, "\n\n".join(parts))


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    # Options every level accepts, before or after the command. SUPPRESS keeps a
    # subcommand's unset option from overwriting the one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print exactly one JSON document on stdout"
    )
    common.add_argument(
        "--stage",
        choices=config.STAGES,
        default=argparse.SUPPRESS,
        help=f"which tables to use (default: ${STAGE_VARIABLE} or local)",
    )
    common.add_argument(
        "--endpoint-url",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="DynamoDB endpoint (default for local/test: http://127.0.0.1:$DYNAMODB_PORT)",
    )

    parser = _Parser(
        prog=PROG,
        parents=[common],
        description=(
            "Admin commands for the ECF Lead Provider API: imports, providers, tokens, schools, challenges, "
            "participants, finance."
        ),
        epilog="Exit status: 0 success, 1 error (bad data, not found, AWS unreachable), 2 bad arguments.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(
        group: Any, name: str, handler: Handler | None, help_text: str, **kwargs: Any
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(
            name, parents=[common], help=help_text, description=help_text, **kwargs
        )
        if handler is not None:
            sub.set_defaults(handler=handler)
        return sub

    p = command(commands, "import-cohort", cmd_import_cohort, "import a cohort folder of CSVs (safe to re-run)")
    p.add_argument(
        "directory", metavar="DIR", help="folder with cohort.csv, cohort_lead_providers.csv, contracts.csv, ..."
    )

    p = command(commands, "import-schools", cmd_import_schools, "import a GIAS extract, ISO-8859-1 (safe to re-run)")
    p.add_argument("file", metavar="FILE", help="GIAS establishments CSV")

    group = command(commands, "lead-providers", None, "add and list lead providers")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = command(actions, "add", cmd_lead_providers_add, "add a lead provider (names are unique)")
    p.add_argument("name", metavar="NAME", type=_name)
    command(actions, "list", cmd_lead_providers_list, "list lead providers")

    group = command(commands, "tokens", None, "issue API tokens")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = command(actions, "create", cmd_tokens_create, "issue an API token for a lead provider (shown once)")
    p.add_argument("lead_provider", metavar="LEAD_PROVIDER_NAME", type=_name)

    group = command(commands, "delivery-partners", None, "add delivery partners and relate them to lead providers")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = command(actions, "add", cmd_delivery_partners_add, "add a delivery partner working with a lead provider")
    p.add_argument("name", metavar="NAME", type=_name)
    p.add_argument("--lead-provider", metavar="LP_NAME", required=True, type=_name)
    p.add_argument("--cohort", metavar="YEAR", type=_year, action="append", required=True, help="repeatable")
    p = command(actions, "relate", cmd_delivery_partners_relate, "relate a delivery partner to a lead provider")
    p.add_argument("delivery_partner_id", metavar="DELIVERY_PARTNER_ID")
    p.add_argument("--lead-provider", metavar="LP_NAME", required=True, type=_name)
    p.add_argument("--cohort", metavar="YEAR", type=_year, action="append", required=True, help="repeatable")

    group = command(commands, "schools", None, "school programme choices and the admin view of a school")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = command(actions, "programme", cmd_schools_programme, "record a school's training programme for a cohort")
    p.add_argument("urn", metavar="URN", type=_urn)
    p.add_argument("--cohort", metavar="YEAR", type=_year, required=True)
    p.add_argument("--choice", choices=list(SIT_CHOICES), required=True)
    p = command(actions, "show", cmd_schools_show, "show a school: GIAS details, eligibility, cohorts, partnerships")
    p.add_argument("urn", metavar="URN", type=_urn)

    group = command(commands, "partnerships", None, "challenge partnerships")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = command(actions, "challenge", cmd_partnerships_challenge, "challenge a partnership on the school's behalf")
    p.add_argument("partnership_id", metavar="PARTNERSHIP_ID")
    p.add_argument("--reason", choices=CHALLENGE_REASONS, required=True)
    p.add_argument("--ignore-deadline", action="store_true", help="admin override: challenge even after the deadline")

    group = command(commands, "participants", None, "onboard, transfer and view participants (ECTs and mentors)")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = command(
        actions,
        "add",
        cmd_participants_add,
        "onboard a participant at a school and enrol them in the school cohort's programme",
    )
    p.add_argument("--urn", metavar="URN", type=_urn, required=True)
    p.add_argument("--cohort", metavar="YEAR", type=_year, required=True)
    p.add_argument("--full-name", metavar="NAME", type=_name, required=True)
    p.add_argument("--email", metavar="EMAIL", type=_text, required=True)
    p.add_argument("--type", choices=[ECT, MENTOR], required=True)
    p.add_argument("--trn", metavar="TRN", type=_text, help="teacher reference number")
    p.add_argument("--mentor-email", metavar="EMAIL", type=_text, help="an onboarded mentor's email (ECTs)")
    p.add_argument("--appropriate-body", metavar="NAME", type=_name, help="default: the school cohort's")
    p.add_argument(
        "--partnership",
        metavar="PARTNERSHIP_ID",
        type=_text,
        help="enrol in this partnership's programme (default: the school cohort's default programme)",
    )
    p = command(actions, "transfer", cmd_participants_transfer, "move a participant to another school")
    p.add_argument("participant_id", metavar="PARTICIPANT_ID", type=_text)
    p.add_argument("--to-urn", metavar="URN", type=_urn, required=True)
    p.add_argument("--start-date", metavar="DATE", type=_date, required=True, help="YYYY-MM-DD (midnight UTC)")
    p.add_argument(
        "--keep-provider",
        action="store_true",
        help="keep the lead provider and delivery partner (a relationship partnership at the new school)",
    )
    p = command(
        actions,
        "show",
        cmd_participants_show,
        "show a participant: profiles, current training, induction history, states",
    )
    p.add_argument("participant_id", metavar="PARTICIPANT_ID", type=_text)

    from admin import finance  # here, not at the top: admin.finance imports this module

    finance.register(commands, actions, command)  # `participants eligibility` and `finance ...`
    return parser


# --------------------------------------------------------------------------- stage


def stage_settings(stage: str, endpoint_url: str | None, environ: MutableMapping[str, str]) -> dict[str, object]:
    """Settings overrides for a stage. Updates ``environ`` where botocore reads it (endpoint, fake credentials).

    local/test: the local moto server, region eu-west-2, the non-secret token key.
    dev/prod: real AWS with the caller's credentials and the token key from SSM.
    """
    if stage in LOCAL_STAGES:
        port = environ.get("DYNAMODB_PORT") or str(config.DEFAULT_DYNAMODB_PORT)
        endpoint: str | None = endpoint_url or environ.get("AWS_ENDPOINT_URL_DYNAMODB") or f"http://127.0.0.1:{port}"
        region = LOCAL_REGION
        if not environ.get("AWS_ACCESS_KEY_ID"):
            # moto accepts anything; never send a real profile's credentials to a local server.
            environ["AWS_ACCESS_KEY_ID"] = "local"
            environ["AWS_SECRET_ACCESS_KEY"] = "local"
            environ.pop("AWS_SESSION_TOKEN", None)
        token_key: str | None = environ.get("TOKEN_HMAC_KEY") or None
        token_key_parameter: str | None = None
    else:
        endpoint = endpoint_url or environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or LOCAL_REGION
        token_key = None  # a deployed stage's key is the one in SSM, never a stray local variable
        token_key_parameter = environ.get("TOKEN_KEY_PARAMETER") or f"/{config.APP_NAME}/{stage}/token-hmac-key"
    if endpoint:
        environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    return {
        "stage": stage,
        "table_prefix": f"{config.APP_NAME}-{stage}",
        "region": region,
        "dynamodb_endpoint": endpoint,
        "token_key": token_key,
        "token_key_parameter": token_key_parameter,
    }


def configure_stage(stage: str, endpoint_url: str | None, environ: MutableMapping[str, str]) -> config.Settings:
    settings = config.configure(**stage_settings(stage, endpoint_url, environ))
    models.rebind_all()
    tokens.reset_key()
    return settings


# --------------------------------------------------------------------------- errors


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        cause = getattr(current, "cause", None)  # PynamoDB keeps the botocore error here
        pending += [cause if isinstance(cause, BaseException) else None, current.__cause__, current.__context__]


def describe_error(error: BaseException, settings: config.Settings) -> str | None:
    """The one-line message for an error we expect, or None for a bug."""
    from botocore.exceptions import (
        ClientError,
        HTTPClientError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
        TokenRetrievalError,
    )
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from pynamodb.exceptions import TableDoesNotExist

    if isinstance(error, NotFound):
        return f"not found: {error}"
    if isinstance(error, NoCohortsGiven):
        return "At least one --cohort is required"
    if isinstance(error, DomainError | StatementRefused):
        return str(error)
    where = settings.dynamodb_endpoint or f"AWS region {settings.region}"
    for cause in _causes(error):
        if isinstance(cause, ReadTimeoutError):
            return f"DynamoDB at {where} did not answer in time (read timeout); try again"
        if isinstance(cause, BotoConnectionError | HTTPClientError):
            if settings.stage in LOCAL_STAGES:
                return f"cannot reach DynamoDB at {where} — is `make run` running?"
            return f"cannot reach DynamoDB at {where}: {cause}"
        if isinstance(cause, NoCredentialsError | PartialCredentialsError | TokenRetrievalError):
            return f"no usable AWS credentials for stage {settings.stage}: {cause}"
        if isinstance(cause, TableDoesNotExist):
            return f"{cause} at {where}: wrong --stage, or the tables are not created"
        if isinstance(cause, ClientError):
            code = cause.response.get("Error", {}).get("Code", "")
            message = cause.response.get("Error", {}).get("Message", str(cause))
            if code == "ResourceNotFoundException":
                return f"table not found at {where} ({message}): wrong --stage, or the tables are not created"
            return f"AWS refused the request ({code}): {message}"
    return None


# --------------------------------------------------------------------------- entry points


def run(
    argv: Sequence[str] | None,
    out: TextIO,
    err: TextIO,
    *,
    configure: bool = True,
    now: datetime | None = None,
    environ: MutableMapping[str, str] | None = None,
) -> int:
    """Run one command; returns the exit status. ``configure=False`` leaves settings and bindings alone."""
    environ = os.environ if environ is None else environ
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv

    def fail(message: str, status: int) -> int:
        err.write(f"error: {message}\n")
        if as_json:
            out.write(dumps({"error": message, "exit_status": status}) + "\n")
        return status

    parser = build_parser()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            args = parser.parse_args(argv)
    except UsageError as error:
        return fail(str(error), EXIT_USAGE)
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else EXIT_OK
    as_json = bool(getattr(args, "json", False))

    if configure:
        stage = getattr(args, "stage", None) or environ.get(STAGE_VARIABLE) or "local"
        if stage not in config.STAGES:
            return fail(
                f"{STAGE_VARIABLE}={stage!r} is not a stage (use one of {', '.join(config.STAGES)})", EXIT_USAGE
            )
        configure_stage(stage, getattr(args, "endpoint_url", None), environ)

    ctx = Context(now=now or utcnow(), err=err, as_json=as_json)
    try:
        result = args.handler(args, ctx)
    except Exception as error:  # noqa: BLE001 - every failure becomes one line, never a traceback
        message = describe_error(error, config.current())
        if environ.get(DEBUG_VARIABLE) and not isinstance(error, DomainError):
            traceback.print_exc(file=err)
        if message is None:
            message = f"unexpected {type(error).__name__}: {error} (set {DEBUG_VARIABLE}=1 for a traceback)"
        return fail(" ".join(message.split()), EXIT_ERROR)
    out.write((dumps(result.data) if as_json else result.text.rstrip("\n")) + "\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Console script ``ecf-admin``: configure the stage from arguments and environment, run, exit."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    try:
        status = run(argv, sys.stdout, sys.stderr, configure=True)
        sys.stdout.flush()
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    return status


if __name__ == "__main__":
    sys.exit(main())
