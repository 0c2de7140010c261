"""GET /api/v3/unfunded-mentors/ecf and GET /api/v3/unfunded-mentors/ecf/{id}
(docs/reference/ecf-declarations-statements.md 3.1).

The mentors of the provider's ECTs whom the provider does not train. An id that is not one of the provider's
unfunded mentors (another provider's, unknown or malformed) is a 404.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api import http
from chalicelib.api.auth import authenticated
from chalicelib.serializers import unfunded_mentors as serialize
from chalicelib.services import unfunded_mentors as service
from chalicelib.services.tokens import Caller

bp = Blueprint(__name__)

BASE = "/api/v3/unfunded-mentors/ecf"


@bp.route(BASE, methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def list_unfunded_mentors(caller: Caller) -> Response:
    request = bp.current_request
    params = http.query(request)
    values = http.filters(params)
    page = http.list_page(request, caller)
    people = service.list_unfunded_mentors(
        caller.lead_provider_id,
        updated_since=http.updated_since(values),
        order=http.order(params),
        page=page,
    )
    return http.list_document(request, caller, page, [serialize.unfunded_mentor(p) for p in people], people.next)


@bp.route(f"{BASE}/{{mentor_id}}", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def show_unfunded_mentor(caller: Caller, mentor_id: str) -> Response:
    person = service.get_unfunded_mentor(caller.lead_provider_id, mentor_id)
    return http.document({"data": serialize.unfunded_mentor(person)})
