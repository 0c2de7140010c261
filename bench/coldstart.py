"""What a cold start costs in this process: ``import app``, and the first request's one-time work.

    .venv/bin/python -m bench.coldstart [--runs 30] [--against DIR]

Each run is a fresh Python process (fake AWS credentials, stage ``test``, no AWS call) that imports the app and
prints the CPU and wall milliseconds it took and how many modules it loaded; ``--against DIR`` runs the same in
another checkout of the project (for example ``git archive main | tar -x -C /tmp/base``) with this virtualenv,
interleaved with this one's runs so that the machine's load falls on both alike. CPU time is the figure to compare:
wall time on a shared machine mostly measures the other work on it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE_RUN = """
import json, sys, time
cpu, wall = time.process_time(), time.perf_counter()
import app
print(json.dumps({"cpu_ms": (time.process_time() - cpu) * 1000, "wall_ms": (time.perf_counter() - wall) * 1000,
                  "modules": len(sys.modules), "powertools": "aws_lambda_powertools" in sys.modules,
                  "boto3": "boto3" in sys.modules}))
"""


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="eu-west-2", STAGE="test")
    return env


def one(project: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", ONE_RUN], cwd=project, env=_environment(), capture_output=True,
                          text=True, check=True, timeout=120)  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def summary(name: str, runs: list[dict[str, float]]) -> str:
    cpu = statistics.median(r["cpu_ms"] for r in runs)
    wall = statistics.median(r["wall_ms"] for r in runs)
    modules = statistics.median(r["modules"] for r in runs)
    loaded = [k for k in ("powertools", "boto3") if runs[0][k]]
    return (
        f"{name}: import app, median of {len(runs)} fresh processes: CPU {cpu:.1f} ms "
        f"(min {min(r['cpu_ms'] for r in runs):.1f}, max {max(r['cpu_ms'] for r in runs):.1f}), "
        f"wall {wall:.1f} ms, {modules:.0f} modules; loads {', '.join(loaded) or 'neither powertools nor boto3'}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--against", type=Path, help="another checkout to measure the same way, interleaved")
    args = parser.parse_args(argv)
    here: list[dict[str, float]] = []
    there: list[dict[str, float]] = []
    for _ in range(args.runs):
        if args.against:
            there.append(one(args.against))
        here.append(one(ROOT))
    if args.against:
        print(summary(str(args.against), there))
    print(summary(str(ROOT), here))


if __name__ == "__main__":
    main()
