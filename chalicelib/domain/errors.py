"""Errors the services raise; the API and CLI map them to responses and exit codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base class."""


class NotFound(DomainError):
    """The thing does not exist, or the caller may not see it (the two look the same)."""


class ValidationFailed(DomainError):
    """One or more attributes failed validation. ``errors`` maps attribute → messages, in order."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class BadRequest(DomainError):
    def __init__(self, detail: str, title: str = "Bad request"):
        super().__init__(detail)
        self.title = title
        self.detail = detail


class Conflict(DomainError):
    """A concurrent write won; the caller may retry after re-reading."""


class InputError(DomainError):
    """Bad input to an admin command (CLI exits non-zero with this one-line message)."""


class InvalidTransition(DomainError):
    """A state transition that does not apply (a void of a voided declaration): 422 ``Invalid action``."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class Gone(DomainError):
    """What was asked for is no longer kept (a change-feed cursor older than the retention): 410."""

    def __init__(self, detail: str, title: str):
        super().__init__(detail)
        self.title = title
        self.detail = detail
