"""Argument types: each turns the text of one argument into a value, or says what is wrong with it."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, date, datetime, timedelta

from admin import texts
from chalicelib.domain.api_requests import StatusRange, status_range
from chalicelib.domain.clock import parse_timestamp

YEAR_DIGITS = 4


def year(text: str) -> int:
    if not (text.isdigit() and len(text) == YEAR_DIGITS):
        raise argparse.ArgumentTypeError(texts.NOT_A_YEAR.format(text=text))
    return int(text)  # ValueError for digits int() refuses (such as "²"): argparse then names the type


year.__name__ = "_year"  # so that message stays "invalid _year value: ..." as before the CLI was a package


def urn(text: str) -> str:
    text = text.strip()
    if not text.isdigit():
        raise argparse.ArgumentTypeError(texts.NOT_A_URN.format(text=text))
    return text


def name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(texts.BLANK_NAME)
    return text


def value(text: str) -> str:
    text = text.strip()
    if not text:
        raise argparse.ArgumentTypeError(texts.BLANK_VALUE)
    return text


def midnight(text: str) -> datetime:
    """``YYYY-MM-DD`` → midnight UTC that day."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(texts.NOT_A_START_DATE.format(text=text)) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(texts.NOT_A_DAY.format(text=text)) from None


def count(text: str) -> int:
    """A positive whole number (``--max``)."""
    text = text.strip()
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(texts.NOT_A_COUNT.format(text=text))
    return int(text)


_AGE = re.compile(r"^(\d{1,6})([mhd])$")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def since(text: str) -> datetime | timedelta:
    """``--since``: a time (RFC 3339, or a date: midnight UTC), or an age (``30m``, ``6h``, ``2d``) before now."""
    text = text.strip()
    age = _AGE.match(text.lower())
    if age:
        return timedelta(**{_AGE_UNITS[age.group(2)]: int(age.group(1))})
    parsed = parse_timestamp(text)
    if parsed is None:
        raise argparse.ArgumentTypeError(texts.NOT_A_SINCE.format(text=text))
    return parsed


def status(text: str) -> StatusRange:
    """``--status``: ``422`` or ``4xx``."""
    parsed = status_range(text)
    if parsed is None:
        raise argparse.ArgumentTypeError(texts.NOT_A_STATUS.format(text=text))
    return parsed
