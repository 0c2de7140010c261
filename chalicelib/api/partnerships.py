"""GET/POST /api/v3/partnerships/ecf and GET/PUT /api/v3/partnerships/ecf/{id}."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api import http
from chalicelib.api.auth import authenticated
from chalicelib.domain.tokens import Caller
from chalicelib.serializers import v3
from chalicelib.services import partnerships as service

bp = Blueprint(__name__)


@bp.route("/api/v3/partnerships/ecf", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def list_partnerships(caller: Caller) -> Response:
    request = bp.current_request
    params = http.query(request)
    values = http.filters(params)
    page = http.list_page(request, caller)
    records = service.list_partnerships(
        caller.lead_provider_id,
        cohorts=http.cohort_list(values),
        delivery_partner_ids=http.id_list(values, "delivery_partner_id"),
        updated_since=http.updated_since(values),
        order=http.order(params),
        page=page,
    )
    return http.list_document(request, caller, page, [v3.partnership(r) for r in records], records.next)


@bp.route("/api/v3/partnerships/ecf/{partnership_id}", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def show_partnership(caller: Caller, partnership_id: str) -> Response:
    return http.document({"data": v3.partnership(service.get_partnership(caller.lead_provider_id, partnership_id))})


@bp.route("/api/v3/partnerships/ecf", methods=["POST"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def create_partnership(caller: Caller) -> Response:
    request = bp.current_request
    attributes = http.json_body(request)
    record = service.create_partnership(caller.lead_provider_id, attributes, http.request_now(request))
    return http.document({"data": v3.partnership(record)})


@bp.route("/api/v3/partnerships/ecf/{partnership_id}", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def update_partnership(caller: Caller, partnership_id: str) -> Response:
    request = bp.current_request
    attributes = http.json_body(request)
    record = service.update_partnership(caller.lead_provider_id, partnership_id, attributes, http.request_now(request))
    return http.document({"data": v3.partnership(record)})
