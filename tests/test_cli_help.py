"""``ecf-admin --version`` and the help: every option and argument explained, every command's help ends with an
example, and every example is a command line the parser accepts."""

from __future__ import annotations

import argparse
import io
import shlex
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from admin import cli, version
from admin.parser import build_parser

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_HEADINGS = ("Example:", "Examples:")


def _pyproject_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def _parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """The top-level parser and every command's, by their command line."""
    pending: list[tuple[str, argparse.ArgumentParser]] = [("ecf-admin", build_parser())]
    while pending:
        path, parser = pending.pop(0)
        yield path, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending += [(f"{path} {name}", sub) for name, sub in action.choices.items()]


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.run(list(argv), out, err, configure=False)
    return status, out.getvalue(), err.getvalue()


def _examples(help_text: str) -> list[str]:
    """The command lines of the example block that ends the help (none if it does not end with one)."""
    lines = help_text.rstrip().splitlines()
    starts = [i for i, line in enumerate(lines) if line in EXAMPLE_HEADINGS]
    if not starts:
        return []
    block = lines[starts[-1] + 1 :]
    return [line.strip() for line in block] if all(line.startswith("  ecf-admin ") for line in block) else []


def test_version_prints_the_project_version() -> None:
    assert _run("--version") == (0, f"ecf-admin {_pyproject_version()}\n", "")


def test_version_falls_back_to_pyproject(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert version.project_version() == _pyproject_version()
    assert version.pyproject_version(ROOT / "no-such-file.toml") == version.UNKNOWN


def test_every_option_and_argument_has_help() -> None:
    missing = [
        f"{path}: {'/'.join(action.option_strings) or action.metavar or action.dest}"
        for path, parser in _parsers()
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip()
    ]
    assert missing == []


def test_every_help_ends_with_an_example() -> None:
    paths = []
    for path, parser in _parsers():
        assert _examples(parser.format_help()), f"{path} --help does not end with an example"
        paths.append(path)
    assert len(paths) > 20  # the walk reached every command
    assert "ecf-admin finance statements mark-payable" in paths


def test_every_example_parses() -> None:
    for path, parser in _parsers():
        for example in _examples(parser.format_help()):
            argv = shlex.split(example)[1:]
            assert build_parser().parse_args(argv).handler, example
            assert example.startswith(path), f"{path}: {example}"


def test_help_in_process_shows_the_example() -> None:
    status, out, err = _run("import-cohort", "--help")
    assert (status, err) == (0, "")
    assert out.rstrip().endswith("Example:\n  ecf-admin import-cohort data/demo-cohort")
