"""What the outer middleware (``api.observability``) and the code inside a request share, per thread.

The middleware opens a scope with the request's id; the 500 of ``http.handle_errors`` quotes that id, and
whoever resolves the caller (``auth.authenticated``; the rate limiter, an inner middleware, when it has) names it
here, so the request's log line carries the lead provider even for a 429. ``chalice local`` serves each request
on its own thread (as ``application.Application`` keeps the current request), so a thread-local is one request.
"""

from __future__ import annotations

import threading

from chalicelib.domain.tokens import Caller

_local = threading.local()


def begin(request_id: str) -> None:
    _local.request_id = request_id
    _local.caller = None


def end() -> None:
    _local.request_id = None
    _local.caller = None


def request_id() -> str | None:
    value: str | None = getattr(_local, "request_id", None)
    return value


def set_caller(caller: Caller) -> None:
    """The lead provider this request is made for (once its token is resolved)."""
    _local.caller = caller


def caller() -> Caller | None:
    value: Caller | None = getattr(_local, "caller", None)
    return value
