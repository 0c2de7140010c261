"""Every command shown in README.md and docs/*.md is run (or checked) by a test, so none goes stale.

Which lines are commands: see tests/doc_commands.py (```sh blocks, and indented blocks' lines that start with a
command word; ``\\`` continuations joined; comment-only lines ignored). Each command is classified by its first
word (after any NAME=value assignments):

- ``curl`` and ``ecf-admin`` (``.venv/bin/ecf-admin``, ``python -m admin``): run with bash, in document order
  (README.md, then docs/*.md by name), against one local stack started for this module
  (``python -m localdev --schools 300`` on free ports). ``127.0.0.1:8000``/``:8001`` and ``DYNAMODB_PORT=...``
  are rewritten to the stack's ports, ``DYNAMODB_PORT`` and ``TOKEN`` (the banner's first token, Ambition
  Institute's) are set, ``ecf-admin`` is on the ``PATH`` and ``curl`` is a function adding
  ``-sS --fail-with-body``, so an HTTP error fails. In ``ecf-admin`` lines an optional part written ``[--option
  VALUE]`` is run with the option (the brackets dropped). A command passes when it exits 0 and prints something
  (imports print their summary on stderr only).
- ALL-CAPS words in those commands (``STATEMENT_ID``, ``URN``...) and the file names in ``PLACEHOLDERS`` are
  replaced by the values below, worked out from the demo data (through the API or ``ecf-admin --json``) or
  generated before the first command runs. A placeholder missing from the table fails, naming the doc and line:
  to show a new command, add its placeholders here (one ``Placeholder(meaning, resolve)`` each; ``resolve``
  gets the running ``Stack``: ``stack.get(path, provider=0)``, ``stack.admin_json(*args)``, ``stack.banner``,
  ``stack.tmp``).
- ``make X``: checked with ``make -n X`` (the target exists and expands). The README's ``make run`` and
  ``make test`` themselves are run by CI (``.ci/run`` runs ``make test``) and by tests/test_localdev.py
  (``python -m localdev``, what ``make run`` runs).
- ``export TOKEN=...``: satisfied by the ``TOKEN`` the commands get; any other ``export`` fails (handle it here).
- ``aws ...``, ``ecf-admin`` against a deployed stage (``--stage dev|prod``, ``AWS_PROFILE=``), other ``python``
  commands, and any command on ``NOT_RUN``: shown but not run; every such line must
  be on ``NOT_RUN`` with its reason (exact text, continuations joined with one space), and every entry of
  ``NOT_RUN`` must still be in a doc.

One test runs all the commands in order and reports every failure (``docs/x.md:42: ...``): the commands change
the stack's state, and under ``pytest -n 2`` (the Makefile's ``--dist load``) cases of one module can land on
both workers, which would start two stacks. The per-command cases (ids like ``docs/admin-cli.md:42``) check
what needs no stack: the kind, the placeholders, ``make -n``, the ``NOT_RUN`` list.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from localdev import gias
from tests.doc_commands import PROJECT_DIR, DocCommand, all_commands
from tests.test_localdev import free_port

COMMANDS = all_commands()
RUN_KINDS = ("curl", "cli")
START_DEADLINE_SECONDS = 900  # 35-41 s idle; several minutes on a busy 2-core machine
COMMAND_TIMEOUT_SECONDS = 180

_DEPLOYED = "needs a real AWS account and a deployed stage; tests/test_infra.py and `make package` check the template"

# Shown but not run: the exact command text (continuations joined with one space) -> why.
NOT_RUN: dict[str, str] = {
    "AWS_PROFILE=ecf-dev ecf-admin --stage dev lead-providers list": (
        "a deployed stage's tables with real AWS credentials; the same command runs locally above (README.md)"
    ),
    "ecf-admin --stage prod changes replay-failures [--max N] [--json]": (
        "reads a deployed stage's SQS dead-letter queue and DynamoDB streams; the local stack has no such queue "
        "(tests/test_change_feed_replay.py covers the command against moto)"
    ),
    "aws iam create-role --role-name apigateway-cloudwatch-logs --assume-role-policy-document "
    '\'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":'
    '"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}\'': _DEPLOYED,
    "aws iam attach-role-policy --role-name apigateway-cloudwatch-logs "
    "--policy-arn arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs": _DEPLOYED,
    "aws apigateway update-account --patch-operations "
    "op=replace,path=/cloudwatchRoleArn,value=arn:aws:iam::<account>:role/apigateway-cloudwatch-logs": _DEPLOYED,
}


# --------------------------------------------------------------------------- the stack


@dataclass
class Stack:
    """The running local stack, as the commands and the placeholders see it."""

    port: int
    dynamodb_port: int
    banner: str = field(repr=False)
    tmp: Path
    tokens: list[tuple[str, str]] = field(repr=False)  # (lead provider, bearer token) in banner order
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def get(self, path: str, provider: int = 0) -> Any:
        """GET an API path (with its query) as the banner's ``provider``-th lead provider."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers={"Authorization": f"Bearer {self.tokens[provider][1]}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def admin_json(self, *args: str) -> Any:
        result = subprocess.run(
            [str(PROJECT_DIR / ".venv" / "bin" / "ecf-admin"), "--json", *args],
            cwd=PROJECT_DIR,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=True,
        )
        return json.loads(result.stdout)

    def environment(self) -> dict[str, str]:
        env = _clean_environment()
        env.update(
            DYNAMODB_PORT=str(self.dynamodb_port),
            TOKEN=self.tokens[0][1],
            PATH=f"{PROJECT_DIR / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        )
        return env


def _clean_environment() -> dict[str, str]:
    """A developer's shell: none of the test process's fake AWS settings, stage or caches (conftest sets them)."""
    dropped = {"STAGE", "ECF_STAGE", "TABLE_PREFIX", "AUTH_CACHE_SECONDS", "REFERENCE_CACHE_SECONDS"}
    dropped |= {"TOKEN_HMAC_KEY", "TOKEN_KEY_PARAMETER", "DYNAMODB_PORT", "PORT", "DEMO_SCHOOLS", "TOKEN"}
    return {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("AWS_")}


def _wait_for_banner(process: subprocess.Popen[str], stderr: Path) -> str:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    output: list[str] = []
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while not any(line.startswith("Ready.") for line in output):
        assert process.poll() is None, "the stack exited:\n" + "".join(output) + stderr.read_text()
        assert time.monotonic() < deadline, f"no 'Ready.' after {START_DEADLINE_SECONDS} s:\n" + "".join(output)
        with contextlib.suppress(queue.Empty):
            output.append(lines.get(timeout=0.5))
    return "".join(output)


def banner_tokens(banner: str) -> list[tuple[str, str]]:
    """The banner's "API tokens" table: (lead provider, token) per line, up to the blank line after it."""
    table = banner.split("API tokens (lead provider -> bearer token):\n", 1)[1].split("\n\n", 1)[0]
    rows = [line.strip().rsplit(None, 1) for line in table.splitlines()]
    return [(name.strip(), token) for name, token in rows]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("docs-commands")
    port, dynamodb_port = free_port(), free_port()
    command = [sys.executable, "-m", "localdev", "--schools", "300", "--port", str(port)]
    with (tmp / "stack-stderr.log").open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "--dynamodb-port", str(dynamodb_port)],
            cwd=PROJECT_DIR,
            env={**_clean_environment(), "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            banner = _wait_for_banner(process, tmp / "stack-stderr.log")
            yield Stack(port, dynamodb_port, banner, tmp, banner_tokens(banner))
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --------------------------------------------------------------------------- placeholders


@dataclass(frozen=True)
class Placeholder:
    meaning: str
    resolve: Callable[[Stack], str]


def _first_provider_partnership(stack: Stack) -> dict[str, Any]:
    """An active 2024 partnership of the first provider (its school has a default programme for 2024)."""
    page = stack.get("/api/v3/partnerships/ecf?filter[cohort]=2024&page[per_page]=100")
    return next(p for p in page["data"] if p["attributes"]["status"] == "active")


def _first_participant(stack: Stack) -> dict[str, Any]:
    if "participant" not in stack.cache:
        stack.cache["participant"] = stack.get("/api/v3/participants/ecf?page[per_page]=1")["data"][0]
    return stack.cache["participant"]  # type: ignore[no-any-return]


def _other_urn(stack: Stack) -> str:
    current = {e["school_urn"] for e in _first_participant(stack)["attributes"]["ecf_enrolments"]}
    page = stack.get("/api/v3/partnerships/ecf?page[per_page]=100")
    return next(p["attributes"]["urn"] for p in page["data"] if p["attributes"]["urn"] not in current)


def _second_provider_partnership_id(stack: Stack) -> str:
    page = stack.get("/api/v3/partnerships/ecf?page[per_page]=100", provider=1)
    return next(p["id"] for p in page["data"] if p["attributes"]["status"] == "active")  # type: ignore[no-any-return]


def _statement_to_authorise(stack: Stack) -> str:
    found = re.search(r"^Statement to authorise: (\S+)", stack.banner, re.MULTILINE)
    assert found is not None, stack.banner
    return found.group(1)


def _gias_extract(stack: Stack) -> str:
    path = stack.tmp / "edubasealldata.csv"
    gias.write_gias_csv(path, 50, seed=11)
    return str(path)


def _recorded_request_id(stack: Stack) -> str:
    """The newest audit record of the first provider (the stack ships its request lines within seconds)."""
    stack.get("/api/v3/delivery-partners?page[per_page]=1")
    deadline = time.monotonic() + 30
    while True:
        requests = stack.admin_json("api-requests", "list", "--lead-provider", stack.tokens[0][0])["requests"]
        if requests:
            return str(requests[0]["request_id"])
        assert time.monotonic() < deadline, "no audit record of the first provider after 30 s"
        time.sleep(0.5)


PLACEHOLDERS: dict[str, Placeholder] = {
    "URN": Placeholder(
        "the school of the first provider's first active 2024 partnership",
        lambda stack: _first_provider_partnership(stack)["attributes"]["urn"],
    ),
    "OTHER_URN": Placeholder("a school of a first-provider partnership other than PARTICIPANT_ID's", _other_urn),
    "PARTICIPANT_ID": Placeholder(
        "the first participant the first provider sees", lambda stack: _first_participant(stack)["id"]
    ),
    "PARTNERSHIP_ID": Placeholder("an active partnership of the second provider", _second_provider_partnership_id),
    "DELIVERY_PARTNER_ID": Placeholder(
        "the first provider's first delivery partner",
        lambda stack: stack.get("/api/v3/delivery-partners?page[per_page]=1")["data"][0]["id"],
    ),
    "TOKEN_ID": Placeholder(
        "the id of a token made for the test (not the banner's, which the commands use)",
        lambda stack: stack.admin_json("tokens", "create", stack.tokens[0][0])["token_id"],
    ),
    "STATEMENT_ID": Placeholder("the banner's 'Statement to authorise' (payable)", _statement_to_authorise),
    "QUERY": Placeholder(
        "a declaration id of the first provider",
        lambda stack: stack.get("/api/v3/participant-declarations?page[per_page]=1")["data"][0]["id"],
    ),
    "FILE": Placeholder("a file in the test's temporary folder", lambda stack: str(stack.tmp / "declarations.csv")),
    "REQUEST_ID": Placeholder("a request the first provider made, from its audit trail", _recorded_request_id),
    "edubasealldata.csv": Placeholder("a generated 50-school GIAS extract (localdev/gias.py)", _gias_extract),
}


def placeholders_of(command: DocCommand) -> list[str]:
    files = [name for name in PLACEHOLDERS if not name.isupper() and name in command.words]
    return command.placeholders() + files


def substitute(command: DocCommand, values: dict[str, str], stack: Stack) -> str:
    text = command.text
    if command.kind == "cli":
        text = re.sub(r"\[(--[^\[\]]*)\]", r"\1", text)  # [--option VALUE]: run with the option
    for name in placeholders_of(command):
        text = re.sub(rf"(?<![\w$-]){re.escape(name)}(?![\w=-])", values[name], text)
    text = text.replace("127.0.0.1:8000", f"127.0.0.1:{stack.port}")
    text = text.replace("127.0.0.1:8001", f"127.0.0.1:{stack.dynamodb_port}")
    return re.sub(r"\bDYNAMODB_PORT=\d+", f"DYNAMODB_PORT={stack.dynamodb_port}", text)


# --------------------------------------------------------------------------- checks without the stack


def problem(command: DocCommand) -> str | None:
    """Why ``command`` cannot be kept fresh by this module, or None."""
    where = f"{command.id}: `{command.text}`"
    if command.text in NOT_RUN:
        return None
    if command.kind in ("aws", "deployed", "python", "unknown"):
        return f"{where} is shown but not run: add it to NOT_RUN with the reason (or teach this test to run it)"
    if command.kind == "export" and not re.fullmatch(r"export TOKEN=\S*(\s+#.*)?", command.text):
        return f"{where}: only `export TOKEN=...` is provided by this test; handle this export here"
    missing = [name for name in placeholders_of(command) if name not in PLACEHOLDERS]
    if command.kind in RUN_KINDS and missing:
        return f"{where}: no value for {', '.join(missing)}: add it to PLACEHOLDERS in {Path(__file__).name}"
    return None


@pytest.mark.parametrize("command", COMMANDS, ids=[c.id for c in COMMANDS])
def test_the_doc_command_is_run_or_listed(command: DocCommand) -> None:
    assert problem(command) is None, problem(command)
    if command.kind == "make" and command.text not in NOT_RUN:
        line = command.text.split("#", 1)[0].replace("make ", "make -n ", 1)
        result = subprocess.run(
            ["bash", "-c", line], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"{command.id}: `{line}` failed:\n{result.stdout}{result.stderr}"


def test_not_run_lists_only_lines_the_docs_show() -> None:
    shown = {c.text for c in COMMANDS}
    assert [text for text in NOT_RUN if text not in shown] == []


def test_the_commands_are_found_where_the_docs_show_them() -> None:
    """The collector itself: the README tour, a joined continuation, a fenced and a listed command."""
    readme = [c for c in COMMANDS if c.doc == "README.md"]
    assert [c.kind for c in readme] == ["make", "make", "export", *["curl"] * 6, "cli", "cli"]
    assert readme[0].text == "make run    # the whole local stack with demo data on http://127.0.0.1:8000"
    joined = next(c for c in COMMANDS if c.doc == "docs/api-guide.md")
    assert joined.text.startswith('curl -g -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:8000/api/v3/')
    assert all(c.kind in RUN_KINDS for c in COMMANDS if c.doc == "docs/admin-cli.md" and c.text not in NOT_RUN)
    assert not any(c.doc.startswith("docs/reference/") for c in COMMANDS)
    assert "ecf-admin schools show URN" in {c.text for c in COMMANDS}
    transfer = next(c for c in COMMANDS if "participants transfer" in c.text)
    assert transfer.placeholders() == ["PARTICIPANT_ID", "OTHER_URN"]


# --------------------------------------------------------------------------- running them


def run_command(command: DocCommand, values: dict[str, str], stack: Stack) -> str | None:
    """Run one command with bash; the failure's description, or None."""
    text = substitute(command, values, stack)
    script = f'set -o pipefail\ncurl() {{ command curl -sS --fail-with-body --max-time 60 "$@"; }}\n{text}\n'
    try:
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=PROJECT_DIR,
            env=stack.environment(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{command.id}: `{text}` did not finish in {COMMAND_TIMEOUT_SECONDS} s"
    if result.returncode != 0 or not (result.stdout + result.stderr).strip():
        output = (result.stdout[-2000:] + result.stderr[-2000:]).strip()
        return f"{command.id}: `{text}` exited {result.returncode}:\n{output}"
    return None


def resolve_placeholders(runnable: list[DocCommand], stack: Stack) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    failures: list[str] = []
    for command in runnable:
        for name in placeholders_of(command):
            if name in values:
                continue
            if name not in PLACEHOLDERS:
                failures.append(f"{command.id}: no value for {name} in PLACEHOLDERS")
                continue
            values[name] = PLACEHOLDERS[name].resolve(stack)
    return values, failures


def test_the_doc_commands_run_against_the_local_stack(stack: Stack) -> None:
    runnable = [c for c in COMMANDS if c.kind in RUN_KINDS and c.text not in NOT_RUN]
    assert len(runnable) > 20  # the collector found the docs' commands
    values, failures = resolve_placeholders(runnable, stack)  # from the demo data as started, before any command
    for command in runnable:
        if all(name in values for name in placeholders_of(command)):
            failure = run_command(command, values, stack)
            failures += [failure] if failure else []
    assert failures == [], "\n\n".join(failures)
