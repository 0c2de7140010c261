"""GET /api/v3/changes: the caller's change feed (docs/change-feed.md). A thin controller: parse, read one page,
serialise; cursors are signed and bound to the caller, the route and the filters (``api.cursors``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from chalice.app import Blueprint, Request, Response

from chalicelib.api import cursors, http
from chalicelib.api.auth import authenticated
from chalicelib.domain import messages as m
from chalicelib.domain.changes import Position, parse_types
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.paging import DEFAULT_PER_PAGE, MAX_PER_PAGE
from chalicelib.domain.tokens import Caller
from chalicelib.serializers import changes as serializer
from chalicelib.services import changes as service

bp = Blueprint(__name__)
ROUTE = "/api/v3/changes"


@bp.route(ROUTE, methods=["GET"], content_types=http.ACCEPTED_CONTENT_TYPES)
@http.handle_errors
@authenticated(bp)
def list_changes(caller: Caller) -> Response:
    request = bp.current_request
    params = http.query(request)
    types = _types(http.filters(params))
    per_page = _per_page(params)
    bound_to = http.cursor_binding(request, caller)
    position = _position(params, bound_to)
    result = service.read_feed(
        caller.lead_provider_id, position, types=types, per_page=per_page, now=http.request_now(request)
    )
    next_url = _link(request, result.next, bound_to)
    latest_url = next_url if result.latest is None else _link(request, result.latest, bound_to)
    data = [serializer.change(entry, lambda path: http.link_to(request, path)) for entry in result.entries]
    return http.document(
        {"data": data, "links": {"next": next_url, "latest": latest_url}, "meta": {"caught_up": result.caught_up}}
    )


def _types(values: Mapping[str, str]) -> frozenset[str] | None:
    try:
        return parse_types(values.get("resource_type"))
    except ValueError as error:
        raise BadRequest(m.CHANGES_RESOURCE_TYPE_INVALID, title=m.BAD_PARAMETER) from error


def _per_page(params: Mapping[str, str]) -> int:
    if "page" in params:
        raise BadRequest(m.PAGINATION_INVALID)
    if "page[page]" in params:
        raise BadRequest(m.CHANGES_PAGE_NUMBER)
    return min(http.positive(params.get("page[per_page]"), DEFAULT_PER_PAGE), MAX_PER_PAGE)


def _position(params: Mapping[str, str], bound_to: str) -> Position | None:
    """The signed cursor's ``{"s": last sequence number consumed, "t": epoch seconds}``; None to start."""
    raw = params.get(http.CURSOR, "")
    if not raw.strip():
        return None
    state = cursors.decode(raw, bound_to)
    seq = state.get("s") if isinstance(state, dict) else None
    since = state.get("t") if isinstance(state, dict) else None
    if type(seq) is not int or type(since) is not int or seq < 0:  # not bool either (a JSON true is no number)
        raise BadRequest(m.CURSOR_INVALID)
    return Position(seq, datetime.fromtimestamp(since, UTC))


def _link(request: Request, position: Position, bound_to: str) -> str:
    """This request's URL (same filters and page size) with the cursor of ``position``. The time is rounded
    down: it is a lower bound."""
    state = {"s": position.seq, "t": math.floor(position.since.timestamp())}
    return http.link_with(request, **{http.CURSOR: cursors.encode(state, bound_to)})
