"""What the rate limiter adds to a request (docs/rate-limits.md): ``.venv/bin/python -m bench.rate_limits``.

In-process moto and Chalice's test client, a ``bench.load`` data set at ``BENCH_SCALE`` (default 0.02), warm caches
(``bench/__init__.py``: token and cohort caches for an hour). Each row is measured with the limiter's middleware on
and off, the two interleaved request by request so the machine's other work falls on both alike. For each: the
DynamoDB requests of one request (counted where botocore makes them: the limiter's ``UpdateItem`` goes through the
botocore client, which ``bench.counting`` does not see), the median wall time, the median time inside those
requests, and the rest (the app's own time). Then the refusals: a 429 whose window another container filled (one
refused ``UpdateItem``), a 429 this process already knew (no request), and a 401 counted by address. Times are
moto's, not DynamoDB's; the request counts carry over. ``BENCH_REPS`` (default 200).
"""

from __future__ import annotations

# isort: off
import bench  # noqa: F401 - first: fake credentials and the test stage before moto or the app

# isort: on
import os
import statistics
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.botocore_samples import Sample, install, sample
from chalicelib import config

SCALE = float(os.environ.get("BENCH_SCALE", "0.02"))
REPS = int(os.environ.get("BENCH_REPS", "200"))
ROUTES = {
    "GET delivery-partners": "/api/v3/delivery-partners",
    "GET schools, first page": "/api/v3/schools/ecf?filter[cohort]=2025&page[per_page]=100",
}


@dataclass
class Row:
    name: str
    samples: list[Sample] = field(default_factory=list)

    def requests(self) -> str:
        counted = Counter(self.samples[0].requests)
        return ", ".join(f"{op} {n}" for op, n in sorted(counted.items())) or "none"

    def medians(self) -> tuple[int, float, float, float]:
        """(requests, wall ms, in DynamoDB ms, the app's own ms)."""
        wall = statistics.median(s.seconds for s in self.samples) * 1000
        inside = statistics.median(s.dynamodb_seconds for s in self.samples) * 1000
        own = statistics.median(s.seconds - s.dynamodb_seconds for s in self.samples) * 1000
        return len(self.samples[0].requests), wall, inside, own

    def line(self) -> str:
        total, wall, inside, own = self.medians()
        return f"| {self.name} | {self.requests()} | {total} | {wall:.2f} | {inside:.2f} | {own:.2f} |"


class Limiter:
    """Switch the app's rate-limit middleware off and on (Chalice builds the chain per request)."""

    def __init__(self, app: Any):
        from chalicelib.api import rate_limits

        self.app = app
        self.on = list(app.middleware_handlers)
        self.off = [(f, kind) for f, kind in self.on if f is not rate_limits.middleware]
        assert len(self.off) == len(self.on) - 1, "the rate-limit middleware is not registered"

    def set(self, enabled: bool) -> None:
        self.app.middleware_handlers = self.on if enabled else self.off


def _get(client: Any, path: str, token: str | None, status: int) -> Sample:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with sample() as taken:
        response = client.http.get(path, headers=headers)
    assert response.status_code == status, (path, response.status_code, response.body)
    return taken


def on_and_off(client: Any, limiter: Limiter, name: str, path: str, token: str) -> list[Row]:
    """The route with and without the limiter, interleaved."""
    rows = {enabled: Row(f"{name}, limiter {'on' if enabled else 'off'}") for enabled in (False, True)}
    for _ in range(REPS):
        for enabled in (False, True):
            limiter.set(enabled)
            rows[enabled].samples.append(_get(client, path, token, 200))
    limiter.set(True)
    return [rows[False], rows[True]]


def refusals(client: Any, token: str) -> list[Row]:
    """429s (a window filled elsewhere, and one this process saw full) and a 401 counted by address, with the
    limiter's clock held at one instant (a window rolling over mid-row would serve a request) and a limit of 1."""
    from chalicelib.api import rate_limits as middleware
    from chalicelib.domain.clock import utcnow
    from chalicelib.services import rate_limits

    path = ROUTES["GET delivery-partners"]
    elsewhere, known, unauthorised = Row("429, window filled elsewhere"), Row("429, window known full"), Row("401")
    previous, instant = config.current().rate_limit_per_token, utcnow()
    config.configure(rate_limit_per_token=1)
    middleware.utcnow = lambda: instant  # type: ignore[assignment]  # restored below
    try:
        _get(client, path, "not-a-token", 401)  # the unknown token's miss cached, as for the token
        # Fills the window, if the rows above did not count in it.
        client.http.get(path, headers={"Authorization": f"Bearer {token}"})
        for _ in range(REPS):
            rate_limits.clear_cache()  # as a container that has not seen the window full
            elsewhere.samples.append(_get(client, path, token, 429))
            known.samples.append(_get(client, path, token, 429))
            unauthorised.samples.append(_get(client, path, "not-a-token", 401))
    finally:
        middleware.utcnow = utcnow
        config.configure(rate_limit_per_token=previous)
    return [elsewhere, known, unauthorised]


def added(off: Row, on: Row) -> str:
    base, limited = off.medians(), on.medians()
    deltas = [b - a for a, b in zip(base, limited, strict=True)]
    return (
        f"| {on.name.split(',')[0]}: the limiter adds | | +{deltas[0]:.0f} | "
        + " | ".join(f"{d:+.2f}" for d in deltas[1:])
        + " |"
    )


def run(say: Callable[[str], None]) -> None:
    """Print the table, a row pair at a time (``say``: progress on stderr)."""
    from chalice.test import Client
    from moto import mock_aws

    import app as app_module
    from bench.load import Scale, fresh_tables, load

    with mock_aws():
        fresh_tables()
        install()
        scale = Scale.factor(SCALE)
        say(f"loading {scale} ...")
        data = load(scale)
        token = data.tokens[data.largest_lead_provider]
        _print(
            f"Rate limiter, {scale}; warm caches; median of {REPS} requests (ms), limiter on and off interleaved:",
            "",
            "| Request | DynamoDB requests | Total | Wall ms | In DynamoDB ms | App's own ms |",
            "|---|---|---:|---:|---:|---:|",
        )
        with Client(app_module.app, stage_name="test") as client:
            limiter = Limiter(app_module.app)
            for name, path in ROUTES.items():
                _get(client, path, token, 200)  # warm: token and cohort caches
                off, on = on_and_off(client, limiter, name, path, token)
                _print(off.line(), on.line(), added(off, on))
            _print(*(row.line() for row in refusals(client, token)))


def _print(*lines: str) -> None:
    print("\n".join(lines), flush=True)


def main() -> None:
    run(lambda message: print(message, file=sys.stderr, flush=True))


if __name__ == "__main__":
    main()
