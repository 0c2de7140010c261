"""The Chalice application class, with the current request kept per thread.

Chalice keeps ``current_request`` (and ``lambda_context``) as plain attributes of the app, which is right in
Lambda (one request per container at a time) and wrong in any threaded server: ``chalice local`` serves each
connection in its own thread, so two concurrent requests would each read whichever request was set last — one
lead provider's view could run with another's headers. Here both live in a ``threading.local``, so each thread
sees its own; in Lambda nothing changes.
"""

from __future__ import annotations

import threading
from typing import Any

from chalice.app import Chalice, Request


class Application(Chalice):
    _per_thread = threading.local()

    @property
    def current_request(self) -> Request | None:
        request: Request | None = getattr(self._per_thread, "request", None)
        return request

    @current_request.setter
    def current_request(self, value: Request | None) -> None:
        self._per_thread.request = value

    @property
    def lambda_context(self) -> Any:
        return getattr(self._per_thread, "context", None)

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._per_thread.context = value
