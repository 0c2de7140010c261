"""The Chalice application class, with the current request kept per thread and its own logger's name.

Chalice keeps ``current_request`` (and ``lambda_context``) as plain attributes of the app, which is right in
Lambda (one request per container at a time) and wrong in any threaded server: ``chalice local`` serves each
connection in its own thread, so two concurrent requests would each read whichever request was set last — one
lead provider's view could run with another's headers. Here both live in a ``threading.local``, so each thread
sees its own; in Lambda nothing changes.

Chalice logs through ``logging.getLogger(app_name)`` and sets that logger to ERROR (unless debug) and gives it a
handler of its own. The app is named ``ecf-lp-api`` (the functions' names come from it), which is also the
Powertools service of ``chalicelib.telemetry``, whose logger has that name too: the structured INFO lines would be
dropped and written twice. So Chalice's logger is ``chalice.<app name>`` here.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from chalice.app import Chalice, Request


class Application(Chalice):
    _per_thread = threading.local()

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"chalice.{self.app_name}")

    @log.setter
    def log(self, value: logging.Logger) -> None:
        """Chalice's ``__init__`` assigns ``getLogger(app_name)``; the property above answers instead."""

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
