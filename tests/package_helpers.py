"""The package `make package` builds (out/), shared by the tests that check it, so `make test` packages once.

`make test` runs `make package` (dev) before the test suite; the tests read that out/ when it is newer than every
input of the package. Otherwise (pytest run on its own, or a source edited since) they build a fresh one in a
temporary directory with the same script (about a minute on a busy machine), leaving out/ alone.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out"
STAGE = "dev"
PRODUCTS = ("sam.json", "deployment.zip", "layer-deployment.zip", "stage")
INPUTS = (
    "app.py",
    "chalicelib",
    "requirements.txt",
    ".chalice/config.json",
    ".chalice/policy.json",
    "infra",
    "tools/slim_package.py",
    "tools/stack_template.py",
    "tools/stack_alarms.py",
    "tools/stack_lint.py",
)


@dataclass(frozen=True)
class Packaged:
    directory: Path
    template: dict[str, Any]

    @property
    def function_zip(self) -> Path:
        return self.directory / "deployment.zip"

    @property
    def layer_zip(self) -> Path:
        return self.directory / "layer-deployment.zip"


def newest_input() -> float:
    newest = 0.0
    for name in INPUTS:
        path = ROOT / name
        files = [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts] if path.is_dir() else []
        files += [path] if path.is_file() else []
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def is_fresh(directory: Path, stage: str = STAGE) -> bool:
    products = [directory / name for name in PRODUCTS]
    if not all(p.exists() for p in products) or (directory / "stage").read_text().strip() != stage:
        return False
    return min(p.stat().st_mtime for p in products) >= newest_input()


def build(directory: Path, stage: str = STAGE) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    done = subprocess.run(
        ["bash", "infra/package.sh", stage, str(directory)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"infra/package.sh failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def packaged(scratch: Path) -> Packaged:
    """out/ if fresh, else a new package built under ``scratch``."""
    directory = OUT
    if not is_fresh(OUT):
        directory = scratch / "out"
        build(directory)
    return Packaged(directory, json.loads((directory / "sam.json").read_text()))
