"""GET /api/v3/schools/ecf and /{id}."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api import http
from chalicelib.api.auth import authenticated
from chalicelib.domain import messages as m
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.tokens import Caller
from chalicelib.serializers import v3
from chalicelib.services import schools as service
from chalicelib.services.ids import parse_year

bp = Blueprint(__name__)


def _cohort(values: dict[str, str]) -> int:
    raw = values.get("cohort")
    if raw is None or not raw.strip():
        raise BadRequest(m.COHORT_FILTER_REQUIRED, title=m.BAD_PARAMETER)
    return parse_year(raw) or 0  # an unknown year lists nothing


@bp.route("/api/v3/schools/ecf", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def list_schools(caller: Caller) -> Response:
    request = bp.current_request
    params = http.query(request)
    values = http.filters(params)
    cohort = _cohort(values)
    page = http.list_page(request, caller)
    records = service.list_schools(
        cohort,
        urn=values.get("urn") or None,
        updated_since=http.updated_since(values),
        order=http.order(params),
        page=page,
    )
    return http.list_document(request, caller, page, [v3.school(r) for r in records], records.next)


@bp.route("/api/v3/schools/ecf/{school_id}", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def show_school(caller: Caller, school_id: str) -> Response:
    values = http.filters(http.query(bp.current_request))
    record = service.get_school(_cohort(values), school_id)
    return http.document({"data": v3.school(record)})
