"""List parameters after parsing: which page, which order, which filters."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 3000


@dataclass(frozen=True)
class Page:
    number: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page


@dataclass(frozen=True)
class Order:
    field: str = "created_at"
    descending: bool = False
