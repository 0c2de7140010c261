"""JSON:API plumbing: request parsing, list parameters, and error → response mapping."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any

from chalice.app import Request, Response

from chalicelib import config
from chalicelib.domain import messages as m
from chalicelib.domain.clock import parse_timestamp, truncate, utcnow
from chalicelib.domain.errors import BadRequest, Conflict, InvalidTransition, NotFound, ValidationFailed
from chalicelib.domain.paging import DEFAULT_PER_PAGE, MAX_PER_PAGE, Order, Page
from chalicelib.services.ids import parse_year

JSONAPI = "application/vnd.api+json"
ACCEPTED_CONTENT_TYPES = [JSONAPI, "application/json"]
log = logging.getLogger("ecf.api")


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


def handle_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """Map domain errors to JSON:API responses before Chalice can turn them into its own body."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except (ValidationFailed, InvalidTransition, BadRequest, NotFound, Conflict) as error:
            return domain_error_response(error)
        except Exception:
            log.exception("unhandled error")
            return document({"error": m.INTERNAL_ERROR}, HTTPStatus.INTERNAL_SERVER_ERROR)

    return wrapper


def domain_error_response(error: ValidationFailed | InvalidTransition | BadRequest | NotFound | Conflict) -> Response:
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
    return errors("Conflict", str(error), HTTPStatus.CONFLICT)


# --------------------------------------------------------------------------- request parts


def request_now(request: Request) -> datetime:
    """The server's notion of now; ``X-With-Server-Date`` moves it outside production."""
    header = request.headers.get("x-with-server-date") if request.headers else None
    if header and config.current().allow_server_date_override:
        parsed = parse_timestamp(header)
        if parsed is None:
            raise BadRequest("The header 'X-With-Server-Date' must be a valid RFC 3339 date")
        return truncate(parsed)
    return utcnow()


def json_body(request: Request) -> dict[str, Any]:
    """The write body's ``data.attributes``; a 400 when the structure is not there."""
    raw = request.raw_body
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError) as error:
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


def cohort_list(values: Mapping[str, str]) -> list[int] | None:
    """``filter[cohort]=2023,2024``. Values that are not years match nothing."""
    raw = values.get("cohort")
    if raw is None or not raw.strip():
        return None
    years = [parse_year(part) for part in raw.split(",") if part.strip()]
    return [y for y in years if y is not None] or [0]


def id_list(values: Mapping[str, str], name: str) -> list[str] | None:
    raw = values.get(name)
    if raw is None or not raw.strip():
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]
