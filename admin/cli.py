"""``ecf-admin``: the admin command line. Parses arguments, calls the services, prints.

It never touches DynamoDB itself: every command is one call into
``chalicelib.services`` (the same code the API runs), and every domain error
becomes a one-line ``error: ...`` on stderr with exit status 1. Usage errors
exit with 2, as argparse does.

``main()`` is the console script: it points the services at the chosen stage
(environment, settings, table bindings) and then calls :func:`run`. Tests call
``run(argv, out, err, configure=False)`` inside moto's ``mock_aws`` so that no
``AWS_ENDPOINT_URL*`` variable is ever set in the test process.

The parts: ``admin.parser`` (arguments), ``admin.commands`` (one module per
command group), ``admin.stage`` (stage set-up), ``admin.errors`` (which errors
are expected), ``admin.texts`` (every message), ``admin.output`` (rendering).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import MutableMapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from admin import texts
from admin.context import Context, Output
from admin.errors import describe_error
from admin.output import dumps
from admin.parser import UsageError, build_parser
from admin.stage import configure_from
from chalicelib import config
from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import DomainError

DEBUG_VARIABLE = "ECF_ADMIN_DEBUG"

EXIT_OK = 0
EXIT_ERROR = 1  # bad input, missing data, conflicts, AWS unreachable
EXIT_USAGE = 2  # bad arguments (argparse's own status)
EXIT_INTERRUPTED = 130


@dataclass
class _Streams:
    out: TextIO
    err: TextIO
    as_json: bool

    def fail(self, message: str, status: int) -> int:
        self.err.write(texts.ERROR_LINE.format(message=message))
        if self.as_json:
            self.out.write(dumps({"error": message, "exit_status": status}) + "\n")
        return status

    def show(self, result: Output) -> int:
        self.out.write((dumps(result.data) if self.as_json else result.text.rstrip("\n")) + "\n")
        return EXIT_OK


def _error_message(error: Exception, environ: MutableMapping[str, str], err: TextIO) -> str:
    """The error line for a failed command (and the traceback first, when debugging a bug)."""
    message = describe_error(error, config.current())
    if environ.get(DEBUG_VARIABLE) and not isinstance(error, DomainError):
        traceback.print_exc(file=err)
    if message is None:
        message = texts.UNEXPECTED.format(kind=type(error).__name__, error=error, variable=DEBUG_VARIABLE)
    return " ".join(message.split())


def _execute(args: argparse.Namespace, ctx: Context, streams: _Streams, environ: MutableMapping[str, str]) -> int:
    try:
        result = args.handler(args, ctx)
    except Exception as error:  # noqa: BLE001 - every failure becomes one line, never a traceback
        return streams.fail(_error_message(error, environ, streams.err), EXIT_ERROR)
    return streams.show(result)


def run(
    argv: Sequence[str] | None,
    out: TextIO,
    err: TextIO,
    *,
    configure: bool = True,
    now: datetime | None = None,
    environ: MutableMapping[str, str] | None = None,
) -> int:
    """Run one command; returns the exit status. ``configure=False`` leaves settings and bindings alone."""
    environ = os.environ if environ is None else environ
    argv = list(sys.argv[1:] if argv is None else argv)
    streams = _Streams(out, err, as_json="--json" in argv)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            args = build_parser().parse_args(argv)
    except UsageError as error:
        return streams.fail(str(error), EXIT_USAGE)
    except SystemExit as done:  # --help, --version
        return done.code if isinstance(done.code, int) else EXIT_OK
    streams.as_json = bool(getattr(args, "json", False))
    if configure:
        problem = configure_from(args, environ)
        if problem is not None:
            return streams.fail(problem, EXIT_USAGE)
    ctx = Context(now=now or utcnow(), err=err, as_json=streams.as_json)
    return _execute(args, ctx, streams, environ)


def main(argv: Sequence[str] | None = None) -> int:
    """Console script ``ecf-admin``: configure the stage from arguments and environment, run, exit."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    try:
        status = run(argv, sys.stdout, sys.stderr, configure=True)
        sys.stdout.flush()
    except KeyboardInterrupt:
        sys.stderr.write(texts.ERROR_LINE.format(message=texts.INTERRUPTED))
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    return status


if __name__ == "__main__":
    sys.exit(main())
