"""The API port while the local stack starts: it answers at once, 503 with ``Retry-After`` and a JSON:API error.

The API server binds its port first (a busy port fails the start-up before any data is loaded) and serves
from then on, but until ``open()`` every request gets a 503 and the connection is closed: a client never waits
on a port that accepts connections nobody answers. After ``open()`` requests go to chalice local's handler as
before (connections accepted earlier finish with their 503 and are closed).
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from chalicelib.domain import messages as m

JSONAPI = "application/vnd.api+json"
RETRY_AFTER_SECONDS = 2


def starting_body() -> bytes:
    error = {"status": str(int(HTTPStatus.SERVICE_UNAVAILABLE)), "title": m.STARTING_TITLE, "detail": m.STARTING_DETAIL}
    return json.dumps({"errors": [error]}, separators=(",", ":")).encode()


class _Starting(BaseHTTPRequestHandler):
    """Every method: 503, Retry-After, a JSON:API error, Connection: close."""

    protocol_version = "HTTP/1.1"

    def _unavailable(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > 0:
            self.rfile.read(length)  # the request's body, so the client sees the response, not a reset
        body = starting_body()
        self.send_response(HTTPStatus.SERVICE_UNAVAILABLE)
        self.send_header("Content-Type", JSONAPI)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Retry-After", str(RETRY_AFTER_SECONDS))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _unavailable

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the start-up's own progress lines are what the user reads meanwhile


class StartingGate:
    """Put in front of an ``http.server`` server's handler: 503s until ``open()``."""

    def __init__(self, server: Any) -> None:
        self._ready = threading.Event()
        self._inner = server.RequestHandlerClass
        server.RequestHandlerClass = self._handler

    @property
    def is_open(self) -> bool:
        return self._ready.is_set()

    def open(self) -> None:
        self._ready.set()

    def _handler(self, request: Any, client_address: Any, server: Any) -> Any:
        if self._ready.is_set():
            return self._inner(request, client_address, server)
        return _Starting(request, client_address, server)
