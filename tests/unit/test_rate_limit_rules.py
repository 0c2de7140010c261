"""Rate-limit windows (epoch-aligned, reset rounded up), decisions, and the service's rules with a fake counter:
full windows remembered per process, refused requests not counted, an unreachable counter fails open."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import config
from chalicelib.domain.rate_limits import (
    EXPIRY_MARGIN_SECONDS,
    Kind,
    LimiterUnavailable,
    Subject,
    Window,
    counted,
    describe_seconds,
    refused,
    window_for,
)
from chalicelib.repositories import rate_limits as repo
from chalicelib.services import rate_limits as service

TOKEN = Subject(Kind.TOKEN, "6f1c2a9e-3b7d-4c1e-9a2b-5d8e0f4c7b31")
ADDRESS = Subject(Kind.IP, "192.0.2.7")
NOON = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)  # 1717243200: a multiple of 300
NOON_EPOCH = 1_717_243_200


def test_windows_are_aligned_to_the_epoch() -> None:
    for offset in (0, 1, 150.5, 299.999):
        window = window_for(TOKEN, NOON + timedelta(seconds=offset), limit=1000, seconds=300)
        assert (window.start, window.end) == (NOON_EPOCH, NOON_EPOCH + 300)
    assert window_for(TOKEN, NOON + timedelta(seconds=300), limit=1000, seconds=300).start == NOON_EPOCH + 300
    assert window_for(TOKEN, NOON + timedelta(seconds=59), limit=5, seconds=60).start == NOON_EPOCH
    assert window_for(TOKEN, NOON - timedelta(microseconds=1), limit=5, seconds=300).start == NOON_EPOCH - 300


def test_the_key_names_the_kind_the_subject_and_the_start() -> None:
    assert window_for(TOKEN, NOON, limit=1000, seconds=300).key == f"token#{TOKEN.id}#{NOON_EPOCH}"
    assert window_for(ADDRESS, NOON, limit=300, seconds=300).key == f"ip#192.0.2.7#{NOON_EPOCH}"
    ipv6 = Subject(Kind.IP, "2001:db8::1")
    assert window_for(ipv6, NOON, limit=300, seconds=300).key == f"ip#2001:db8::1#{NOON_EPOCH}"


def test_reset_is_the_seconds_to_the_end_rounded_up() -> None:
    window = window_for(TOKEN, NOON, limit=1000, seconds=300)
    assert window.reset_after(NOON) == 300
    assert window.reset_after(NOON + timedelta(milliseconds=1)) == 300
    assert window.reset_after(NOON + timedelta(seconds=10)) == 290
    assert window.reset_after(NOON + timedelta(seconds=200, milliseconds=500)) == 100
    assert window.reset_after(NOON + timedelta(seconds=299, milliseconds=999)) == 1


def test_a_counter_expires_an_hour_after_its_window() -> None:
    window = window_for(TOKEN, NOON, limit=1000, seconds=300)
    assert window.expires == NOON_EPOCH + 300 + EXPIRY_MARGIN_SECONDS == NOON_EPOCH + 3900


def test_decisions() -> None:
    window = Window(TOKEN, NOON_EPOCH, 300, limit=3)
    at = NOON + timedelta(seconds=100)
    assert [counted(window, n, at).remaining for n in (1, 2, 3)] == [2, 1, 0]
    assert counted(window, 3, at).allowed
    no = refused(window, at)
    assert (no.allowed, no.remaining, no.reset, no.counted) == (False, 0, 200, True)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(300, "5 minutes"), (60, "1 minute"), (3600, "1 hour"), (7200, "2 hours"), (90, "90 seconds"), (1, "1 second")],
)
def test_describe_seconds(seconds: int, text: str) -> None:
    assert describe_seconds(seconds) == text


# --------------------------------------------------------------------------- the service, with a fake counter


class FakeCounter:
    """``repo.add_request`` as DynamoDB does it: the count never passes the limit."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.calls = 0
        self.down = False

    def add_request(self, window: Window) -> int | None:
        self.calls += 1
        if self.down:
            raise LimiterUnavailable("throttled")
        count = self.counts.get(window.key, 0)
        if count >= window.limit:
            return None
        self.counts[window.key] = count + 1
        return count + 1


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCounter]:
    fake = FakeCounter()
    monkeypatch.setattr(repo, "add_request", fake.add_request)
    config.configure(rate_limit_per_token=3, rate_limit_per_ip=2, rate_limit_window_seconds=300)
    service.clear_cache()
    yield fake
    service.clear_cache()
    config.reset()


def test_a_full_window_is_refused_without_asking_again(counter: FakeCounter) -> None:
    decisions = [service.check(TOKEN, NOON) for _ in range(5)]
    assert [(d.allowed, d.remaining) for d in decisions] == [(True, 2), (True, 1), (True, 0), (False, 0), (False, 0)]
    assert counter.calls == 3  # the third count reached the limit: the rest were refused here
    assert service.known_full(TOKEN, NOON) is not None
    assert service.known_full(TOKEN, NOON + timedelta(seconds=300)) is None  # the next window
    assert service.check(TOKEN, NOON + timedelta(seconds=300)).remaining == 2


def test_a_window_filled_elsewhere_is_refused_once_then_remembered(counter: FakeCounter) -> None:
    window = service.window(TOKEN, NOON)
    counter.counts[window.key] = 3  # other containers counted three
    assert service.known_full(TOKEN, NOON) is None
    assert [service.check(TOKEN, NOON).allowed for _ in range(3)] == [False, False, False]
    assert counter.calls == 1
    assert counter.counts[window.key] == 3


def test_each_kind_has_its_own_limit(counter: FakeCounter) -> None:
    assert service.window(TOKEN, NOON).limit == 3
    assert service.window(ADDRESS, NOON).limit == 2
    assert [service.check(ADDRESS, NOON).allowed for _ in range(3)] == [True, True, False]
    assert service.check(TOKEN, NOON).remaining == 2


def test_an_unreachable_counter_fails_open(counter: FakeCounter, caplog: pytest.LogCaptureFixture) -> None:
    counter.down = True
    decision = service.check(TOKEN, NOON + timedelta(seconds=10))
    assert (decision.allowed, decision.counted, decision.reset) == (True, False, 290)
    assert "rate limiter unavailable" in caplog.text
    counter.down = False
    assert service.check(TOKEN, NOON).remaining == 2  # nothing was counted or remembered meanwhile
