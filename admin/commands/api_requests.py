"""``api-requests list`` and ``api-requests show``: the API request audit trail, for support staff answering "why did
my declaration fail" (docs/observability.md)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from admin import arguments, texts
from admin.context import Context, DomainErrorMessage, Output
from admin.output import fields, table, to_jsonable
from chalicelib.domain.api_requests import REQUEST_BODY_LIMIT, RESPONSE_BODY_LIMIT, ApiRequest
from chalicelib.services import api_requests

if TYPE_CHECKING:
    from admin.parser import Commands

LIST_COLUMNS = ("requested_at", "request_id", "method", "path", "status", "duration_ms")
LIST_HEADINGS = ("time", "request id", "method", "path", "status", "ms")


def _since(value: datetime | timedelta | None, now: datetime) -> datetime | None:
    if isinstance(value, timedelta):
        return now - value
    return value


def cmd_api_requests_list(args: argparse.Namespace, ctx: Context) -> Output:
    found = api_requests.list_requests(
        args.lead_provider,
        since=_since(args.since, ctx.now),
        status=args.status,
        path_prefix=args.path,
        limit=args.limit,
    )
    data = {"requests": [to_jsonable(summary) for summary in found]}
    if not found:
        return Output(data, texts.NO_API_REQUESTS.format(name=args.lead_provider))
    rows = [[row[column] for column in LIST_COLUMNS] for row in data["requests"]]
    heading = texts.API_REQUESTS_OF.format(name=args.lead_provider)
    return Output(data, f"{heading}\n\n{table(LIST_HEADINGS, rows)}")


def pretty(body: str | None) -> str | None:
    """A body as a person reads it: JSON indented, anything else as it was."""
    if body is None:
        return None
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return body


def _body_block(heading: str, body: str | None, truncated: bool, limit: int) -> list[str]:
    if body is None:
        return []
    title = f"{heading} {texts.TRUNCATED_NOTE.format(limit=limit)}" if truncated else heading
    return ["", title, *(f"  {line}" for line in str(pretty(body)).splitlines())]


def _text(record: ApiRequest) -> str:
    lines = [
        texts.API_REQUEST_HEADING.format(id=record.request_id),
        fields(
            [
                ("time", record.requested_at),
                ("lead provider id", record.lead_provider_id),
                ("method", record.method),
                ("path", record.path),
                ("route", record.route),
                ("status", record.status),
                ("duration ms", record.duration_ms),
                ("dynamodb requests", record.dynamodb_requests),
                ("cold start", record.cold_start),
            ],
            indent="  ",
        ),
    ]
    for heading, values in ((texts.QUERY_HEADING, record.query), (texts.REQUEST_HEADERS_HEADING, record.headers)):
        if values:
            lines += ["", heading, fields(values.items(), indent="  ")]
    lines += _body_block(texts.REQUEST_BODY_HEADING, record.request_body, record.request_body_truncated,
                         REQUEST_BODY_LIMIT)  # fmt: skip
    lines += _body_block(texts.RESPONSE_BODY_HEADING, record.response_body, record.response_body_truncated,
                         RESPONSE_BODY_LIMIT)  # fmt: skip
    return "\n".join(lines)


def cmd_api_requests_show(args: argparse.Namespace, ctx: Context) -> Output:
    record = api_requests.get_request(args.request_id)
    if record is None:
        raise DomainErrorMessage(texts.NO_API_REQUEST.format(id=args.request_id))
    return Output(to_jsonable(record), _text(record))


def register(commands: Any, add: Commands) -> None:
    actions = add.group(commands, "api-requests", texts.API_REQUESTS, texts.API_REQUESTS_EXAMPLE)
    p = add.add(actions, "list", cmd_api_requests_list, texts.API_REQUESTS_LIST, texts.API_REQUESTS_LIST_EXAMPLE)
    p.add_argument(
        "--lead-provider", required=True, metavar="NAME", type=arguments.name, help=texts.HELP_API_LEAD_PROVIDER
    )
    p.add_argument("--since", type=arguments.since, metavar="TIME", help=texts.HELP_SINCE)
    p.add_argument("--status", type=arguments.status, metavar="STATUS", help=texts.HELP_STATUS)
    p.add_argument("--path", metavar="PREFIX", type=arguments.value, help=texts.HELP_PATH_PREFIX)
    p.add_argument(
        "--limit", type=arguments.count, default=api_requests.DEFAULT_LIST_LIMIT, metavar="N", help=texts.HELP_LIMIT
    )
    p = add.add(actions, "show", cmd_api_requests_show, texts.API_REQUESTS_SHOW, texts.API_REQUESTS_SHOW_EXAMPLE)
    p.add_argument("request_id", metavar="REQUEST_ID", help=texts.HELP_REQUEST_ID)
