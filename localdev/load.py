"""``make load``: locust, headless, against the local stack on 127.0.0.1: a first page of v3 participants.

Two runs, each bounded in time: one client (its median is the single-client latency) and ``LOAD_USERS``
concurrent clients (their requests/s is the throughput). Targets a running stack when ``LOAD_TOKEN`` is set
(with ``PORT``; a running stack keeps its own token limit, 1,000 requests per 5 minutes by default, which two
full runs exceed), else starts ``python -m localdev`` on free ports (with ``LOAD_TOKEN_LIMIT``), takes the banner's
first token and stops it afterwards. Environment: ``LOAD_SECONDS`` (per run, default 20), ``LOAD_USERS`` (default
16), ``PORT``,
``LOAD_TOKEN``. Exits 1 if a run failed requests or missed its target (``TARGET_RPS``, ``TARGET_MEDIAN_MS``).
"""

from __future__ import annotations

import csv
import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from localdev.stack import HOST, PROJECT_DIR

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
TARGET_RPS = 40.0  # with LOAD_USERS clients
TARGET_MEDIAN_MS = 25.0  # with one client
STACK_READY_WITHIN = 180.0  # seconds, for the stack this starts (a busy machine)
# The stack this starts counts every request against a token limit this high (unless RATE_LIMIT_PER_TOKEN is set):
# the runs measure what the server can serve, not the limiter's 429s (1,000 per 5 minutes would refuse most of
# them). The limiter still runs, and its UpdateItem is part of every request measured.
LOAD_TOKEN_LIMIT = 1_000_000


@dataclass(frozen=True)
class RunResult:
    users: int
    requests: int
    failures: int
    median_ms: float
    p95_ms: float
    rps: float

    def line(self) -> str:
        return (
            f"{self.users:>2} user(s): {self.requests} requests, {self.failures} failed, "
            f"median {self.median_ms:.0f} ms, p95 {self.p95_ms:.0f} ms, {self.rps:.1f} requests/s"
        )


def parse_stats(text: str, users: int) -> RunResult:
    """The ``Aggregated`` row of locust's ``--csv`` ``*_stats.csv``."""
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("Name") == "Aggregated":
            return RunResult(
                users=users,
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                median_ms=float(row["Median Response Time"]),
                p95_ms=float(row["95%"]),
                rps=float(row["Requests/s"]),
            )
    raise ValueError("no Aggregated row in locust's stats")


def run_locust(url: str, token: str, users: int, seconds: int) -> RunResult:
    """One headless locust run against ``url`` (127.0.0.1 only), ``seconds`` long."""
    if not re.match(r"^http://127\.0\.0\.1:\d+$", url):
        raise ValueError(f"make load targets 127.0.0.1 only, not {url}")
    with tempfile.TemporaryDirectory(prefix="ecf-load-") as folder:
        prefix = str(Path(folder) / "run")
        command = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url,
            "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--csv", prefix, "--only-summary",
            "--loglevel", "WARNING", "--stop-timeout", "5",
        ]  # fmt: skip
        env = {**os.environ, "LOAD_TOKEN": token}
        subprocess.run(command, env=env, check=False, capture_output=True, timeout=seconds + 60)
        return parse_stats(Path(f"{prefix}_stats.csv").read_text(), users)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def started_stack() -> Iterator[tuple[str, str]]:
    """``python -m localdev`` on free ports until it prints ``Ready.``: (url, the banner's first token)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(PORT=str(port), DYNAMODB_PORT=str(_free_port()), PYTHONUNBUFFERED="1")
    env.setdefault("RATE_LIMIT_PER_TOKEN", str(LOAD_TOKEN_LIMIT))
    process = subprocess.Popen(
        [sys.executable, "-m", "localdev"], cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        token = _wait_for_banner(process)
        yield f"http://{HOST}:{port}", token
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_banner(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + STACK_READY_WITHIN
    token = None
    for line in process.stdout:
        print(line, end="", flush=True)
        found = re.search(r'Bearer ([A-Za-z0-9_-]+)"', line)
        token = token or (found.group(1) if found else None)
        if line.startswith("Ready.") and token:
            return token
        if time.monotonic() > deadline:
            break
    raise RuntimeError("the local stack did not print Ready. with a token")


def measure(url: str, token: str, users: int, seconds: int) -> list[RunResult]:
    results = [run_locust(url, token, 1, seconds), run_locust(url, token, users, seconds)]
    for result in results:
        print(result.line(), flush=True)
    return results


def verdict(single: RunResult, many: RunResult) -> list[str]:
    """What missed its target (empty: all met)."""
    missed = []
    if single.failures or many.failures:
        missed.append(f"failed requests: {single.failures + many.failures}")
    if single.median_ms > TARGET_MEDIAN_MS:
        missed.append(f"single-client median {single.median_ms:.0f} ms > {TARGET_MEDIAN_MS:.0f} ms")
    if many.rps < TARGET_RPS:
        missed.append(f"{many.rps:.1f} requests/s with {many.users} clients < {TARGET_RPS:.0f}")
    return missed


def main() -> int:
    seconds = int(os.environ.get("LOAD_SECONDS") or 20)
    users = int(os.environ.get("LOAD_USERS") or 16)
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores", flush=True)
    token = os.environ.get("LOAD_TOKEN")
    if token:
        results = measure(f"http://{HOST}:{os.environ.get('PORT') or 8000}", token, users, seconds)
    else:
        with started_stack() as (url, first_token):
            results = measure(url, first_token, users, seconds)
    missed = verdict(*results)
    print("PASS" if not missed else "FAIL: " + "; ".join(missed), flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} (1 min)", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
