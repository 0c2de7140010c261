"""Bearer token → lead provider. Done in the view, not an API Gateway authorizer, so the
401 body is the reference one everywhere (local, tests and AWS).

The rate-limit middleware (``api.rate_limits``) resolves the caller first, to know which window to count the request
in, and keeps it on the request (``remember_caller``); ``authenticated`` then uses it instead of looking the token up
a second time. Without the middleware (a view called on its own) ``authenticated`` looks the token up itself."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice.app import Blueprint, Request, Response

from chalicelib.api import request_context
from chalicelib.api.http import request_now, unauthorized
from chalicelib.api.idempotency import guarded
from chalicelib.domain.tokens import Caller
from chalicelib.services import tokens

# A private attribute of the request: ``Request.to_dict()`` (what a request log would serialise) leaves out names
# that start with "_", so the caller never ends up in a log by way of the request.
_RESOLVED = "_ecf_resolved_caller"


@dataclass(frozen=True)
class Resolved:
    """The caller resolved for a request: ``None`` for a missing, unknown or revoked token."""

    caller: Caller | None


def remember_caller(request: Request, caller: Caller | None) -> None:
    vars(request)[_RESOLVED] = Resolved(caller)


def remembered_caller(request: Request) -> Resolved | None:
    """What ``remember_caller`` kept for this request, or None if nothing resolved it yet."""
    found = vars(request).get(_RESOLVED)
    return found if isinstance(found, Resolved) else None


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in ("bearer", "token") or not value.strip():
        return None
    return value.strip()


def request_token(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization") if request.headers else None)


def authenticated(blueprint: Blueprint) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Resolve the caller and pass it to the view as its first argument; 401 otherwise. Every view runs through
    the Idempotency-Key guard (``api.idempotency``), which acts on keyed POST and PUT requests only."""

    def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            request = blueprint.current_request
            caller = _caller(request)
            if caller is None:
                return unauthorized()
            request_context.set_caller(caller)  # the request's log line and audit record name the provider
            return guarded(blueprint, caller, lambda: view(caller, *args, **kwargs))

        return wrapper

    return decorator


def _caller(request: Request) -> Caller | None:
    token = request_token(request)
    if token is None:
        return None
    now = request_now(request)  # a bad X-With-Server-Date is a 400 here, whoever resolved the caller
    resolved = remembered_caller(request)
    return resolved.caller if resolved is not None else tokens.authenticate(token, now)
