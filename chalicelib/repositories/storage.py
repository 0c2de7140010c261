"""The tables as a whole: binding the models to the configured stage, creating the tables, and telling a
missing table from other storage errors. The one door for code above the repositories (CLI, local stack,
tests, benchmark) that must set up storage without touching the models."""

from __future__ import annotations

from pynamodb.exceptions import TableDoesNotExist

from chalicelib import models


def bind() -> None:
    """Point every model at the current settings (table prefix, region, endpoint); call after ``config.reset``."""
    models.rebind_all()


def create_tables() -> None:
    """Create every table that does not exist yet (streams included), as the infra template declares them."""
    models.create_tables()


def is_missing_table(error: BaseException) -> bool:
    """True for PynamoDB's error for a table that does not exist (the stage is not set up)."""
    return isinstance(error, TableDoesNotExist)
