"""``schools programme`` and ``schools show``."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

from admin import arguments, texts
from admin.commands.partnerships import deadline_text, partnership_data, status_text
from admin.commands.providers import provider_names
from admin.context import Context, Output
from admin.output import fields, labelled, table, to_jsonable
from chalicelib.domain.partnerships import SIT_CHOICES
from chalicelib.services import schools

if TYPE_CHECKING:
    from admin.parser import Commands
    from chalicelib.domain.records import SchoolView

PARTNERSHIP_HEADERS = [
    "id", "cohort", "lead provider", "delivery partner", "kind", "status", "challenge deadline", "created at",
]  # fmt: skip


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
    return Output(data, texts.PROGRAMME_SAVED + "\n" + labelled(data))


def cmd_schools_show(args: argparse.Namespace, ctx: Context) -> Output:
    view = schools.show_school(args.urn)
    names = provider_names()
    data = to_jsonable(view)
    for cohort_data, cohort_view in zip(data["cohorts"], view.cohorts, strict=True):
        cohort_data["partnerships"] = [partnership_data(r, names, ctx.now) for r in cohort_view.partnerships]
    if ctx.as_json:
        return Output(data, "")
    parts = [_school_text(view)]
    if not view.cohorts:
        parts.append(texts.NO_SCHOOL_COHORTS)
    else:
        parts.append(_cohorts_table(view))
        rows = _partnership_rows(view, names, ctx.now)
        if rows:
            parts.append(texts.PARTNERSHIPS_HEADING + "\n" + table(PARTNERSHIP_HEADERS, rows))
    return Output(data, "\n\n".join(parts))


def _school_text(view: SchoolView) -> str:
    return fields(
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


def _cohorts_table(view: SchoolView) -> str:
    return table(
        ["cohort", "training programme", "appropriate body", "delivery partner", "lead provider"],
        [
            (c.cohort, c.training_programme, c.appropriate_body, c.delivery_partner, c.lead_provider)
            for c in view.cohorts
        ],
    )


def _partnership_rows(view: SchoolView, names: dict[str, str], now: datetime) -> list[tuple[Any, ...]]:
    return [
        (
            r.id,
            r.cohort,
            names.get(r.lead_provider_id, r.lead_provider_id),
            r.delivery_partner_name,
            texts.KIND_RELATIONSHIP if r.relationship else texts.KIND_REPORTED,
            status_text(r),
            deadline_text(r, now),
            r.created_at,
        )
        for c in view.cohorts
        for r in c.partnerships
    ]


def register(commands: Any, add: Commands) -> None:
    actions = add.group(commands, "schools", texts.SCHOOLS, texts.SCHOOLS_EXAMPLE)
    p = add.add(actions, "programme", cmd_schools_programme, texts.SCHOOLS_PROGRAMME, texts.SCHOOLS_PROGRAMME_EXAMPLE)
    p.add_argument("urn", metavar="URN", type=arguments.urn, help=texts.HELP_URN)
    p.add_argument("--cohort", metavar="YEAR", type=arguments.year, required=True, help=texts.HELP_YEAR)
    p.add_argument("--choice", choices=list(SIT_CHOICES), required=True, help=texts.HELP_CHOICE)
    p = add.add(actions, "show", cmd_schools_show, texts.SCHOOLS_SHOW, texts.SCHOOLS_SHOW_EXAMPLE)
    p.add_argument("urn", metavar="URN", type=arguments.urn, help=texts.HELP_URN)
