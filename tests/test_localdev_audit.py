"""The local stack's log subscription (localdev/logship.py): the API's audit lines reach record_api_requests and the
api-requests table on moto's server, so ``ecf-admin api-requests`` works against ``make run``."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
from chalice import Chalice

from admin import cli
from chalicelib.domain.clock import utcnow
from chalicelib.events.api_requests import RECORD_API_REQUESTS
from chalicelib.services import api_requests
from localdev.logship import LogShipper
from tests.test_localdev import app, moto_endpoint  # noqa: F401 - fixtures: a moto server, the app

PARTNERS = "/api/v3/delivery-partners"
RECORDED_WITHIN = 5.0  # seconds; the shipper sends every 0.1 s here (0.5 s on the stack)


def ecf(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.run(list(argv), out, err, configure=False)
    return status, out.getvalue() + err.getvalue()


def wait_for(request_id: str) -> float:
    began = time.monotonic()
    while api_requests.get_request(request_id) is None:
        assert time.monotonic() - began < RECORDED_WITHIN, f"{request_id} not recorded in {RECORDED_WITHIN}s"
        time.sleep(0.05)
    return time.monotonic() - began


def test_requests_are_recorded_by_the_shippers_thread(moto_endpoint: str, app: Chalice) -> None:  # noqa: F811 - the fixtures
    from chalice.test import Client

    from tests.factories import World

    world = World(utcnow())
    lp = world.lead_provider("Ambition Institute")
    token = world.token(lp)
    shipper = LogShipper(app, interval=0.1)
    shipper.start()
    try:
        with Client(app, stage_name="test") as client:
            ok = client.http.get(PARTNERS, headers={"Authorization": f"Bearer {token}"})
            denied = client.http.get(PARTNERS, headers={"Authorization": "Bearer not-a-token"})
        assert (ok.status_code, denied.status_code) == (200, 401)
        waited = max(wait_for(r.headers["X-Request-Id"]) for r in (ok, denied))
    finally:
        shipper.stop()
    status, out = ecf("api-requests", "list", "--lead-provider", lp.name, "--json")
    assert status == 0, out
    assert [row["request_id"] for row in json.loads(out)["requests"]] == [ok.headers["X-Request-Id"]]
    status, out = ecf("api-requests", "show", denied.headers["X-Request-Id"], "--json")
    assert (status, json.loads(out)["status"]) == (0, 401)
    assert shipper.delivered == 2
    print(f"recorded within {waited:.2f}s of the response")


def test_a_failed_delivery_is_sent_again_unchanged(
    moto_endpoint: str,  # noqa: F811 - the fixture
    app: Chalice,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalice.test import Client

    from tests.factories import World

    world = World(utcnow())
    token = world.token(world.lead_provider())
    function = app.handler_map[RECORD_API_REQUESTS]
    events: list[dict[str, Any]] = []

    def flaky(event: dict[str, Any], context: Any) -> Any:
        events.append(event)
        if len(events) == 1:
            raise RuntimeError("DynamoDB throttled the batch")
        return function(event, context)

    monkeypatch.setitem(app.handler_map, RECORD_API_REQUESTS, flaky)
    shipper = LogShipper(app)
    shipper.install()
    try:
        with Client(app, stage_name="test") as client:
            sent = [client.http.get(PARTNERS, headers={"Authorization": f"Bearer {token}"}) for _ in range(3)]
        with pytest.raises(RuntimeError, match="throttled"):
            shipper.ship_once()
        assert shipper.ship_once() == 3
        assert shipper.ship_once() == 0  # nothing left, nothing twice
    finally:
        shipper.uninstall()
    assert events[0] == events[1]  # the same batch, the same lines
    for response in sent:
        assert api_requests.get_request(response.headers["X-Request-Id"]) is not None


def test_only_audit_lines_are_shipped(moto_endpoint: str, app: Chalice) -> None:  # noqa: F811 - the fixtures
    from chalicelib import telemetry

    shipper = LogShipper(app)
    shipper.install()
    try:
        telemetry.logger.info("invocation", extra={"handler": "x"})
        telemetry.logger.info("something else")
        assert shipper.ship_once() == 0
    finally:
        shipper.uninstall()
