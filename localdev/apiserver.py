"""The local API server: ``chalice local``'s HTTP server, in a thread, made to answer as the deployed API does where
``make run``'s users meet the difference first.

- **Bursts of clients.** ``chalice local``'s server (``chalice.local.ThreadedHTTPServer``, a ``socketserver``
  server) listens with socketserver's default queue of 5 connections. A burst of clients (a provider's sync job
  with 20+ workers, a load test) overflows it while the accept loop runs only when the GIL lets it, and the
  connections past the queue time out or are reset. Here the queue holds ``LISTEN_BACKLOG`` connections.
- **Unknown routes.** ``chalice local`` answers a path no route matches with API Gateway's default, a 403 with
  ``{"message": "Missing Authentication Token"}`` (or, with an Authorization header, the SigV4 signing message).
  The deployed API customises that Gateway Response (``MISSING_AUTHENTICATION_TOKEN`` in ``infra/template.json``)
  into the real service's JSON:API 404, ``{"error":"Resource not Found"}`` (docs/reference/ecf-domain.md, 2.1), for
  a path no route matches and for a method its route does not have;
  so does this server, with the app's own 404 (``chalicelib.api.http.not_found``). As on AWS, such a request never
  reaches the app: no ``X-Request-Id``, no log line, no audit record.

Chalice's classes are reused, not copied: ``LocalDevServer`` takes a server class and a request handler class, and
the handler makes the ``LocalGateway`` that routes the request (chalice/local.py).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from chalice.local import (
    ChaliceRequestHandler,
    EventType,
    HeaderType,
    LocalDevServer,
    LocalGateway,
    LocalGatewayException,
    ThreadedHTTPServer,
)

from localdev.stack import HOST, PortInUse

LISTEN_BACKLOG = 128  # connections the kernel queues until the accept loop takes them (Linux caps it at somaxconn)
MISSING_ROUTE_ERROR_TYPE = "MissingAuthenticationTokenException"  # API Gateway's x-amzn-ErrorType for it


class BackloggedServer(ThreadedHTTPServer):
    """``chalice local``'s threaded server with a listen queue for a burst of clients."""

    request_queue_size = LISTEN_BACKLOG


class RouteNotFound(LocalGatewayException):
    """No route matches: the deployed API's ``MISSING_AUTHENTICATION_TOKEN`` Gateway Response."""

    CODE = 404


def route_not_found(request_id: str) -> RouteNotFound:
    from chalicelib.api.http import not_found  # the product: imported once the stack has set the environment

    response = not_found()
    headers: HeaderType = dict(response.headers)
    headers.update({"x-amzn-RequestId": request_id, "x-amzn-ErrorType": MISSING_ROUTE_ERROR_TYPE})
    return RouteNotFound(headers, str(response.body).encode())


class Gateway(LocalGateway):
    """Chalice's local API Gateway, with the deployed API's answer for a request no route matches: an unknown path,
    or a method the path does not have (API Gateway answers both with ``MISSING_AUTHENTICATION_TOKEN``; Chalice's
    app would answer the second with its own 405 body). ``OPTIONS`` is left to Chalice (its CORS preflight)."""

    def _generate_lambda_event(self, method: str, path: str, headers: HeaderType, body: bytes | None) -> EventType:
        try:
            event = super()._generate_lambda_event(method, path, headers, body)
        except ValueError:  # chalice.local.RouteMatcher: no route matches the path
            raise self._not_found() from None
        methods = self._app_object.routes[event["requestContext"]["resourcePath"]]
        if method != "OPTIONS" and method not in methods:
            raise self._not_found()
        return event

    def _not_found(self) -> RouteNotFound:
        return route_not_found(str(self._generate_lambda_context().aws_request_id))


class RequestHandler(ChaliceRequestHandler):
    """``ChaliceRequestHandler`` routing through :class:`Gateway` (its ``__init__`` handles the request, so the
    gateway is set before ``BaseHTTPRequestHandler.__init__``, as Chalice's own does), with Nagle's algorithm off:
    ``http.server`` writes the headers and then the body, and with Nagle on the body waits for the client to
    acknowledge the headers, which a client delaying its ACKs (Linux: up to 40 ms) does late. Measured with
    locust, one client, first page of v3 participants: median 80 ms with Nagle, see docs/local-stack.md without."""

    disable_nagle_algorithm = True  # socketserver.StreamRequestHandler sets TCP_NODELAY on the connection

    def __init__(
        self, request: Any, client_address: tuple[str, int], server: HTTPServer, app_object: Any, config: Any
    ) -> None:
        self.local_gateway = Gateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)


def local_server(app: Any, config: Any, host: str, port: int) -> LocalDevServer:
    """What ``chalice.local.create_local_server`` makes, with this module's server and request handler; binds and
    listens. Without its class swap (``CustomLocalChalice``), which only makes ``current_request`` per thread: the
    app's ``Application`` keeps it (and ``lambda_context``) per thread already (chalicelib/api/application.py)."""
    return LocalDevServer(app, config, host, port, handler_cls=RequestHandler, server_cls=BackloggedServer)


class ApiServer:
    """The local API server (no autoreload, so no worker process) in a thread."""

    def __init__(self, app: Any, config: Any, port: int, host: str = HOST) -> None:
        from chalice.deploy.validate import validate_routes  # what chalice.cli re-exports

        validate_routes(app.routes)
        try:
            self._server = local_server(app, config, host, port)  # binds here
        except OSError as error:
            raise PortInUse(port, "PORT") from error
        from localdev.startup import StartingGate

        self.gate = StartingGate(self._server.server)  # 503 + Retry-After until the stack is ready
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.server.serve_forever, name="api-server", daemon=True)

    @property
    def server(self) -> HTTPServer:
        server: HTTPServer = self._server.server
        return server

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(10)
        self._server.server.server_close()
