"""Times: UTC, millisecond precision, RFC 3339 on the wire."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote


def utcnow() -> datetime:
    return truncate(datetime.now(UTC))


def truncate(value: datetime) -> datetime:
    """Times are kept to the millisecond, so what the API shows is what is stored."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)


def iso(value: datetime | None) -> str | None:
    """``2024-05-31T02:22:32.123Z``: fixed width, so strings sort as times."""
    if value is None:
        return None
    return iso_millis(value)


def iso_millis(value: datetime) -> str:
    """``iso`` of a time that is there."""
    return truncate(value).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$")


def parse_timestamp(raw: str) -> datetime | None:
    """Parse an ISO 8601 / RFC 3339 time (URL-decoded once and retried, as the real API does)."""
    for decoded in (raw, unquote(raw)):
        candidate = decoded.strip().replace(" ", "+") if "T" in decoded else decoded.strip()
        if not _RFC3339.match(candidate):
            continue
        text = candidate.replace("z", "Z").replace("t", "T")
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
        except (ValueError, OverflowError):  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            continue
    return None


DATE_PARTS = 3  # year, month, day


def parse_date(raw: str) -> date | None:
    """CSV dates: ``2024/09/01``, ``2024-09-01`` or ``2022-1-25``. A bad date is None."""
    raw = (raw or "").strip()
    if not raw:
        return None
    parts = re.split(r"[/-]", raw)
    if len(parts) != DATE_PARTS:
        return None
    try:
        year, month, day = (int(p) for p in parts)
        return date(year, month, day)
    except ValueError:
        return None


def start_of_day(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


DAY = timedelta(days=1)
