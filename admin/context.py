"""What every command handler gets and returns."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from chalicelib.domain.errors import DomainError


@dataclass(frozen=True)
class Context:
    now: datetime
    err: TextIO
    as_json: bool


@dataclass(frozen=True)
class Output:
    data: Any  # what --json prints
    text: str  # what a person reads


class DomainErrorMessage(DomainError):
    """A domain error re-worded for the command line."""


Handler = Callable[[argparse.Namespace, Context], Output]
