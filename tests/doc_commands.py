"""The shell commands shown in README.md and docs/*.md (not docs/reference/), for tests/test_docs_commands.py.

A command is a line of a fenced ```sh block, or a line of an indented (4-space) block that starts with a command
word; a line ending in ``\\`` is joined with the next; comment-only and blank lines are not commands. Every line
of a ```sh block must be a command of a known kind ("unknown" otherwise, which the test fails).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

SHELL_FENCES = frozenset({"sh", "bash", "shell"})

# The first word of a command (after any NAME=value assignments) -> its kind.
KINDS = {
    "curl": "curl",
    "ecf-admin": "cli",
    ".venv/bin/ecf-admin": "cli",
    "make": "make",
    "aws": "aws",
    "export": "export",
    "python": "python",
    "python3": "python",
    ".venv/bin/python": "python",
}

_ASSIGNMENTS = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*")
# An ALL-CAPS word that is not a $VARIABLE, not a NAME= assignment and not part of a longer word.
_PLACEHOLDER = re.compile(r"(?<![$\w-])[A-Z][A-Z0-9_]+(?![\w=-])")


@dataclass(frozen=True)
class DocCommand:
    doc: str  # path relative to the project, e.g. docs/admin-cli.md
    line: int  # 1-based line of the command's first line
    text: str  # continuation lines joined with single spaces

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def words(self) -> list[str]:
        return shlex.split(self.text, comments=True)

    @property
    def program(self) -> str:
        return _ASSIGNMENTS.sub("", self.text).split(" ", 1)[0]

    @property
    def kind(self) -> str:
        kind = KINDS.get(self.program, "unknown")
        if kind == "python" and re.search(r"\s-m\s+admin(\s|$)", self.text):
            kind = "cli"  # python -m admin is ecf-admin
        if kind == "cli" and re.search(r"--stage[ =](dev|prod)\b|\bAWS_PROFILE=", self.text):
            return "deployed"  # a deployed stage's tables: real AWS
        return kind

    def placeholders(self) -> list[str]:
        """ALL-CAPS words of the command outside comments (what the test must substitute), in order."""
        found: list[str] = []
        for word in self.words:
            found += [name for name in _PLACEHOLDER.findall(word) if name not in found]
        return found


def documents(project: Path = PROJECT_DIR) -> list[Path]:
    """README.md, then docs/*.md by name (docs/reference/ is the imported reference, not ours)."""
    return [project / "README.md", *sorted((project / "docs").glob("*.md"))]


def commands_in(path: Path, project: Path = PROJECT_DIR) -> list[DocCommand]:
    doc = path.relative_to(project).as_posix()
    found: list[DocCommand] = []
    fence: str | None = None  # the info string of the open fence, if any
    pending: tuple[int, str] | None = None  # a command continued with a backslash
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if pending is not None:
            start, text = pending
            text = f"{text} {stripped.removesuffix(chr(92)).strip()}"
            pending = (start, text) if stripped.endswith("\\") else None
            if pending is None:
                found.append(DocCommand(doc, start, text))
            continue
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped[3:].strip()
            continue
        if not _is_command_line(raw, stripped, fence):
            continue
        if stripped.endswith("\\"):
            pending = (number, stripped.removesuffix("\\").strip())
        else:
            found.append(DocCommand(doc, number, stripped))
    return found


def _is_command_line(raw: str, stripped: str, fence: str | None) -> bool:
    if not stripped or stripped.startswith("#"):
        return False
    if fence is not None:
        return fence in SHELL_FENCES
    if not raw.startswith("    "):
        return False
    return _ASSIGNMENTS.sub("", stripped).split(" ", 1)[0] in KINDS


def all_commands(project: Path = PROJECT_DIR) -> list[DocCommand]:
    return [command for path in documents(project) for command in commands_in(path, project)]
