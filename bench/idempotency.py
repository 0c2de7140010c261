"""What an Idempotency-Key costs a write (docs/idempotency.md): ``.venv/bin/python -m bench.idempotency``.

In-process moto and Chalice's test client, POST /api/v3/partnerships/ecf for a new school each time, with warm
caches. For a write without a key, the first use of a key, and a replay: the DynamoDB requests (counted where
botocore makes them, so Powertools' own requests are included, unlike ``bench.counting``), the median wall time and
the median time inside those requests (the rest is the app's own time). Then, in fresh processes without moto, the
one-time CPU cost of the first keyed write (loading Powertools and boto3, making the persistence layer). Times are
moto's, not DynamoDB's; the request counts carry over. ``BENCH_REPS`` (default 30), ``BENCH_COLD_RUNS`` (default 7).
"""

from __future__ import annotations

# isort: off
import bench  # noqa: F401 - first: fake credentials and the test stage before moto or the app

# isort: on
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.botocore_samples import Sample, install, sample

PATH = "/api/v3/partnerships/ecf"
REPS = int(os.environ.get("BENCH_REPS", "30"))
COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))


class Writer:
    """The largest provider posting 2025 partnerships for schools of a small ``bench.load`` data set."""

    def __init__(self, client: Any):
        from bench.load import Scale, load

        data = load(Scale(schools=400, partnerships=30, delivery_partners=14, participants=0, declarations=0))
        lp = data.largest_lead_provider
        self.client, self.dp = client, data.delivery_partners[lp][0]
        self.schools = iter(data.unpartnered_schools)
        self.headers = {"Authorization": f"Bearer {data.tokens[lp]}", "Content-Type": "application/vnd.api+json"}

    def post(self, key: str | None, school_id: str | None = None) -> tuple[Any, Sample, float]:
        school_id = school_id or next(self.schools)
        attributes = {"cohort": "2025", "school_id": school_id, "delivery_partner_id": self.dp}
        body = json.dumps({"data": {"type": "ecf-partnership", "attributes": attributes}})
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        with sample() as taken:
            started = time.perf_counter()
            response = self.client.http.post(PATH, headers=headers, body=body)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.body
        return response, taken, elapsed


def _row(name: str, runs: list[tuple[Any, Sample, float]]) -> str:
    requests = Counter(runs[0][1].requests)
    total = statistics.median(r[2] for r in runs) * 1000
    inside = statistics.median(r[1].dynamodb_seconds for r in runs) * 1000
    listed = ", ".join(f"{op} {n}" for op, n in sorted(requests.items()))
    return f"| {name} | {listed} | {sum(requests.values())} | {total:.1f} | {inside:.1f} | {total - inside:.1f} |"


def warm_table() -> None:
    from chalice.test import Client
    from moto import mock_aws

    import app as app_module
    from bench.load import fresh_tables

    with mock_aws():
        fresh_tables()
        install()
        with Client(app_module.app, stage_name="test") as client:
            writer = Writer(client)
            writer.post(None)
            writer.post("warm-up")
            plain = [writer.post(None) for _ in range(REPS)]
            first = [writer.post(f"key-{i}") for i in range(REPS)]
            schools = [json.loads(r[0].body)["data"]["attributes"]["school_id"] for r in first]
            replay = [writer.post(f"key-{i}", schools[i]) for i in range(REPS)]
            assert all(r[0].headers.get("Idempotent-Replayed") == "true" for r in replay)
            print(f"Warm, median of {REPS} (ms); requests of one write:\n")
            print("| Write | DynamoDB requests | Total | Wall ms | In DynamoDB ms | App's own ms |")
            print("|---|---|---:|---:|---:|---:|")
            for name, runs in (("POST, no key", plain), ("POST, first use of a key", first), ("replay", replay)):
                print(_row(name, runs))
            _record_size()


def _record_size() -> None:
    """DynamoDB's item size: attribute names plus values (strings in UTF-8, numbers about one byte per two digits)."""
    from chalicelib.models import IdempotencyRecord

    def size(name: str, value: dict[str, str]) -> int:
        ((kind, text),) = value.items()
        return len(name) + (len(text.encode()) if kind == "S" else (len(text) + 1) // 2 + 1)

    items = [record.serialize() for record in IdempotencyRecord.scan()]
    sizes = [sum(size(n, v) for n, v in item.items()) for item in items]
    claims = [sum(size(n, v) for n, v in item.items() if n != IdempotencyRecord.data.attr_name) for item in items]
    bodies = [len(json.loads(item["data"]["S"])["body"].encode()) for item in items]
    print(
        f"\nDynamoDB item sizes (bytes, median): stored record {statistics.median(sizes):.0f} for an answer body of "
        f"{statistics.median(bodies):.0f}; the claim (no data) {statistics.median(claims):.0f}"
    )


def cold_once() -> float:
    """In this fresh process, as on a cold Lambda whose first keyed write follows other requests: ``import app``,
    PynamoDB's client made (the first request of any kind does it), then what the first keyed write adds before its
    requests: importing the idempotency service (Powertools, boto3) and making the persistence layer and the
    idempotent function. Makes no AWS request. CPU ms (less sensitive than wall time to other work on the machine)."""
    import app  # noqa: F401 - the cold start every request pays
    from chalicelib.models.base import shared_connection

    assert "boto3" not in sys.modules, "something loaded boto3 before the measurement"
    shared_connection().client  # noqa: B018 - made by the first request of any kind
    started = time.process_time()
    from chalicelib.services import idempotency

    idempotency._current()
    return (time.process_time() - started) * 1000


def cold() -> None:
    extra = sorted(_run_cold() for _ in range(COLD_RUNS))
    listed = ", ".join(f"{e:.1f}" for e in extra)
    print(f"\nFirst keyed write in a fresh process, one-time CPU ms ({COLD_RUNS} processes): "
          f"median {statistics.median(extra):.1f} ({listed})")  # fmt: skip


def _run_cold() -> float:
    done = subprocess.run([sys.executable, "-m", "bench.idempotency", "--cold-once"], capture_output=True, text=True,
                          check=True, timeout=300)  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    actions: dict[str, Callable[[], None]] = {"--cold-once": lambda: print(f"{cold_once():.3f}")}
    if argv and argv[0] in actions:
        actions[argv[0]]()
        return
    warm_table()
    cold()


if __name__ == "__main__":
    main(sys.argv[1:])
