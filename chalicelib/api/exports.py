"""CSV exports (v1/v2 ``participant-declarations.csv`` and ``participants/ecf.csv``).

The real service sends the whole file in one response. A Lambda behind API Gateway cannot answer more than
6 MB (and cannot stream), and the largest provider's declarations file is several times that, so each
response is a page of at most ``CSV_MAX_ROWS`` rows (default: that many). While more rows remain, a
``Link: <…?page[page]=N+1…>; rel="next"`` header names the next page; a client that ignores it gets the first
10,000 rows, in the same order as the JSON list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from urllib.parse import urlencode

from chalice.app import Blueprint, Request, Response

from chalicelib.api import http
from chalicelib.api.auth import authenticated
from chalicelib.domain.paging import Order, Page, Position
from chalicelib.serializers import participants as participant_serializer
from chalicelib.services import participants as participant_service
from chalicelib.services.tokens import Caller

CSV_MAX_ROWS = 10_000
bp = Blueprint(__name__)


def csv_page(request: Request, caller: Caller) -> Page:
    """``page[page]`` or ``page[cursor]``, and ``page[per_page]`` (at most, and by default, ``CSV_MAX_ROWS``)."""
    return http.list_page(request, caller, default_per_page=CSV_MAX_ROWS, max_per_page=CSV_MAX_ROWS)


def render(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def csv_response(
    request: Request,
    caller: Caller,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    page: Page,
    following: Position | None,
    full: bool | None = None,
) -> Response:
    """``text/csv``; a header row even when empty. ``full``: the page came back full (more may follow).

    While more rows remain, ``Link: <...>; rel="next"``: the next page number (as before), or on a keyset page
    (``page[cursor]``) the URL with the next cursor."""
    headers: dict[str, str | list[str]] = {"Content-Type": "text/csv"}
    if page.cursor:
        if following is not None:
            headers["Link"] = f'<{http.next_link(request, caller, following)}>; rel="next"'
    elif full if full is not None else len(rows) >= page.per_page:
        query = urlencode({"page[page]": page.number + 1, "page[per_page]": page.per_page})
        headers["Link"] = f'<{request.context.get("resourcePath", "")}?{query}>; rel="next"'
    return Response(body=render(columns, rows), status_code=200, headers=headers)


PARTICIPANT_COLUMNS = (
    "id", "type", "email", "full_name", "mentor_id", "school_urn", "participant_type", "cohort", "status",
    "teacher_reference_number", "teacher_reference_number_validated", "eligible_for_funding",
    "pupil_premium_uplift", "sparsity_uplift", "training_status", "training_record_id", "schedule_identifier",
    "updated_at",
)  # fmt: skip


def _value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@bp.route("/api/v1/participants/ecf.csv", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route("/api/v2/participants/ecf.csv", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def participants_csv(caller: Caller) -> Response:
    """One row per participant profile (as the v1/v2 JSON list), paged over participants like the JSON list;
    ``filter[cohort]`` and ``filter[updated_since]`` as there."""
    request = bp.current_request
    params = http.query(request)
    values = http.filters(params)
    cohorts = http.cohort_list(values)
    updated_since = http.updated_since(values)
    page = csv_page(request, caller)
    views = participant_service.list_participants(
        caller.lead_provider_id,
        cohorts=cohorts,
        training_status=None,
        updated_since=updated_since,
        order=Order(field="updated_at") if updated_since is not None else Order(),
        page=page,
    )
    rows = []
    for row in participant_serializer.flat_rows(views.items, cohorts):
        attributes = row["attributes"]
        rows.append([row["id"], row["type"], *(_value(attributes[c]) for c in PARTICIPANT_COLUMNS[2:])])
    return csv_response(
        request, caller, PARTICIPANT_COLUMNS, rows, page=page, following=views.next, full=len(views) >= page.per_page
    )
