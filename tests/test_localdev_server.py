"""The local API server (localdev/apiserver.py): a burst of 64 clients, and the deployed API's JSON:API 404 for a
path no route matches."""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain import messages as m
from localdev.apiserver import LISTEN_BACKLOG, MISSING_ROUTE_ERROR_TYPE, ApiServer
from tests.observability_helpers import capture

PROJECT_DIR = Path(__file__).resolve().parent.parent
CLIENTS = 64
PARTNERS = "/api/v3/delivery-partners"
UNKNOWN = "/api/v3/no-such-resource"
UNAUTHORIZED = "HTTP/1.1 401 Unauthorized"
NOT_FOUND = "HTTP/1.1 404 Not Found"
ANSWER_WITHIN = 20.0  # seconds per client; a burst is answered in well under a second here


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def chalice_config() -> Any:
    """The ``test`` stage's config, as ``chalice local`` loads it (on a copy of the environment)."""
    from chalice.cli.factory import CLIFactory

    return CLIFactory(str(PROJECT_DIR), environ=dict(os.environ)).create_config_obj(chalice_stage_name="test")


@pytest.fixture
def server(aws: None) -> Iterator[ApiServer]:
    """The app on the local server, bound but not yet accepting (a test starts it)."""
    import app as app_module

    api = ApiServer(app_module.app, chalice_config(), free_port())
    api.gate.open()  # the stack opens it once ready (localdev/startup.py); this server is ready at once
    try:
        yield api
    finally:
        api.stop()


def request_bytes(method: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def exchange(sock: socket.socket, request: bytes) -> str:
    """Send the request and read the whole answer (the server closes: ``Connection: close``); its status line, or
    what went wrong."""
    try:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    except OSError as error:  # ConnectionResetError, TimeoutError, ...
        return repr(error)
    return received.split(b"\r\n", 1)[0].decode(errors="replace")


def path_of(n: int) -> str:
    """Half the clients ask a real route (a 401 from the app: no token), half a path no route matches (a 404)."""
    return PARTNERS if n % 2 else UNKNOWN


EXPECTED = Counter({UNAUTHORIZED: CLIENTS // 2, NOT_FOUND: CLIENTS // 2})


def test_64_simultaneous_clients_of_a_started_server_all_get_answers(server: ApiServer) -> None:
    server.start()
    start_together = threading.Barrier(CLIENTS)
    answers: list[str] = []

    def client(n: int) -> None:
        start_together.wait()
        try:
            with socket.create_connection(("127.0.0.1", server.server.server_address[1]), ANSWER_WITHIN) as sock:
                answers.append(exchange(sock, request_bytes("GET", path_of(n))))
        except OSError as error:
            answers.append(repr(error))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(ANSWER_WITHIN * 3)
    assert Counter(answers) == EXPECTED  # no reset, no timeout


def test_the_listen_queue_holds_64_connections_before_one_is_accepted(server: ApiServer) -> None:
    """The burst at its worst: every client connects before the accept loop takes one. The kernel completes each
    connection into the listen queue (socketserver's default of 5 left the 7th waiting for a SYN retry)."""
    assert server.server.request_queue_size == LISTEN_BACKLOG >= CLIENTS
    sockets = []
    try:
        for _ in range(CLIENTS):
            sockets.append(socket.create_connection(("127.0.0.1", server.server.server_address[1]), 3.0))
        server.start()
        for sock in sockets:
            sock.settimeout(ANSWER_WITHIN)
        answers = [exchange(sock, request_bytes("GET", path_of(n))) for n, sock in enumerate(sockets)]
    finally:
        for sock in sockets:
            sock.close()
    assert Counter(answers) == EXPECTED


def fetch(server: ApiServer, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.server.server_address[1], timeout=ANSWER_WITHIN)
    try:
        connection.request(method, path, body=b"{}" if method == "POST" else None, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


def test_an_unknown_route_is_the_deployed_apis_json_api_404(server: ApiServer, world: Any) -> None:
    """What the MISSING_AUTHENTICATION_TOKEN Gateway Response answers on AWS (infra/template.json), where chalice
    local answered 403 with API Gateway's default body or, given an Authorization header, its SigV4 message."""
    lp = world.lead_provider()
    token = world.token(lp)
    server.start()
    cases = [
        ("GET", UNKNOWN, {}),
        ("GET", UNKNOWN, {"Authorization": f"Bearer {token}"}),
        ("POST", "/api/v3/partnerships", {"Authorization": "Bearer x", "Content-Type": "application/json"}),
        ("GET", "/api/v9/delivery-partners", {"Authorization": f"Bearer {token}"}),
        ("GET", "/", {}),
        ("DELETE", PARTNERS, {"Authorization": f"Bearer {token}"}),  # a route without that method
    ]
    with capture() as logs:
        for method, path, headers in cases:
            status, sent, body = fetch(server, method, path, headers)
            assert (status, body) == (404, {"error": "Resource not Found"}), (method, path)
            assert body == {"error": m.NOT_FOUND}
            assert sent["Content-Type"] == "application/vnd.api+json"
            assert sent["x-amzn-ErrorType"] == MISSING_ROUTE_ERROR_TYPE
            assert uuid.UUID(sent["x-amzn-RequestId"])
            assert "X-Request-Id" not in sent  # API Gateway answers it: the app never sees the request
        # The app's own 404 (a known route, an unknown id) has the same body.
        status, _, body = fetch(server, "GET", f"{PARTNERS}/{uuid.uuid4()}", {"Authorization": f"Bearer {token}"})
    assert (status, body) == (404, {"error": m.NOT_FOUND})
    assert [line["status"] for line in logs.requests] == [404]  # as on AWS: no line for the unknown routes


def test_connections_are_served_without_nagles_delay(server: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's side of each connection has TCP_NODELAY: the body, written after the headers, is sent at once
    instead of waiting for the client's delayed ACK (up to 40 ms a request on Linux; docs/local-stack.md)."""
    from localdev.apiserver import RequestHandler

    seen: list[int] = []
    setup = RequestHandler.setup

    def recording_setup(self: RequestHandler) -> None:
        setup(self)
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(RequestHandler, "setup", recording_setup)
    server.start()
    port = server.server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN) as client:
        client.sendall(request_bytes("GET", PARTNERS))
        answer = client.recv(65536).decode(errors="replace")
    assert answer.startswith(UNAUTHORIZED)
    assert seen == [1]
