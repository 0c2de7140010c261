"""``import-cohort`` and ``import-schools``: the admin imports, with a progress bar on stderr."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from admin import texts
from admin.context import Context, Output
from admin.output import ProgressBar, fields
from chalicelib.services import importers

if TYPE_CHECKING:
    from admin.parser import Commands


def _with_progress[T](ctx: Context, label: str, unit: str, call: Callable[[ProgressBar], T]) -> T:
    bar = ProgressBar(ctx.err, label, unit=unit)
    try:
        result = call(bar)
    finally:
        bar.close()  # ends the bar's line, also before an error line
    bar.finish()
    return result


def cmd_import_cohort(args: argparse.Namespace, ctx: Context) -> Output:
    result = _with_progress(
        ctx, "import-cohort", "items", lambda bar: importers.import_cohort(args.directory, ctx.now, progress=bar)
    )
    data = {"directory": str(Path(args.directory)), **asdict(result)}
    text = texts.IMPORTED.format(source=args.directory) + "\n"
    text += fields(
        [
            ("cohorts", result.cohorts),
            ("lead provider links", result.lead_provider_links),
            ("contracts", result.contracts),
            ("mentor contracts", result.mentor_contracts),
            ("schedules", result.schedules),
            ("milestones", result.milestones),
            ("statements", result.statements),
        ]
    )
    return Output(data, text)


def cmd_import_schools(args: argparse.Namespace, ctx: Context) -> Output:
    result = _with_progress(
        ctx, "import-schools", "schools", lambda bar: importers.import_schools(args.file, ctx.now, progress=bar)
    )
    data = {"file": str(Path(args.file)), **asdict(result)}
    text = texts.IMPORTED.format(source=args.file) + "\n"
    text += fields(
        [
            ("rows read", result.rows),
            ("skipped (not in scope)", result.skipped),
            ("created", result.created),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
        ]
    )
    return Output(data, text)


def register(commands: Any, add: Commands) -> None:
    p = add.add(commands, "import-cohort", cmd_import_cohort, texts.IMPORT_COHORT, texts.IMPORT_COHORT_EXAMPLE)
    p.add_argument("directory", metavar="DIR", help=texts.HELP_COHORT_DIR)
    p = add.add(commands, "import-schools", cmd_import_schools, texts.IMPORT_SCHOOLS, texts.IMPORT_SCHOOLS_EXAMPLE)
    p.add_argument("file", metavar="FILE", help=texts.HELP_GIAS_FILE)
