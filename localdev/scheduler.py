"""Runs the app's ``@app.schedule`` handlers on their schedules, standing in for EventBridge rules.

Schedules are discovered from ``app.event_sources`` (``ScheduledEventConfig``). A
``rate(N unit)`` schedule first runs N units after the stack starts, then every N
units. A ``cron(min hour day-of-month month day-of-week year)`` schedule is checked
once a minute, in UTC, as EventBridge does; fields accept ``*``, ``?``, numbers,
names (JAN, MON), lists, ranges and ``/`` steps. ``L``, ``W`` and ``#`` are not
supported locally: such a schedule is logged and skipped. A failing handler is
logged; the next run still happens (EventBridge's own retries are not imitated).
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger("localdev.scheduler")

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$", re.IGNORECASE)
_CRON = re.compile(r"^cron\((.*)\)$", re.IGNORECASE)
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
_DAYS = {  # EventBridge numbers the days from Sunday = 1
    name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)
}


def expression_of(schedule: Any) -> str:
    """The schedule as EventBridge text: a string as given, or a chalice ``Rate``/``Cron`` rendered."""
    return schedule if isinstance(schedule, str) else schedule.to_string()


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    if text in ("*", "?"):
        return frozenset(range(low, high + 1))
    values: set[int] = set()
    for part in text.split(","):
        if any(ch in part.upper() for ch in "LW#") and not (names and part.upper() in names):
            raise ValueError(f"{part!r} is not supported by the local scheduler")
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _number(first, names), _number(last, names)
        else:
            start = _number(base, names)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ValueError(f"{part!r} is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _number(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    return int(text)


CRON_FIELDS = 6  # EventBridge cron: minutes hours day-of-month month day-of-week year


@dataclass(frozen=True)
class CronSpec:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    years: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, fields: str) -> CronSpec:
        parts = fields.split()
        if len(parts) != CRON_FIELDS:
            raise ValueError(f"cron({fields}) needs 6 fields (minutes hours day-of-month month day-of-week year)")
        minute, hour, day, month, weekday, year = parts
        return cls(
            minutes=_field(minute, 0, 59),
            hours=_field(hour, 0, 23),
            days=_field(day, 1, 31),
            months=_field(month, 1, 12, _MONTHS),
            weekdays=_field(weekday, 1, 7, _DAYS),
            years=_field(year, 1970, 2199),
            any_day=day in ("*", "?"),
            any_weekday=weekday in ("*", "?"),
        )

    def matches(self, at: datetime) -> bool:
        weekday = (at.isoweekday() % 7) + 1  # Monday=1..Sunday=7 -> Sunday=1..Saturday=7
        if self.any_day and self.any_weekday:
            day_ok = True
        elif self.any_day:
            day_ok = weekday in self.weekdays
        elif self.any_weekday:
            day_ok = at.day in self.days
        else:
            day_ok = at.day in self.days or weekday in self.weekdays
        return (
            day_ok
            and at.minute in self.minutes
            and at.hour in self.hours
            and at.month in self.months
            and at.year in self.years
        )

    def next_after(self, after: datetime) -> datetime | None:
        """The first whole minute after ``after`` that matches (searching up to about a year ahead)."""
        at = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = at + timedelta(days=366)
        while at < limit:
            if at.year not in self.years or at.month not in self.months:
                at = (at.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if at.hour not in self.hours or not self.matches(at.replace(minute=min(self.minutes))):
                at = at.replace(minute=0) + timedelta(hours=1)
                continue
            if self.matches(at):
                return at
            at += timedelta(minutes=1)
        return None


@dataclass
class Job:
    name: str
    expression: str
    every: timedelta | None = None
    cron: CronSpec | None = None
    next_run: datetime | None = None
    runs: int = 0
    failures: int = 0
    description: str = ""

    def schedule_next(self, after: datetime) -> None:
        if self.every is not None:
            self.next_run = after + self.every
        elif self.cron is not None:
            self.next_run = self.cron.next_after(after)


def parse_job(name: str, expression: str) -> Job:
    rate = _RATE.match(expression.strip())
    if rate:
        amount = int(rate.group(1))
        if amount < 1:
            raise ValueError(f"{expression}: the rate must be at least 1")
        unit = rate.group(2).lower().rstrip("s")
        return Job(name, expression, every=timedelta(seconds=amount * _UNITS[unit]))
    cron = _CRON.match(expression.strip())
    if cron:
        return Job(name, expression, cron=CronSpec.parse(cron.group(1)))
    raise ValueError(f"{expression!r} is neither rate(...) nor cron(...)")


def scheduled_jobs(app: Any) -> tuple[list[Job], list[tuple[str, str]]]:
    """The app's schedules as jobs, and the (name, reason) of any the local scheduler cannot run."""
    from chalice.app import ScheduledEventConfig

    jobs: list[Job] = []
    skipped: list[tuple[str, str]] = []
    for source in getattr(app, "event_sources", []):
        if not isinstance(source, ScheduledEventConfig):
            continue
        expression = expression_of(source.schedule_expression)
        try:
            job = parse_job(source.name, expression)
        except ValueError as error:
            skipped.append((source.name, str(error)))
            continue
        job.description = source.description or ""
        jobs.append(job)
    return jobs, skipped


def scheduled_event(name: str, at: datetime, region: str, account: str = "123456789012") -> dict[str, Any]:
    """The event EventBridge sends a scheduled Lambda."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{name}"],
        "detail": {},
    }


class Scheduler:
    """Call each schedule handler when it is due; ``run_due(now)`` is the step tests drive."""

    def __init__(
        self,
        app: Any,
        *,
        region: str = "eu-west-2",
        clock: Callable[[], datetime] | None = None,
        tick: float = 1.0,
    ) -> None:
        self.app = app
        self.region = region
        self.clock = clock or (lambda: datetime.now(UTC))
        self.tick = tick
        self.jobs, self.skipped = scheduled_jobs(app)
        for name, reason in self.skipped:
            log.warning("schedule %s will not run locally: %s", name, reason)
        started = self.clock()
        for job in self.jobs:
            job.schedule_next(started)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def describe(self) -> list[str]:
        return [f"{job.name} {job.expression}" for job in self.jobs]

    def run_due(self, now: datetime | None = None) -> list[str]:
        """Run every job whose time has come. Returns the names run."""
        now = now or self.clock()
        ran = []
        for job in self.jobs:
            if job.next_run is None or job.next_run > now:
                continue
            due = job.next_run
            # Next run after this one; after falling behind (a laptop asleep) skip the missed runs.
            job.schedule_next(due if job.every is not None and due + job.every > now else now)
            self.run(job, due)
            ran.append(job.name)
        return ran

    def run(self, job: Job, at: datetime) -> None:
        log.info("running schedule %s (%s)", job.name, job.expression)
        try:
            self.app.handler_map[job.name](scheduled_event(job.name, at, self.region), _lambda_context(job.name))
            job.runs += 1
        except Exception:
            job.failures += 1
            log.exception("schedule %s failed", job.name)

    def start(self) -> None:
        if self._thread is not None or not self.jobs:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:
                log.exception("scheduler step failed")
            self._stop.wait(self.tick)


def _lambda_context(name: str) -> Any:
    from chalice.local import LambdaContext

    return LambdaContext(function_name=name, memory_size=1024, max_runtime_ms=29_000)
