"""The participant declarations API, v1/v2/v3 (docs/reference/ecf-declarations-statements.md 1), and v3 statements
(2.1).

- POST /api/v{1,2,3}/participant-declarations
- GET  /api/v{1,2,3}/participant-declarations and /{id}; v1/v2 also /participant-declarations.csv
- PUT  /api/v{1,2,3}/participant-declarations/{id}/void
- GET  /api/v3/statements and /{id}

Another provider's declaration is a 404 on show unless the visibility rule lets the caller see it, and always
a 404 on void (only the owner may void), exactly like a random id.
"""

from __future__ import annotations

from collections.abc import Mapping

from chalice.app import Blueprint, Response

from chalicelib.api import exports, http
from chalicelib.api.auth import authenticated
from chalicelib.serializers import declarations as serialize
from chalicelib.services import declarations as service
from chalicelib.services import statements as statement_service
from chalicelib.services.ids import is_uuid
from chalicelib.services.tokens import Caller

bp = Blueprint(__name__)

VERSIONS = ("v1", "v2", "v3")
CONTENT = http.ACCEPTED_CONTENT_TYPES


def _path(version: str, suffix: str = "") -> str:
    return f"/api/{version}/participant-declarations{suffix}"


# --------------------------------------------------------------------------- submit


def _submit(caller: Caller, version: str) -> Response:
    request = bp.current_request
    attributes = http.json_body(request)
    declaration = service.submit(
        caller.lead_provider_id, caller.lead_provider_name, attributes, http.request_now(request)
    )
    return http.document({"data": serialize.BY_VERSION[version](declaration)})


@bp.route(_path("v1"), methods=["POST"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def submit_v1(caller: Caller) -> Response:
    return _submit(caller, "v1")


@bp.route(_path("v2"), methods=["POST"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def submit_v2(caller: Caller) -> Response:
    return _submit(caller, "v2")


@bp.route(_path("v3"), methods=["POST"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def submit_v3(caller: Caller) -> Response:
    return _submit(caller, "v3")


# --------------------------------------------------------------------------- list and show


def _ids(values: Mapping[str, str], name: str, *, single: bool) -> list[str] | None:
    """A comma list of ids (v3), or one id (v1/v2). Ids that are not UUIDs match nothing."""
    raw = values.get(name)
    if raw is None or not raw.strip():
        return None
    parts = [raw.strip()] if single else http.comma_list(values, name) or []
    return [p for p in parts if is_uuid(p)]


def _list(caller: Caller, version: str) -> Response:
    request = bp.current_request
    values = http.filters(http.query(request))
    page = http.list_page(request, caller)
    v1_v2 = version != "v3"
    declarations = service.list_declarations(
        caller.lead_provider_id,
        v1_v2=v1_v2,
        cohorts=None if v1_v2 else http.cohort_list(values),
        participant_ids=_ids(values, "participant_id", single=v1_v2),
        delivery_partner_ids=None if v1_v2 else _ids(values, "delivery_partner_id", single=False),
        updated_since=http.updated_since(values),
        page=page,
    )
    data = [serialize.BY_VERSION[version](d) for d in declarations]
    return http.list_document(request, caller, page, data, declarations.next)


@bp.route(_path("v1"), methods=["GET"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def list_v1(caller: Caller) -> Response:
    return _list(caller, "v1")


@bp.route(_path("v2"), methods=["GET"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def list_v2(caller: Caller) -> Response:
    return _list(caller, "v2")


@bp.route(_path("v3"), methods=["GET"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def list_v3(caller: Caller) -> Response:
    return _list(caller, "v3")


def _csv(caller: Caller, version: str) -> Response:
    """Not paginated in the real service; here a page of up to 10,000 rows (about 2 MB, inside Lambda's 6 MB
    response limit) with a ``Link: <…>; rel="next"`` header while more remain."""
    request = bp.current_request
    page = exports.csv_page(request, caller)
    declarations = service.list_declarations(
        caller.lead_provider_id,
        v1_v2=True,
        cohorts=None,
        participant_ids=None,
        delivery_partner_ids=None,
        updated_since=None,
        page=page,
    )
    rows = [serialize.csv_row(version, d) for d in declarations]
    columns = serialize.csv_columns(version)
    return exports.csv_response(request, caller, columns, rows, page=page, following=declarations.next)


@bp.route(_path("v1", ".csv"), methods=["GET"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def csv_v1(caller: Caller) -> Response:
    return _csv(caller, "v1")


@bp.route(_path("v2", ".csv"), methods=["GET"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def csv_v2(caller: Caller) -> Response:
    return _csv(caller, "v2")


def _show(caller: Caller, version: str, declaration_id: str) -> Response:
    declaration = service.get_declaration(caller.lead_provider_id, declaration_id, v1_v2=version != "v3")
    return http.document({"data": serialize.BY_VERSION[version](declaration)})


@bp.route(_path("v1", "/{declaration_id}"), methods=["GET"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def show_v1(caller: Caller, declaration_id: str) -> Response:
    return _show(caller, "v1", declaration_id)


@bp.route(_path("v2", "/{declaration_id}"), methods=["GET"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def show_v2(caller: Caller, declaration_id: str) -> Response:
    return _show(caller, "v2", declaration_id)


@bp.route(_path("v3", "/{declaration_id}"), methods=["GET"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def show_v3(caller: Caller, declaration_id: str) -> Response:
    return _show(caller, "v3", declaration_id)


# --------------------------------------------------------------------------- void


def _void(caller: Caller, version: str, declaration_id: str) -> Response:
    declaration = service.void(caller.lead_provider_id, declaration_id, http.request_now(bp.current_request))
    return http.document({"data": serialize.BY_VERSION[version](declaration)})


@bp.route(_path("v1", "/{declaration_id}/void"), methods=["PUT"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def void_v1(caller: Caller, declaration_id: str) -> Response:
    return _void(caller, "v1", declaration_id)


@bp.route(_path("v2", "/{declaration_id}/void"), methods=["PUT"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def void_v2(caller: Caller, declaration_id: str) -> Response:
    return _void(caller, "v2", declaration_id)


@bp.route(_path("v3", "/{declaration_id}/void"), methods=["PUT"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def void_v3(caller: Caller, declaration_id: str) -> Response:
    return _void(caller, "v3", declaration_id)


# --------------------------------------------------------------------------- v3 statements


@bp.route("/api/v3/statements", methods=["GET"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def list_statements(caller: Caller) -> Response:
    """Output-fee statements, payment date first; filters ``cohort``, ``type`` (``ecf``), ``updated_since``."""
    request = bp.current_request
    values = http.filters(http.query(request))
    page = http.list_page(request, caller)
    statements = statement_service.list_statements(
        caller.lead_provider_id,
        statement_type=(values.get("type") or "").strip() or None,
        cohorts=http.cohort_list(values),
        updated_since=http.updated_since(values),
        page=page,
    )
    data = [serialize.statement(s) for s in statements]
    return http.list_document(request, caller, page, data, statements.next)


@bp.route("/api/v3/statements/{statement_id}", methods=["GET"], content_types=CONTENT)
@http.handle_errors
@authenticated(bp)
def show_statement(caller: Caller, statement_id: str) -> Response:
    values = http.filters(http.query(bp.current_request))
    statement = statement_service.get_statement(
        caller.lead_provider_id, statement_id, statement_type=(values.get("type") or "").strip() or None
    )
    return http.document({"data": serialize.statement(statement)})
