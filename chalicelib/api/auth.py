"""Bearer token → lead provider. Done in the view, not an API Gateway authorizer, so the
401 body is the reference one everywhere (local, tests and AWS)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api import request_context
from chalicelib.api.http import request_now, unauthorized
from chalicelib.api.idempotency import guarded
from chalicelib.domain.tokens import Caller
from chalicelib.services import tokens


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in ("bearer", "token") or not value.strip():
        return None
    return value.strip()


def authenticated(blueprint: Blueprint) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Resolve the caller and pass it to the view as its first argument; 401 otherwise. Every view runs through
    the Idempotency-Key guard (``api.idempotency``), which acts on keyed POST and PUT requests only."""

    def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            request = blueprint.current_request
            token = bearer_token(request.headers.get("authorization") if request.headers else None)
            caller: Caller | None = tokens.authenticate(token, request_now(request)) if token else None
            if caller is None:
                return unauthorized()
            request_context.set_caller(caller)  # the request's log line and audit record name the provider
            return guarded(blueprint, caller, lambda: view(caller, *args, **kwargs))

        return wrapper

    return decorator
