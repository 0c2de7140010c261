"""Cold import of the packaged app, as Lambda lays it out, next to its dependencies alone (``make bench-import``).

    .venv/bin/python -m bench.package_import [--runs 15] [--package out] [--against OTHER_OUT]

Each run is a fresh interpreter that sees only the stdlib and the package (``-I -S -B``: no site-packages, no
bytecode written, as on Lambda's read-only /var/task and /opt), importing either ``boto3, pynamodb, chalice`` or
``app``. Both are measured from the package as built (with the bytecode tools/slim_package.py adds) and from a copy
without any ``__pycache__`` (what a cold start costs when it must compile). Runs of all rows are interleaved so that
the machine's other load falls on each alike; CPU time is the figure to compare (wall time on a shared machine
mostly measures the other work). ``--against`` adds the same rows for another package directory (for example one
built from main), extracted the same way.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tools import slim_package

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = {"boto3, pynamodb, chalice": "import boto3, pynamodb, chalice", "app": "import app"}
TIMED = """
import json, time
cpu, wall = time.process_time(), time.perf_counter()
{statement}
print(json.dumps({{"cpu_ms": (time.process_time() - cpu) * 1000, "wall_ms": (time.perf_counter() - wall) * 1000,
                  "modules": len(sys.modules)}}))
"""


@dataclass
class Row:
    name: str
    layout: slim_package.Layout
    statement: str
    runs: list[dict[str, float]] = field(default_factory=list)

    def run_once(self) -> None:
        output = slim_package.run_packaged(
            self.layout, TIMED.format(statement=self.statement), slim_package.lambda_environment("dev")
        )
        self.runs.append(json.loads(output.strip().splitlines()[-1]))

    def line(self) -> str:
        cpu = [r["cpu_ms"] for r in self.runs]
        wall = [r["wall_ms"] for r in self.runs]
        return (
            f"| {self.name} | {statistics.median(cpu):.0f} | {min(cpu):.0f} | {statistics.median(wall):.0f} "
            f"| {self.runs[0]['modules']:.0f} |"
        )


def _without_bytecode(layout: slim_package.Layout, into: Path) -> slim_package.Layout:
    copy = slim_package.Layout(into / "task", into / "opt")
    shutil.copytree(layout.task, copy.task)
    shutil.copytree(layout.opt, copy.opt)
    for cache in [*copy.task.rglob("__pycache__"), *copy.opt.rglob("__pycache__")]:
        shutil.rmtree(cache, ignore_errors=True)
    return copy


def _rows(label: str, package: Path, scratch: Path) -> list[Row]:
    built = slim_package.extract(package, scratch / "built")
    bare = _without_bytecode(built, scratch / "bare")
    sizes = sum(slim_package.zip_sizes(package))
    rows = []
    for layout, how in ((built, "as packaged"), (bare, "no bytecode")):
        for name, statement in IMPORTS.items():
            rows.append(Row(f"{label} ({sizes / 1e6:.2f} MB zipped), {how}: import {name}", layout, statement))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--package", type=Path, default=ROOT / "out")
    parser.add_argument("--against", type=Path, help="another package directory to measure the same way")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
        rows = _rows("this package", args.package, Path(scratch) / "this")
        if args.against:
            rows += _rows(str(args.against), args.against, Path(scratch) / "other")
        for _ in range(args.runs):
            for row in rows:
                row.run_once()
    lines = [
        f"Cold import in a fresh interpreter (Python {platform.python_version()}, {platform.machine()}), "
        f"median of {args.runs} interleaved runs:",
        "",
        "| Package, import | CPU ms (median) | CPU ms (min) | wall ms (median) | modules |",
        "|---|---:|---:|---:|---:|",
        *(row.line() for row in rows),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
