"""The participants API (docs/reference/ecf-domain.md 2.2, 2.3, 3.10, 3.11).

- GET  /api/v{1,2,3}/participants/ecf (+ v1 legacy /api/v1/participants) and /{id}
- PUT  /api/v{1,2,3}/participants/ecf/{id}/defer|resume|withdraw|change-schedule
  (+ v1 legacy /api/v1/participants/{id}/…)
- GET  /api/v3/participants/ecf/transfers and /api/v3/participants/ecf/{id}/transfers

v1 and v2 behave identically: flat, one row per participant profile. v3 is nested, one resource per user.
A participant the provider may not see (hidden, another provider's, or unknown) gets the same answer as a
random id on every route: 404 on reads, the ``participant_id`` 422 on actions.
"""

from __future__ import annotations

from collections.abc import Mapping

from chalice.app import Blueprint, Response

from chalicelib.api import http
from chalicelib.api.auth import authenticated
from chalicelib.domain import messages as m
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.paging import Order
from chalicelib.domain.participants import COURSES, TRAINING_STATUSES, ParticipantView
from chalicelib.serializers import participants as serialize
from chalicelib.services import participants as service
from chalicelib.services.tokens import Caller

bp = Blueprint(__name__)

V1 = "/api/v1/participants"
V2 = "/api/v2/participants"
V3 = "/api/v3/participants/ecf"


def _training_status(values: Mapping[str, str]) -> str | None:
    raw = (values.get("training_status") or "").strip()
    if not raw:
        return None
    if raw not in TRAINING_STATUSES:
        raise BadRequest(m.TRAINING_STATUS_FILTER_INVALID)
    return raw


# --------------------------------------------------------------------------- v1 / v2: flat


@bp.route(V1, methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route(f"{V1}/ecf", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route(f"{V2}/ecf", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def list_participants_flat(caller: Caller) -> Response:
    """One row per participant profile; a user with an ECT and a mentor profile appears twice with one id.

    Pagination pages over users (as in v3), so a page may hold more than ``per_page`` rows when users have
    two profiles. Ordered by the user's creation, or by last update when ``filter[updated_since]`` is given
    (the real v1/v2 behaviour). ``filter[cohort]`` also drops the rows of other cohorts.
    """
    request = bp.current_request
    values = http.filters(http.query(request))
    cohorts = http.cohort_list(values)
    updated_since = http.updated_since(values)
    page = http.list_page(request, caller)
    views = service.list_participants(
        caller.lead_provider_id,
        cohorts=cohorts,
        training_status=None,
        updated_since=updated_since,
        order=Order(field="updated_at") if updated_since is not None else Order(),
        page=page,
    )
    return http.list_document(request, caller, page, serialize.flat_rows(views.items, cohorts), views.next)


@bp.route(f"{V1}/ecf/{{participant_id}}", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route(f"{V2}/ecf/{{participant_id}}", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def show_participant_flat(caller: Caller, participant_id: str) -> Response:
    """By user id; the ECT row when the user has both profiles."""
    view = service.get_participant(caller.lead_provider_id, participant_id)
    return http.document({"data": serialize.flat_show(view)})


# --------------------------------------------------------------------------- v3: nested


@bp.route(V3, methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def list_participants(caller: Caller) -> Response:
    request = bp.current_request
    params = http.query(request)
    values = http.filters(params)
    cohorts = http.cohort_list(values)
    updated_since = http.updated_since(values)
    training_status = _training_status(values)
    order = http.order(params)
    page = http.list_page(request, caller)
    if (values.get("from_participant_id") or "").strip():
        # Participant id changes (dedupes) are not modelled, so no participant matches any id.
        return http.list_document(request, caller, page, [], None)
    views = service.list_participants(
        caller.lead_provider_id,
        cohorts=cohorts,
        training_status=training_status,
        updated_since=updated_since,
        order=order,
        page=page,
    )
    return http.list_document(request, caller, page, [serialize.nested(v) for v in views], views.next)


@bp.route(f"{V3}/transfers", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def list_transfers(caller: Caller) -> Response:
    """The provider's visible participants that have a transfer involving it, paged over the read model's
    sparse transfers index. Ordered by the user's creation, or by last update when ``filter[updated_since]``
    is given."""
    request = bp.current_request
    params = http.query(request)
    values = http.filters(params)
    page = http.list_page(request, caller)
    found = service.list_transfers(
        caller.lead_provider_id,
        updated_since=http.updated_since(values),
        page=page,
        now=http.request_now(request),
    )
    data = [serialize.transfer(t.user_id, t.transfers) for t in found]
    return http.list_document(request, caller, page, data, found.next)


@bp.route(f"{V3}/{{participant_id}}", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def show_participant(caller: Caller, participant_id: str) -> Response:
    view = service.get_participant(caller.lead_provider_id, participant_id)
    return http.document({"data": serialize.nested(view)})


@bp.route(f"{V3}/{{participant_id}}/transfers", methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def show_transfers(caller: Caller, participant_id: str) -> Response:
    """404 unless the participant is visible to the provider and has a transfer involving it."""
    found = service.transfers_of(caller.lead_provider_id, participant_id, http.request_now(bp.current_request))
    return http.document({"data": serialize.transfer(found.user_id, found.transfers)})


# --------------------------------------------------------------------------- actions (every version)


def _act(caller: Caller, participant_id: str, action: str) -> tuple[ParticipantView, str | None]:
    """Run the action; return the participant and the participant type the action was on."""
    request = bp.current_request
    attributes = http.json_body(request)
    now = http.request_now(request)
    if action == "change-schedule":
        view = service.change_schedule(caller.lead_provider_id, participant_id, attributes, now)
    else:
        view = service.change_training_status(caller.lead_provider_id, participant_id, action, attributes, now)
    return view, COURSES.get(str(attributes.get("course_identifier")))


def _flat(caller: Caller, participant_id: str, action: str) -> Response:
    view, participant_type = _act(caller, participant_id, action)
    return http.document({"data": serialize.flat_show(view, participant_type)})


def _nested(caller: Caller, participant_id: str, action: str) -> Response:
    view, _ = _act(caller, participant_id, action)
    return http.document({"data": serialize.nested(view)})


@bp.route(f"{V1}/ecf/{{participant_id}}/defer", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route(f"{V1}/{{participant_id}}/defer", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route(f"{V2}/ecf/{{participant_id}}/defer", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def defer_flat(caller: Caller, participant_id: str) -> Response:
    return _flat(caller, participant_id, "defer")


@bp.route(f"{V1}/ecf/{{participant_id}}/resume", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route(f"{V1}/{{participant_id}}/resume", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route(f"{V2}/ecf/{{participant_id}}/resume", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def resume_flat(caller: Caller, participant_id: str) -> Response:
    return _flat(caller, participant_id, "resume")


@bp.route(f"{V1}/ecf/{{participant_id}}/withdraw", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route(f"{V1}/{{participant_id}}/withdraw", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route(f"{V2}/ecf/{{participant_id}}/withdraw", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def withdraw_flat(caller: Caller, participant_id: str) -> Response:
    return _flat(caller, participant_id, "withdraw")


@bp.route(f"{V1}/ecf/{{participant_id}}/change-schedule", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route(f"{V1}/{{participant_id}}/change-schedule", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@bp.route(f"{V2}/ecf/{{participant_id}}/change-schedule", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def change_schedule_flat(caller: Caller, participant_id: str) -> Response:
    return _flat(caller, participant_id, "change-schedule")


@bp.route(f"{V3}/{{participant_id}}/defer", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def defer_participant(caller: Caller, participant_id: str) -> Response:
    return _nested(caller, participant_id, "defer")


@bp.route(f"{V3}/{{participant_id}}/resume", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def resume_participant(caller: Caller, participant_id: str) -> Response:
    return _nested(caller, participant_id, "resume")


@bp.route(f"{V3}/{{participant_id}}/withdraw", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def withdraw_participant(caller: Caller, participant_id: str) -> Response:
    return _nested(caller, participant_id, "withdraw")


@bp.route(f"{V3}/{{participant_id}}/change-schedule", methods=["PUT"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def change_schedule_participant(caller: Caller, participant_id: str) -> Response:
    return _nested(caller, participant_id, "change-schedule")
