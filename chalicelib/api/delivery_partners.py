"""GET /api/v3/delivery-partners and /{id}."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api import http
from chalicelib.api.auth import authenticated
from chalicelib.domain.tokens import Caller
from chalicelib.serializers import v3
from chalicelib.services import providers as service

bp = Blueprint(__name__)


@bp.route("/api/v3/delivery-partners", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def list_delivery_partners(caller: Caller) -> Response:
    request = bp.current_request
    params = http.query(request)
    values = http.filters(params)
    page = http.list_page(request, caller)
    records = service.list_delivery_partners(
        caller.lead_provider_id, cohorts=http.cohort_list(values), order=http.order(params), page=page
    )
    return http.list_document(request, caller, page, [v3.delivery_partner(r) for r in records], records.next)


@bp.route("/api/v3/delivery-partners/{delivery_partner_id}", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def show_delivery_partner(caller: Caller, delivery_partner_id: str) -> Response:
    record = service.get_delivery_partner(caller.lead_provider_id, delivery_partner_id)
    return http.document({"data": v3.delivery_partner(record)})
