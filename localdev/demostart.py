"""The demo data at start-up: from the snapshot when its inputs are unchanged, else built and snapshotted.

Built: ``localdev.demo.load_demo`` in process, then the demo's stream records delivered to the stream handlers
(as Lambda would have while it loaded), except the change feed's, which starts after the demo data (``skip``).
From a snapshot (``localdev.snapshot``): the tables as they were after all that, and every handler starts after
their records (their effects are in the snapshot).
"""

from __future__ import annotations

import time
from typing import Any

from localdev import snapshot


def load(stack: Any) -> None:
    """Fill ``stack.demo_result``, ``stack.drained`` and ``stack.timings``; ``stack.poller`` exists, not started."""
    from chalicelib.domain.clock import utcnow

    now = utcnow()
    path = snapshot.path_for(snapshot.key(stack.demo_schools, now.date())) if stack.demo_snapshot else None
    mark = time.monotonic()
    restored = snapshot.restore(path) if path is not None else None
    if restored is not None:
        stack.demo_result, stack.drained = restored
        _handlers_start_now(stack)  # the snapshot holds what they did with its records
        stack.feed_after_demo = True
        stack.timings["snapshot"] = time.monotonic() - mark
        stack.out(f"Loaded the demo data ({stack.demo_schools} schools) from {path}")
        return
    _build(stack, now)
    if path is not None:
        mark = time.monotonic()
        snapshot.save(path, stack.demo_result, stack.drained)
        stack.timings["snapshot saved"] = time.monotonic() - mark


def _handlers_start_now(stack: Any) -> None:
    """Every stream handler starts after the records written so far. After a snapshot: their effects are in it.
    While building: the bulk of the demo is written as the handlers leave it (``localdev.demo._SettledWriter``),
    and what the demo writes next through the services (challenges, the POST example, declarations) reaches them
    as usual."""
    for handler in stack.poller.handlers:
        stack.poller.skip(handler)


def _build(stack: Any, now: Any) -> None:
    from chalicelib.events.handlers import CHANGES_STREAM_HANDLER
    from localdev.demo import load_demo

    stack.out(f"Loading demo data ({stack.demo_schools} schools)...")
    mark = time.monotonic()
    stack.demo_result = load_demo(
        now, schools_count=stack.demo_schools, log=stack.out, settled=lambda: _handlers_start_now(stack)
    )
    stack.timings["demo"] = time.monotonic() - mark
    # The change feed starts after the demo data, as a feed switched on over existing data does: its handler
    # skips the demo's records (recording them all, a school change for each of 7 providers, took longer than
    # loading the data itself). The other handlers get them now, as Lambda would have while the data loaded, so
    # the first requests find a settled system.
    stack.poller.skip(CHANGES_STREAM_HANDLER)
    stack.feed_after_demo = True
    stack.out("Delivering the demo data's stream records to the stream handlers...")
    mark = time.monotonic()
    stack.drained = stack.poller.drain()
    stack.timings["stream backlog"] = time.monotonic() - mark
