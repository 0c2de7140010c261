"""Tools for the rate-limit tests (docs/rate-limits.md): a frozen limiter clock, lower limits, the headers, the
stored counters.

``conftest`` sets limits no other test reaches; these tests lower them with ``limits`` (the boundary test uses the
default). The middleware's clock is patched: windows follow the real clock, never ``X-With-Server-Date``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib import config
from chalicelib.api import rate_limits as middleware_module
from chalicelib.models import RateLimitCounter
from chalicelib.services import tokens

PATH = "/api/v3/delivery-partners"  # one Query: the cheapest authenticated route
WINDOW_START = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)  # a multiple of 300 s since the epoch
REGION = "eu-west-2"


class Clock:
    def __init__(self, now: datetime):
        self.now = now


def freeze_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The limiter's clock, 10 s into a window."""
    frozen = Clock(WINDOW_START + timedelta(seconds=10))
    monkeypatch.setattr(middleware_module, "utcnow", lambda: frozen.now)
    return frozen


def limits(*, per_token: int = 1_000_000, per_ip: int = 1_000_000, window: int = 300, auth_cache: float = 0) -> None:
    config.configure(
        rate_limit_per_token=per_token,
        rate_limit_per_ip=per_ip,
        rate_limit_window_seconds=window,
        auth_cache_seconds=auth_cache,
    )


def rate_headers(response: Any) -> tuple[int, int, int]:
    """(RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset)."""
    headers = response.headers
    return int(headers["RateLimit-Limit"]), int(headers["RateLimit-Remaining"]), int(headers["RateLimit-Reset"])


def stored_counters() -> dict[str, dict[str, Any]]:
    """Every counter item as stored (key → raw attributes)."""
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=RateLimitCounter.Meta.table_name)["Items"]
    return {item["k"]["S"]: item for item in items}


def token_key(token: str, start: datetime = WINDOW_START) -> str:
    """The counter key of a token's window: its public id, never the token."""
    caller = tokens.authenticate(token, WINDOW_START)
    assert caller is not None
    return f"token#{caller.token_id}#{int(start.timestamp())}"
