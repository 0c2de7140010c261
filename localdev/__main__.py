"""``python -m localdev`` (``make run``): the whole service in one process, with demo data.

    PORT=8000 DYNAMODB_PORT=8001 DEMO_SCHOOLS=3000 python -m localdev

Threads: moto's DynamoDB server, chalice local's API server, a stream poller that
calls the stream handlers as Lambda would, and a scheduler for ``@app.schedule``
handlers. Ctrl-C or SIGTERM stops them all and exits 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

from chalicelib.config import DEFAULT_DYNAMODB_PORT  # settings are read lazily: safe before the env is set
from localdev.stack import HOST, PortInUse, Stack

if TYPE_CHECKING:
    from localdev.demo_finance import FinanceExample

DEFAULT_PORT = 8000
READY = "Ready."


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise SystemExit(f"localdev: {name}={value!r} is not a number")
    return int(value)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m localdev", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=_int_env("PORT", DEFAULT_PORT), help="API port (env PORT)")
    parser.add_argument(
        "--dynamodb-port",
        type=int,
        default=_int_env("DYNAMODB_PORT", DEFAULT_DYNAMODB_PORT),
        help="moto DynamoDB port (env DYNAMODB_PORT)",
    )
    parser.add_argument(
        "--schools",
        type=int,
        default=_int_env("DEMO_SCHOOLS", 3000),
        help="schools in the generated GIAS extract (env DEMO_SCHOOLS)",
    )
    parser.add_argument("--no-demo", action="store_true", help="start with empty tables")
    parser.add_argument(
        "--fresh-demo",
        action="store_true",
        help="build the demo data afresh, neither reading nor writing its snapshot in .localdev/",
    )
    return parser.parse_args(argv)


def _print(text: str = "") -> None:
    print(text, flush=True)


def print_tokens(stack: Stack, port: int) -> None:
    result = stack.demo_result
    if result is None:
        return
    width = max(len(name) for name in result.tokens)
    _print()
    _print("API tokens (lead provider -> bearer token):")
    for name, token in result.tokens.items():
        _print(f"  {name.ljust(width)}  {token}")
    lp, token = next(iter(result.tokens.items()))
    base = f"http://{HOST}:{port}"
    _print()
    _print(f"Try it ({lp}):")
    # -g: the brackets in filter[...] are not curl URL globs
    query = "filter[cohort]=2024&page[per_page]=5"
    _print(f'  curl -g -H "Authorization: Bearer {token}" "{base}/api/v3/schools/ecf?{query}"')
    example = result.example
    if example is not None:
        token = result.tokens[example.lead_provider]
        body = (
            f'{{"data":{{"type":"ecf-partnership","attributes":{{"cohort":"{example.cohort}",'
            f'"school_id":"{example.school_id}","delivery_partner_id":"{example.delivery_partner_id}"}}}}}}'
        )
        _print(f"  # report {example.school_name} with {example.delivery_partner_name} ({example.lead_provider}):")
        _print(
            f'  curl -X POST -H "Authorization: Bearer {token}" -H "Content-Type: application/vnd.api+json" '
            f"-d '{body}' \"{base}/api/v3/partnerships/ecf\""
        )
        if example.participants:
            _print(f"  # then its {example.participants} participants appear (moved in by the partnerships stream):")
            query = f"filter[cohort]={example.cohort}&sort=-updated_at&page[per_page]=5"
            _print(f'  curl -g -H "Authorization: Bearer {token}" "{base}/api/v3/participants/ecf?{query}"')
        print_feed(token, base)
    print_finance(result.finance, result.tokens, base, stack.dynamodb_port)


FEED_QUERY = "page[per_page]=5"
# python3 reads one link of a feed page (links.latest, then links.next), so the loop needs nothing but curl.
_LINK = 'python3 -c \'import json,sys; print(json.load(sys.stdin)["links"]["{name}"])\''


def print_feed(token: str, base: str) -> None:
    """The change feed (docs/change-feed.md): a page, and a loop that follows it from its current end."""
    auth = f'-H "Authorization: Bearer {token}"'
    url = f"{base}/api/v3/changes"
    _print("  # the change feed: every change this provider can see, in order (each page's links.next is the next):")
    _print(f'  curl -g {auth} "{url}?{FEED_QUERY}"')
    _print("  # follow it from its end (links.latest), a page a second; report the school above and watch:")
    latest, following = _LINK.format(name="latest"), _LINK.format(name="next")
    _print(
        f'  url=$(curl -sg {auth} "{url}?page[per_page]=50" | {latest}); '
        f'while sleep 1; do page=$(curl -sg {auth} "$url"); echo "$page"; url=$(echo "$page" | {following}); done'
    )


ADMIN = ".venv/bin/ecf-admin"
# admin/finance.py: show it, authorise it (payable -> paid, awaiting clawback -> clawed back), export its CSV.
FINANCE_COMMANDS = ("finance statements show", "finance statements authorise", "finance declarations-csv")


def print_finance(finance: FinanceExample | None, tokens: dict[str, str], base: str, dynamodb_port: int) -> None:
    """Declarations: list, POST one that succeeds at the server's date, void one; the statement to authorise."""
    if finance is None:
        return
    token = tokens[finance.lead_provider]
    auth = f'-H "Authorization: Bearer {token}"'
    url = f"{base}/api/v3/participant-declarations"
    states = ", ".join(f"{count} {state}" for state, count in finance.states.items())
    _print()
    _print(f"Declarations ({finance.lead_provider}, cohort {finance.cohort}: {states}):")
    query = f"filter[cohort]={finance.cohort}&page[per_page]=5"
    _print(f'  curl -g {auth} "{url}?{query}"')
    body = json.dumps(finance.post_body, separators=(",", ":"))
    _print(f"  # declare {finance.participant_name} started (an eligible ECT; it attaches to the next statement):")
    _print(f'  curl -g -X POST {auth} -H "Content-Type: application/vnd.api+json" -d \'{body}\' "{url}"')
    _print("  # void an eligible declaration:")
    _print(f'  curl -g -X PUT {auth} "{url}/{finance.void_id}/void"')
    admin = ADMIN if dynamodb_port == DEFAULT_DYNAMODB_PORT else f"DYNAMODB_PORT={dynamodb_port} {ADMIN}"
    _print()
    _print(
        f"Statement to authorise: {finance.statement_id} ({finance.lead_provider}, {finance.statement_name}, "
        f"cohort {finance.cohort}; payable, deadline {finance.statement_deadline.isoformat()})"
    )
    _print("  # show it, authorise it (its payable declarations become paid), write its declarations CSV here:")
    for command in FINANCE_COMMANDS:
        _print(f"  {admin} {command} {finance.statement_id}")


def rate_limits_line() -> str:
    """The limits in force (docs/rate-limits.md), and the variables that set them (a value set before start wins)."""
    from chalicelib import config
    from chalicelib.domain.rate_limits import describe_seconds

    settings = config.current()
    window = describe_seconds(settings.rate_limit_window_seconds)
    return (
        f"{settings.rate_limit_per_token} requests per {window} per token, {settings.rate_limit_per_ip} per address "
        "without a valid token (RATE_LIMIT_PER_TOKEN, RATE_LIMIT_PER_IP, RATE_LIMIT_WINDOW_SECONDS)"
    )


def print_banner(stack: Stack) -> None:
    assert stack.api is not None
    assert stack.moto is not None
    assert stack.poller is not None
    _print()
    url = stack.api.url
    _print(f"API                {url}  (stage local)")
    _print(f"API docs           {url}/api-docs/v3  (v1, v2: /api-docs/v1, /api-docs/v2; Authorize with a token above)")
    _print(f"OpenAPI            {url}/api-docs/v3/swagger.json and swagger.yaml (v1, v2 likewise)")
    _print(f"DynamoDB (moto)    {stack.moto.endpoint}")
    handlers = ", ".join(sorted(stack.poller.handlers)) or "none"
    start = "after the snapshot's records" if "snapshot" in stack.timings else "from TRIM_HORIZON"
    _print(f"Stream handlers    {handlers} (polling every {stack.poller.interval:.1f}s {start})")
    if stack.feed_after_demo:
        _print("Change feed        starts after the demo data (record_changes reads its streams from where they were)")
    schedules = "; ".join(stack.scheduler.describe()) if stack.scheduler and stack.scheduler.jobs else "none"
    _print(f"Schedules          {schedules}")
    _print(f"Rate limits        {rate_limits_line()}")
    timings = stack.timings
    parts = [f"servers and tables {timings['startup']:.1f}s"]
    if "demo" in timings:
        parts.append(f"demo data {timings['demo']:.1f}s")
    if "stream backlog" in timings:
        parts.append(f"{stack.drained} stream records {timings['stream backlog']:.1f}s")
    if "snapshot" in timings:
        parts.append(f"demo data from its snapshot {timings['snapshot']:.1f}s")
    if "snapshot saved" in timings:
        parts.append(f"snapshot saved {timings['snapshot saved']:.1f}s")
    _print(f"Started in {timings['ready']:.1f}s ({', '.join(parts)}).")
    _print(f"{READY} Ctrl-C to stop (twice to stop at once).")


def _handle_signals(stop: threading.Event, serving: threading.Event) -> None:
    """Ctrl-C (or SIGTERM) sets ``stop``; while starting it abandons the start-up, and a second one while
    shutting down exits at once."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set() and serving.is_set():
            print("localdev: stopping at once", file=sys.stderr, flush=True)
            os._exit(1)  # a second Ctrl-C while shutting down (a stream batch still running)
        stop.set()
        if not serving.is_set():
            raise KeyboardInterrupt  # still starting: abandon the start-up, then clean up below

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


GIL_SWITCH_INTERVAL = 0.02  # seconds (Python's default: 0.005)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("werkzeug", "botocore", "pynamodb", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    # One process serves every request on threads that share the GIL: with the default 5 ms switch interval, 16
    # concurrent clients spend much of it handing the GIL between request threads. A longer interval serves
    # more requests a second (docs/local-stack.md, "make load"); a request still waits for I/O without holding it.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    stop = threading.Event()
    serving = threading.Event()
    _handle_signals(stop, serving)

    stack = Stack(
        port=args.port,
        dynamodb_port=args.dynamodb_port,
        demo_schools=args.schools,
        demo=not args.no_demo,
        demo_snapshot=not args.fresh_demo,
    )
    stack.out = _print
    code = 0
    try:
        stack.start()
        serving.set()
        print_tokens(stack, args.port)
        print_banner(stack)
        while not stop.wait(1.0):
            pass
    except PortInUse as error:
        print(f"localdev: {error}", file=sys.stderr, flush=True)
        code = 1
    except KeyboardInterrupt:
        pass
    except Exception:
        logging.getLogger("localdev").exception("the local stack failed to start")
        code = 1
    finally:
        serving.set()  # from here a signal no longer interrupts: a second one exits at once
        if code == 0:
            _print("Stopping...")
        began = time.monotonic()
        stack.stop()
        if code == 0:
            _print(f"Stopped in {time.monotonic() - began:.1f}s.")
    return code


if __name__ == "__main__":
    sys.exit(main())
