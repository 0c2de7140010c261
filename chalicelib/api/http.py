"""JSON:API plumbing: request parsing, list parameters, and error → response mapping."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from chalice.app import Request, Response

from chalicelib import config, telemetry
from chalicelib.api import cursors, request_context
from chalicelib.domain import messages as m
from chalicelib.domain.clock import parse_timestamp, truncate, utcnow
from chalicelib.domain.errors import BadRequest, Conflict, Gone, InvalidTransition, NotFound, ValidationFailed
from chalicelib.domain.paging import DEFAULT_PER_PAGE, MAX_PER_PAGE, Order, Page, Position
from chalicelib.domain.tokens import Caller
from chalicelib.services.ids import parse_year

JSONAPI = "application/vnd.api+json"
ACCEPTED_CONTENT_TYPES = [JSONAPI, "application/json"]


def document(body: Any, status: int = HTTPStatus.OK, headers: Mapping[str, str] | None = None) -> Response:
    merged: dict[str, str | list[str]] = {"Content-Type": JSONAPI}
    if headers:
        merged.update(headers)
    return Response(body=json.dumps(body, separators=(",", ":")), status_code=int(status), headers=merged)


def errors(title: str, detail: str, status: int) -> Response:
    return document({"errors": [{"title": title, "detail": detail}]}, status)


def not_found() -> Response:
    return document({"error": m.NOT_FOUND}, HTTPStatus.NOT_FOUND)


def unauthorized() -> Response:
    return document(
        {"error": m.ACCESS_DENIED}, HTTPStatus.UNAUTHORIZED, {"WWW-Authenticate": 'Token realm="Application"'}
    )


def internal_error(request_id: str | None) -> Response:
    """The 500: ``{"error":"Internal server error","request_id":"..."}``, so a provider can quote the request (the id
    of its log line and audit record, also in the ``X-Request-Id`` header)."""
    body = {"error": m.INTERNAL_ERROR}
    if request_id:
        body["request_id"] = request_id
    return document(body, HTTPStatus.INTERNAL_SERVER_ERROR)


def handle_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """Map domain errors to JSON:API responses before Chalice can turn them into its own body."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except (ValidationFailed, InvalidTransition, BadRequest, NotFound, Conflict, Gone) as error:
            return domain_error_response(error)
        except Exception:  # noqa: BLE001 - logged with its traceback (Powertools logger.exception), then a 500
            request_id = request_context.request_id()
            telemetry.logger.exception("unhandled error", extra={"request_id": request_id})
            return internal_error(request_id)

    return wrapper


def domain_error_response(
    error: ValidationFailed | InvalidTransition | BadRequest | NotFound | Conflict | Gone,
) -> Response:
    """The response for an error the services raise on purpose."""
    if isinstance(error, ValidationFailed):
        body = [{"title": attr, "detail": ", ".join(msgs)} for attr, msgs in error.errors.items()]
        return document({"errors": body}, HTTPStatus.UNPROCESSABLE_ENTITY)
    if isinstance(error, InvalidTransition):
        return errors(m.INVALID_ACTION, error.detail, HTTPStatus.UNPROCESSABLE_ENTITY)
    if isinstance(error, BadRequest):
        return errors(error.title, error.detail, HTTPStatus.BAD_REQUEST)
    if isinstance(error, NotFound):
        return not_found()
    if isinstance(error, Gone):
        return errors(error.title, error.detail, HTTPStatus.GONE)
    return errors("Conflict", str(error), HTTPStatus.CONFLICT)


# --------------------------------------------------------------------------- request parts


SERVER_DATE_YEARS = range(2000, 2100)  # deadlines and statements are computed from it: keep it where they work


def request_now(request: Request) -> datetime:
    """The server's notion of now; ``X-With-Server-Date`` moves it outside production (2000-2099)."""
    header = request.headers.get("x-with-server-date") if request.headers else None
    if header and config.current().allow_server_date_override:
        parsed = parse_timestamp(header)
        if parsed is None:
            raise BadRequest(m.SERVER_DATE_INVALID)
        if parsed.year not in SERVER_DATE_YEARS:
            raise BadRequest(m.SERVER_DATE_OUT_OF_RANGE)
        return truncate(parsed)
    return utcnow()


def json_body(request: Request) -> dict[str, Any]:
    """The write body's ``data.attributes``; a 400 when the structure is not there."""
    raw = request.raw_body
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # RecursionError: nested ~1,000 deep
        raise BadRequest(m.DATA_REQUIRED) from error
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise BadRequest(m.DATA_REQUIRED)
    attributes = body["data"].get("attributes", {})
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise BadRequest(m.DATA_REQUIRED)
    return attributes


def query(request: Request) -> dict[str, str]:
    params: Mapping[str, str] = request.query_params or {}
    return dict(params.items())


def filters(params: Mapping[str, str]) -> dict[str, str]:
    """``filter[x]=y`` pairs; a bare ``filter=...`` is the real API's 'Filter must be a hash'."""
    if "filter" in params:
        raise BadRequest(m.FILTER_NOT_A_HASH, title=m.BAD_PARAMETER)
    out: dict[str, str] = {}
    for key, value in params.items():
        if key.startswith("filter[") and key.endswith("]"):
            out[key[len("filter[") : -1]] = value
    return out


def page(params: Mapping[str, str]) -> Page:
    """``page[page]`` and ``page[per_page]``: positive integers; per_page is clamped to 3000."""
    if "page" in params:
        raise BadRequest(m.PAGINATION_INVALID)
    number = positive(params.get("page[page]"), 1)
    per_page = positive(params.get("page[per_page]"), DEFAULT_PER_PAGE)
    return Page(number=number, per_page=min(per_page, MAX_PER_PAGE))


CURSOR = "page[cursor]"


def list_page(
    request: Request, caller: Caller, *, default_per_page: int = DEFAULT_PER_PAGE, max_per_page: int = MAX_PER_PAGE
) -> Page:
    """``page[page]``/``page[per_page]`` as the real API, or a keyset page when ``page[cursor]`` is given (empty:
    the first page). A cursor must be one this service made for this caller, route, filters and sort."""
    params = query(request)
    if "page" in params:
        raise BadRequest(m.PAGINATION_INVALID)
    per_page = min(positive(params.get("page[per_page]"), default_per_page), max_per_page)
    if CURSOR not in params:
        return Page(number=positive(params.get("page[page]"), 1), per_page=per_page)
    if "page[page]" in params:
        raise BadRequest(m.CURSOR_WITH_PAGE_NUMBER)
    raw = params[CURSOR]
    if not raw.strip():
        return Page(per_page=per_page, cursor=True)
    state = cursors.decode(raw, cursor_binding(request, caller))
    after = state.get("a") if isinstance(state, dict) else None
    if not isinstance(after, dict):
        raise BadRequest(m.CURSOR_INVALID)
    return Page(per_page=per_page, cursor=True, after=after)


def cursor_binding(request: Request, caller: Caller) -> str:
    """What this request's cursors are bound to: the caller, the route and its non-paging parameters."""
    route = str((request.context or {}).get("resourcePath", ""))
    return cursors.binding(caller.lead_provider_id, route, query(request))


def _origin(request: Request) -> str:
    headers: Mapping[str, str] = request.headers or {}
    host = headers.get("host")
    return f"{headers.get('x-forwarded-proto', 'http')}://{host}" if host else ""


def link_with(request: Request, **replacements: str) -> str:
    """This request's URL with some query parameters replaced (absolute when the Host header says where)."""
    params = {**query(request), **replacements}
    context = request.context or {}
    path = str(context.get("path") or context.get("resourcePath") or "")
    return f"{_origin(request)}{path}?{urlencode(params, safe='[],:')}"


def link_to(request: Request, route_path: str) -> str:
    """The URL of another route of this API, as this request reached it (the same origin and stage prefix)."""
    context = request.context or {}
    path = str(context.get("path") or "")
    resource = str(context.get("resourcePath") or "")
    prefix = path[: -len(resource)] if resource and path.endswith(resource) else ""
    return f"{_origin(request)}{prefix}{route_path}"


def next_link(request: Request, caller: Caller, following: Position) -> str:
    """The URL of the keyset page that starts at ``following``."""
    cursor = cursors.encode({"a": dict(following)}, cursor_binding(request, caller))
    return link_with(request, **{CURSOR: cursor})


def list_document(
    request: Request, caller: Caller, page_: Page, data: list[Any], following: Position | None
) -> Response:
    """A list response: ``{"data": [...]}``, plus ``links.next`` on a keyset page that has a next page. Responses
    to page-number requests are exactly the real API's."""
    body: dict[str, Any] = {"data": data}
    if page_.cursor and following is not None:
        body["links"] = {"next": next_link(request, caller, following)}
    return document(body)


MAX_PAGE_DIGITS = 9  # longer page values are the real API's pagination 400, not a huge page


def positive(raw: str | None, default: int) -> int:
    """A positive page value, or the real API's pagination 400."""
    if raw is None:
        return default
    text = raw.strip()
    if not text.isdigit() or int(text) < 1 or len(text) > MAX_PAGE_DIGITS:
        raise BadRequest(m.PAGINATION_INVALID)
    return int(text)


SORTABLE = ("created_at", "updated_at")


def order(params: Mapping[str, str]) -> Order:
    """``sort=-updated_at,created_at``: the first known field orders; unknown fields are ignored."""
    for raw_part in (params.get("sort") or "").split(","):
        part = raw_part.strip()
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        if name in SORTABLE:
            return Order(field=name, descending=descending)
    return Order()


def updated_since(values: Mapping[str, str]) -> datetime | None:
    raw = values.get("updated_since")
    if raw is None:
        return None
    parsed = parse_timestamp(raw)
    if parsed is None:
        raise BadRequest(m.UPDATED_SINCE_INVALID)
    return parsed


MAX_FILTER_VALUES = 50  # a comma list in one filter: within DynamoDB's 100 IN values and 4 KB expressions


def comma_list(values: Mapping[str, str], name: str) -> list[str] | None:
    """The distinct values of ``filter[name]=a,b,c``; a 400 beyond ``MAX_FILTER_VALUES`` of them."""
    raw = values.get(name)
    if raw is None or not raw.strip():
        return None
    parts = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if len(parts) > MAX_FILTER_VALUES:
        raise BadRequest(m.FILTER_TOO_MANY_VALUES.format(name=name, limit=MAX_FILTER_VALUES))
    return parts


def cohort_list(values: Mapping[str, str]) -> list[int] | None:
    """``filter[cohort]=2023,2024``. Values that are not years match nothing."""
    parts = comma_list(values, "cohort")
    if parts is None:
        return None
    years = [parse_year(part) for part in parts]
    return [y for y in years if y is not None] or [0]


def id_list(values: Mapping[str, str], name: str) -> list[str] | None:
    return comma_list(values, name)
