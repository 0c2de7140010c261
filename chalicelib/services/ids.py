"""Parsing of identifiers that arrive from clients."""

from __future__ import annotations

import re
from typing import Any

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and bool(_UUID.fullmatch(value))


def parse_year(value: Any) -> int | None:
    """A cohort year as the API sends it: ``"2024"`` (or the number 2024)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1900 < value < 3000 else None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 4:
        return int(value.strip())
    return None
