"""The local stack's demo declarations (``localdev.demo_finance.load_declarations``), loaded at the real date as
``make run`` does: every state, a payable statement that ``authorise`` accepts, and the banner's declaration
curls working through the API at the server's date."""

from __future__ import annotations

import json
import shlex
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

from chalicelib.domain.clock import utcnow
from chalicelib.services import statements
from localdev.__main__ import print_tokens
from localdev.demo import DemoResult, load_demo
from localdev.demo_finance import plan_finance
from localdev.stack import tune_moto

WANTED = {"submitted", "eligible", "payable", "paid", "voided", "ineligible", "awaiting-clawback"}


@pytest.fixture
def demo(aws: None) -> Iterator[DemoResult]:
    now = utcnow()
    assert plan_finance(now) is not None, f"data/demo-cohort has no 2025 statements around {now.date()}"
    untune = tune_moto()  # as the local stack runs moto (results unchanged, transactions much faster)
    try:
        result = load_demo(now, schools_count=100, log=lambda _: None)
        assert result.finance is not None
        yield result
    finally:
        untune()


def curl_request(line: str) -> tuple[str, str, dict[str, str], str]:
    """A printed ``curl`` command as (method, URL, headers, body)."""
    words = shlex.split(line)
    assert words[0] == "curl", line
    assert "-g" in words, line
    method, headers, body, rest = "GET", {}, "", iter(words[1:])
    url = ""
    for word in rest:
        if word == "-X":
            method = next(rest)
        elif word == "-H":
            name, _, value = next(rest).partition(": ")
            headers[name] = value
        elif word == "-d":
            body = next(rest)
        elif not word.startswith("-"):
            url = word
    return method, url, headers, body


def send(client: Any, line: str) -> tuple[int, Any]:
    """Send a printed curl through chalice's test client: no X-With-Server-Date, so at the server's date."""
    method, url, headers, body = curl_request(line)
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    response = client.http.request(method, path, headers=headers, body=body.encode())
    return response.status_code, json.loads(response.body)


def banner(result: DemoResult, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    print_tokens(SimpleNamespace(demo_result=result, dynamodb_port=8001), 8000)  # type: ignore[arg-type]
    return capsys.readouterr().out.splitlines()


def declarations(client: Any, token: str) -> list[dict[str, Any]]:
    response = client.http.get(
        "/api/v3/participant-declarations?filter[cohort]=2025&page[per_page]=1000",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.body
    return [d["attributes"] | {"id": d["id"]} for d in json.loads(response.body)["data"]]


def test_the_demo_has_declarations_in_every_state_and_a_statement_ready_to_authorise(demo: DemoResult, client):
    finance = demo.finance
    assert finance is not None
    token = demo.tokens[finance.lead_provider]
    listed = declarations(client, token)
    states = Counter(d["state"] for d in listed)
    assert set(states) >= WANTED, states
    assert states == {state.replace("_", "-"): n for state, n in finance.states.items()}
    assert 10 <= len(listed) <= 40  # a few dozen at most: the demo loads in seconds
    assert all(d["delivery_partner_id"] for d in listed)  # each dated after the participant's record started

    # The statement: output-fee, payable, deadline passed, holding declarations (payable and awaiting clawback).
    statement = statements.find_statement(finance.statement_id)
    assert statement.output_fee
    assert statement.payable
    assert statement.deadline_date < utcnow().date()
    payable = [d for d in listed if d["state"] == "payable"]
    clawbacks = [d for d in listed if d["clawback_statement_id"] == finance.statement_id]
    assert payable
    assert all(d["statement_id"] == finance.statement_id for d in payable)
    assert clawbacks
    assert all(d["state"] == "awaiting-clawback" for d in clawbacks)
    assert all(d["statement_id"] == finance.paid_statement_id for d in listed if d["state"] == "paid")
    assert statements.find_statement(finance.paid_statement_id).paid
    auth = {"Authorization": f"Bearer {token}"}
    response = client.http.get(f"/api/v3/statements/{finance.statement_id}", headers=auth)
    assert response.status_code == 200
    assert json.loads(response.body)["data"]["attributes"]["paid"] is False

    moved = statements.authorise(finance.statement_id, utcnow())
    assert (moved.declarations, moved.clawed_back) == (len(payable), len(clawbacks))
    assert statements.find_statement(finance.statement_id).paid
    after = {d["id"]: d["state"] for d in declarations(client, token)}
    assert {after[d["id"]] for d in payable} == {"paid"}
    assert {after[d["id"]] for d in clawbacks} == {"clawed-back"}


def test_the_banners_declaration_curls_work_at_the_server_date(demo: DemoResult, client, capsys):
    finance = demo.finance
    assert finance is not None
    lines = banner(demo, capsys)
    curls = [line.strip() for line in lines if "/participant-declarations" in line and line.strip().startswith("curl")]
    post = next(c for c in curls if "-X POST" in c)
    put = next(c for c in curls if "-X PUT" in c)
    get = next(c for c in curls if " -X " not in c)

    status, body = send(client, get)
    assert status == 200
    assert len(body["data"]) == 5

    status, body = send(client, post)
    assert status == 200, body
    declared = body["data"]["attributes"]
    assert (declared["declaration_type"], declared["course_identifier"]) == ("started", "ecf-induction")
    assert declared["state"] == "eligible"
    assert declared["statement_id"] not in (None, finance.statement_id)
    assert json.loads(curl_request(post)[3]) == finance.post_body
    status, body = send(client, post)  # the slot is taken now
    assert status == 422
    assert body["errors"][0]["title"] == "base"

    status, body = send(client, put)
    assert status == 200, body
    assert body["data"]["id"] == finance.void_id
    assert body["data"]["attributes"]["state"] == "voided"

    text = "\n".join(lines)
    assert f"Statement to authorise: {finance.statement_id}" in text
    assert f".venv/bin/ecf-admin finance statements authorise {finance.statement_id}" in text
    assert f".venv/bin/ecf-admin finance declarations-csv {finance.statement_id}" in text
