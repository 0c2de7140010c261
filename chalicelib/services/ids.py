"""Parsing of identifiers that arrive from clients."""

from __future__ import annotations

import re
from typing import Any

YEAR_DIGITS = 4  # a cohort year is written with four digits
# A cohort year sent as a number must lie strictly between these.
_YEAR_ABOVE = 1900
_YEAR_BELOW = 3000

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and bool(_UUID.fullmatch(value))


def parse_year(value: Any) -> int | None:
    """A cohort year as the API sends it: ``"2024"`` (or the number 2024)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if _YEAR_ABOVE < value < _YEAR_BELOW else None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == YEAR_DIGITS:
        return int(value.strip())
    return None
