"""Rate limits: which window a request is counted in, and whether it is served (docs/rate-limits.md).

Every counted request is one conditional ``UpdateItem`` (``repositories.rate_limits``), so the limit holds across
all Lambda containers. A count only grows within a window, so once this process has seen a window full (its count
reached the limit, or an update was refused), it refuses the rest of that window's requests itself, without asking
DynamoDB again: a client that keeps calling after its 429 costs no writes. If the counter cannot be reached at all,
the request is served uncounted (fail open) and a warning is logged: a limiter outage must not become an API outage.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from chalicelib import config
from chalicelib.domain.rate_limits import (
    Decision,
    Kind,
    LimiterUnavailable,
    Subject,
    Window,
    counted,
    refused,
    uncounted,
    window_for,
)
from chalicelib.repositories import rate_limits as repo

__all__ = ["Decision", "Kind", "Subject", "check", "clear_cache", "known_full", "window"]

log = logging.getLogger("ecf.rate_limits")

FULL_CACHE_MAX_ENTRIES = 10_000
_lock = threading.Lock()
_full: set[tuple[str, int]] = set()  # (window key, limit) of windows seen full; a key names its window's start


def window(subject: Subject, now: datetime) -> Window:
    """The subject's window at ``now``, with the stage's limit for its kind."""
    settings = config.current()
    limit = settings.rate_limit_per_token if subject.kind is Kind.TOKEN else settings.rate_limit_per_ip
    return window_for(subject, now, limit=limit, seconds=settings.rate_limit_window_seconds)


def known_full(subject: Subject, now: datetime) -> Decision | None:
    """A refusal, made without a request, when this process has seen the subject's current window full."""
    current = window(subject, now)
    return refused(current, now) if _seen_full(current) else None


def check(subject: Subject, now: datetime) -> Decision:
    """Count one request against the subject's current window: served while the window has room, refused once it
    is full (a refused request is not counted)."""
    current = window(subject, now)
    if _seen_full(current):
        return refused(current, now)
    try:
        count = repo.add_request(current)
    except LimiterUnavailable as error:
        log.warning("rate limiter unavailable, request served uncounted (%s %s): %s", *_where(current), error)
        return uncounted(current, now)
    if count is None or count >= current.limit:
        _remember_full(current)
    return refused(current, now) if count is None else counted(current, count, now)


def _where(current: Window) -> tuple[str, int]:
    return str(current.subject.kind), current.start


def _seen_full(current: Window) -> bool:
    return (current.key, current.limit) in _full


def _remember_full(current: Window) -> None:
    with _lock:
        if len(_full) >= FULL_CACHE_MAX_ENTRIES:
            _full.clear()  # mostly past windows; at worst a current one costs one more refused update
        _full.add((current.key, current.limit))


def clear_cache() -> None:
    """Forget the windows seen full (tests; a new stage bound by the CLI)."""
    with _lock:
        _full.clear()
