"""Slim the Lambda package `chalice package` wrote, and precompile what a cold start imports.

    python -m tools.slim_package out/ [--stage dev] [--budget 5000000]

`chalice package` (with ``automatic_layer``) writes ``deployment.zip`` (app.py and chalicelib/) and
``layer-deployment.zip`` (requirements.txt's packages under ``python/lib/python3.X/site-packages``). This rewrites
both in place:

* botocore's and boto3's ``data/`` keep only the services the app calls (``KEEP_SERVICES``): botocore ships a
  model for each of ~400 AWS services, 94% of the unslimmed zip, and loads a model only when a client for that
  service is created, so the others are dead weight. A client for a service that is not kept fails at creation
  with ``UnknownServiceError`` (tests/test_package.py creates one of each kept service from the package);
* files that are never read at run time (``DROP``): Powertools' Swagger UI assets (its event handler's docs
  route; the app routes with Chalice) and the ``RECORD`` file lists of the dist-info directories (used by pip to
  uninstall, not by imports);
* every module the app imports at a cold start (``import app`` and one client of each kept service, recorded in
  a fresh interpreter that sees only the package, as Lambda lays it out) gets its bytecode next to it, compiled
  by this Python (the runtime's version: the Makefile and the template agree, tests/test_package.py checks it) as
  unchecked-hash ``.pyc`` files: /var/task is read-only, so without them every cold start compiles botocore,
  PynamoDB, Chalice and chalicelib again (about 3x the import's CPU time here; ``make bench-import``).

The zips are rewritten deterministically (sorted entries, fixed timestamps), and their total size must stay
within ``--budget`` bytes (exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import py_compile
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Service (botocore model directory name) -> who calls it. A new boto3.client("...") in chalicelib belongs here
# (tests/test_package.py finds the client calls in the code and fails for one that is not listed).
KEEP_SERVICES = {
    "dynamodb": "every table (PynamoDB; Powertools' idempotency persistence layer)",
    "dynamodbstreams": "stream replay (repositories/stream_failures.py)",
    "sqs": "the dead-letter queues (repositories/stream_failures.py)",
    "ssm": "the token HMAC key (services/tokens.py)",
    "sts": "botocore's assume-role credential providers (unused on Lambda, which passes credentials in the "
    "environment; kept so a role profile works when the package is run elsewhere)",
}
# Files never read at run time (glob patterns on the path inside the zip).
DROP = (
    "*/aws_lambda_powertools/event_handler/openapi/swagger_ui/*.js",
    "*/aws_lambda_powertools/event_handler/openapi/swagger_ui/*.css",
    "*.dist-info/RECORD",
)
DATA_PACKAGES = ("botocore", "boto3")
BUDGET_BYTES = 5_000_000
FUNCTION_ZIP = "deployment.zip"
LAYER_ZIP = "layer-deployment.zip"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
PYTHON_DIR = f"python{sys.version_info.major}.{sys.version_info.minor}"


@dataclass(frozen=True)
class Layout:
    """An extracted package laid out as Lambda does: the function's code in /var/task, the layer in /opt."""

    task: Path
    opt: Path

    @property
    def site_packages(self) -> Path:
        return self.opt / "python" / "lib" / PYTHON_DIR / "site-packages"

    def sys_path(self) -> list[str]:
        """The package's part of Lambda's sys.path, in Lambda's order (the runtime's own boto3 comes after)."""
        return [str(self.task), str(self.site_packages), str(self.opt / "python")]


def dropped(name: str) -> bool:
    """Whether a zip entry (a path inside a package zip) is left out of the slim package."""
    parts = PurePosixPath(name).parts
    for index, part in enumerate(parts[:-2]):
        if part in DATA_PACKAGES and parts[index + 1] == "data" and len(parts) > index + 3:
            return parts[index + 2] not in KEEP_SERVICES
    return any(fnmatch.fnmatch(name, pattern) for pattern in DROP)


def extract(out_dir: Path, into: Path) -> Layout:
    """Unzip the function zip into ``into/task`` and the layer zip (if any) into ``into/opt``."""
    layout = Layout(into / "task", into / "opt")
    for zip_name, target in ((FUNCTION_ZIP, layout.task), (LAYER_ZIP, layout.opt)):
        target.mkdir(parents=True, exist_ok=True)
        if (out_dir / zip_name).exists():
            with zipfile.ZipFile(out_dir / zip_name) as archive:
                archive.extractall(target)
    return layout


def lambda_environment(stage: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a fresh interpreter standing in for Lambda gets: fake credentials, no endpoint override."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_ACCESS_KEY_ID": "packaged",
        "AWS_SECRET_ACCESS_KEY": "packaged",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_REGION": "eu-west-2",
        "STAGE": stage,
        "TABLE_PREFIX": f"ecf-lp-api-{stage}",
    }
    environment.update(extra or {})
    return environment


def run_packaged(layout: Layout, code: str, environment: dict[str, str], timeout: float = 120) -> str:
    """Run ``code`` in a fresh interpreter that sees the stdlib and the package only (``-I -S``: no site-packages,
    no environment-chosen paths), with the package first on sys.path as on Lambda. Returns its stdout."""
    prelude = f"import sys\nsys.path[:0] = {json.dumps(layout.sys_path())}\n"
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", prelude + code],
        cwd=layout.task,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the packaged code failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout


RECORD_IMPORTS = """
import json
import app
import boto3
for service in {services}:
    boto3.client(service)
roots = tuple(sys.path[:3])
print(json.dumps(sorted({{m.__file__ for m in list(sys.modules.values())
                         if (getattr(m, "__file__", None) or "").startswith(roots)}})))
"""


def cold_start_modules(layout: Layout, stage: str) -> list[Path]:
    """The package's source files a cold start imports: ``import app`` and a client of each kept service."""
    code = RECORD_IMPORTS.format(services=sorted(KEEP_SERVICES))
    output = run_packaged(layout, code, lambda_environment(stage))
    return [Path(name) for name in json.loads(output.strip().splitlines()[-1])]


def compile_modules(files: list[Path]) -> None:
    for source in files:
        if source.suffix == ".py":
            py_compile.compile(
                str(source), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
            )


def prune(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and dropped(relative):
            path.unlink()


def write_zip(source_dir: Path, target: Path) -> None:
    """Zip a directory deterministically: sorted entries, fixed timestamps, modes kept."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in source_dir.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(source_dir).as_posix(), ZIP_DATE)
            info.external_attr = (path.stat().st_mode & 0o777 | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)


@dataclass(frozen=True)
class Sizes:
    before: int
    after: int
    function: int
    layer: int
    compiled: int


def zip_sizes(out_dir: Path) -> tuple[int, int]:
    """(function zip bytes, layer zip bytes; 0 without a layer)."""
    layer = out_dir / LAYER_ZIP
    return (out_dir / FUNCTION_ZIP).stat().st_size, layer.stat().st_size if layer.exists() else 0


def slim(out_dir: Path, stage: str) -> Sizes:
    before = sum(zip_sizes(out_dir))
    with tempfile.TemporaryDirectory(prefix="slim-package-") as scratch:
        layout = extract(out_dir, Path(scratch))
        prune(layout.task)
        prune(layout.opt)
        modules = cold_start_modules(layout, stage)
        compile_modules(modules)
        write_zip(layout.task, out_dir / FUNCTION_ZIP)
        if (out_dir / LAYER_ZIP).exists():
            write_zip(layout.opt, out_dir / LAYER_ZIP)
    function, layer = zip_sizes(out_dir)
    return Sizes(before=before, after=function + layer, function=function, layer=layer, compiled=len(modules))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--budget", type=int, default=BUDGET_BYTES, help="most bytes for both zips together")
    args = parser.parse_args(argv)
    sizes = slim(args.out_dir, args.stage)
    print(
        f"slim package: {sizes.before:,} -> {sizes.after:,} bytes (function {sizes.function:,}, layer "
        f"{sizes.layer:,}); {sizes.compiled} cold-start modules precompiled; budget {args.budget:,}"
    )
    if sizes.after > args.budget:
        print(f"slim package: over budget by {sizes.after - args.budget:,} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
