"""Rate-limit windows and decisions: pure arithmetic, no storage (docs/rate-limits.md).

A window is ``seconds`` long and aligned to the epoch (``floor(now / seconds) * seconds``), as the real service's
Rack::Attack throttle is (docs/reference/ecf-declarations-statements.md section 4), so every container agrees on which
window a request falls in without talking to the others. Its counter is one item keyed
``<kind>#<subject>#<window start>``, the subject being a token's public id or a source IP (never a token or its hash).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# How long a window's counter outlives the window before DynamoDB's TTL may delete it (kept a while for support).
EXPIRY_MARGIN_SECONDS = 3600


class Kind(StrEnum):
    TOKEN = "token"  # requests with a valid token, by the token's public id
    IP = "ip"  # requests without a valid token, by source IP


@dataclass(frozen=True)
class Subject:
    """Who a request is counted against."""

    kind: Kind
    id: str


@dataclass(frozen=True)
class Window:
    subject: Subject
    start: int  # epoch seconds
    seconds: int
    limit: int

    @property
    def key(self) -> str:
        return f"{self.subject.kind}#{self.subject.id}#{self.start}"

    @property
    def end(self) -> int:
        return self.start + self.seconds

    @property
    def expires(self) -> int:
        """When the counter may be deleted (epoch seconds; its TTL)."""
        return self.end + EXPIRY_MARGIN_SECONDS

    def reset_after(self, now: datetime) -> int:
        """Whole seconds until the window ends, rounded up (1 to ``seconds``)."""
        return max(1, math.ceil(self.end - now.timestamp()))


def window_for(subject: Subject, now: datetime, *, limit: int, seconds: int) -> Window:
    """The window ``now`` falls in."""
    start = math.floor(now.timestamp() / seconds) * seconds
    return Window(subject=subject, start=start, seconds=seconds, limit=limit)


@dataclass(frozen=True)
class Decision:
    """What the limiter decided for one request. ``counted`` is False when the counter could not be reached and the
    request was let through uncounted (fail open)."""

    window: Window
    allowed: bool
    remaining: int
    reset: int  # seconds until the window ends
    counted: bool = True


def counted(window: Window, count: int, now: datetime) -> Decision:
    """The request was counted: it is the ``count``-th of its window (at most the limit)."""
    return Decision(window, allowed=True, remaining=max(0, window.limit - count), reset=window.reset_after(now))


def refused(window: Window, now: datetime) -> Decision:
    """The window is full: the request is refused and not counted."""
    return Decision(window, allowed=False, remaining=0, reset=window.reset_after(now))


def uncounted(window: Window, now: datetime) -> Decision:
    """The counter could not be reached: the request is let through (fail open)."""
    return Decision(window, allowed=True, remaining=window.limit, reset=window.reset_after(now), counted=False)


def describe_seconds(seconds: int) -> str:
    """``300`` → ``5 minutes``, ``60`` → ``1 minute``, ``3600`` → ``1 hour``, ``90`` → ``90 seconds``."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


class LimiterUnavailable(Exception):
    """The counter could not be updated (throttling, a network error): the caller fails open."""
