"""Rendering for the admin CLI: aligned text tables, key/value blocks, JSON, an import progress bar."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TextIO

from admin import texts
from chalicelib.domain.clock import iso

EMPTY = "-"


def cell(value: Any) -> str:
    """One value as table text: times in RFC 3339, booleans as yes/no, nothing as ``-``."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):  # a datetime too
        return _date_cell(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(cell(v) for v in value) or EMPTY
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())  # one line per cell, whatever the data holds


def _date_cell(value: date) -> str:
    if isinstance(value, datetime):
        return iso(value) or EMPTY
    return value.isoformat()


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], indent: str = "") -> str:
    """Columns padded to their widest cell; headers in capitals. Trailing spaces are trimmed."""
    text_rows = [[cell(v) for v in row] for row in rows]
    heads = [h.upper() for h in headers]
    widths = [max([len(h)] + [len(r[i]) for r in text_rows]) for i, h in enumerate(heads)]
    lines = [
        indent + "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
        for line in [heads, *text_rows]
    ]
    return "\n".join(lines)


def fields(pairs: Iterable[tuple[str, Any]], indent: str = "") -> str:
    """``label  value`` lines with the values aligned."""
    items = [(label, cell(value)) for label, value in pairs]
    width = max((len(label) for label, _ in items), default=0)
    return "\n".join(f"{indent}{label.ljust(width)}  {value}".rstrip() for label, value in items)


def labelled(data: dict[str, Any]) -> str:
    """A dict as :func:`fields`, its keys as labels (``lead_provider`` → ``lead provider``)."""
    return fields((key.replace("_", " "), value) for key, value in data.items())


def to_jsonable(value: Any) -> Any:
    """Dataclasses, datetimes (RFC 3339, ms, Z), sets (sorted) and tuples → plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict | list | tuple | set | frozenset):
        return _jsonable_collection(value)
    if isinstance(value, date):  # a datetime too
        return iso(value) if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _jsonable_collection(
    value: dict[Any, Any] | list[Any] | tuple[Any, ...] | set[Any] | frozenset[Any],
) -> dict[str, Any] | list[Any]:
    """A dict with text keys; a list for a list or tuple, and for a set (sorted)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return [to_jsonable(v) for v in sorted(value)]


def dumps(document: Any) -> str:
    return json.dumps(to_jsonable(document), indent=2, ensure_ascii=True)


class ProgressBar:
    """The importers' ``progress(done, total)`` callback, drawn on ``stream``.

    The bar is drawn only when the stream is a terminal (redrawn in place with
    ``\\r``); whatever the stream, :meth:`finish` writes one summary line, so a
    log of a non-interactive run still says what was written. Nothing here
    touches stdout, so ``--json`` output stays one clean document.
    """

    WIDTH = 30

    def __init__(self, stream: TextIO, label: str, unit: str = "items"):
        self.stream = stream
        self.label = label
        self.unit = unit
        self.done = 0
        self.total = 0
        self.started = time.monotonic()
        self._drawn = False
        isatty = getattr(stream, "isatty", None)
        self.interactive = bool(isatty and isatty())

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if not self.interactive:
            return
        filled = self.WIDTH * done // total if total else self.WIDTH
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {self.unit}")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line (also when the import failed part-way, before the error line)."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def finish(self) -> None:
        self.close()
        seconds = time.monotonic() - self.started
        self.stream.write(
            texts.PROGRESS_DONE.format(
                label=self.label, done=self.done, total=self.total, unit=self.unit, seconds=seconds
            )
        )
        self.stream.flush()
