"""The project version ``ecf-admin --version`` prints: the installed package's, else pyproject.toml's."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "ecf-lp-api"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
UNKNOWN = "unknown"


def project_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return pyproject_version()


def pyproject_version(path: Path = PYPROJECT) -> str:
    """The version in a source checkout that is not installed (or ``unknown``)."""
    try:
        with path.open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return UNKNOWN
