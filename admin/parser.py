"""The ``ecf-admin`` argument parser: the common options, and each command group's commands."""

from __future__ import annotations

import argparse
import functools
from typing import Any, NoReturn

from admin import texts
from admin.commands import register_all
from admin.context import Handler
from admin.stage import STAGE_VARIABLE
from admin.version import project_version
from chalicelib import config

PROG = texts.PROG
FORMATTER = argparse.RawDescriptionHelpFormatter  # keeps the examples' lines as written


class UsageError(Exception):
    """Bad arguments: exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(texts.USAGE_HINT.format(message=message, prog=self.prog))


class Commands:
    """Adds commands to a group: each takes the common options and ends its help with an example."""

    def __init__(self, common: argparse.ArgumentParser):
        self.common = common

    def add(self, group: Any, name: str, handler: Handler | None, help_text: str, example: str) -> Parser:
        sub: Parser = group.add_parser(
            name,
            parents=[self.common],
            help=help_text,
            description=help_text,
            epilog=example,
            formatter_class=FORMATTER,
        )
        if handler is not None:
            sub.set_defaults(handler=handler)
        return sub

    def group(
        self, group: Any, name: str, help_text: str, example: str, *, dest: str = "action", metavar: str = "ACTION"
    ) -> Any:
        """A command whose subcommands (its actions) do the work; returns where to add them."""
        sub = self.add(group, name, None, help_text, example)
        return sub.add_subparsers(dest=dest, metavar=metavar, required=True, help=texts.HELP_ACTION)


def _common_options() -> argparse.ArgumentParser:
    """Options every level accepts, before or after the command. SUPPRESS keeps a
    subcommand's unset option from overwriting the one given before it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=texts.HELP_JSON)
    common.add_argument(
        "--stage",
        choices=config.STAGES,
        default=argparse.SUPPRESS,
        help=texts.HELP_STAGE.format(variable=STAGE_VARIABLE),
    )
    common.add_argument("--endpoint-url", metavar="URL", default=argparse.SUPPRESS, help=texts.HELP_ENDPOINT)
    return common


@functools.cache
def _version() -> str:
    return texts.VERSION.format(version=project_version())


def build_parser() -> Parser:
    common = _common_options()
    parser = Parser(
        prog=PROG,
        parents=[common],
        description=texts.DESCRIPTION,
        epilog=f"{texts.EXIT_STATUS}\n\n{texts.PROGRAM_EXAMPLES}",
        formatter_class=FORMATTER,
    )
    parser.add_argument("--version", action="version", version=_version(), help=texts.HELP_VERSION)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, help=texts.HELP_COMMAND)
    register_all(commands, Commands(common))
    return parser
