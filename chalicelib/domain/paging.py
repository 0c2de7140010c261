"""List parameters after parsing: which page, which order, which filters; and what a page returns.

Two ways to page (docs/api-guide.md "Cursor pages"):

- **page numbers** (``page[page]``): the real API's; reaching page N reads past the items of pages 1..N-1;
- **cursors** (``page[cursor]``): keyset paging; a page starts right after the position where the previous one
  ended (``Page.after``), so every page costs the same and concurrent writes never shift items between pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import iso_millis

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 3000


# Where a keyset page ended: the key attributes of its last item in the index it was read from (DynamoDB JSON,
# e.g. {"ck": {"S": "2024-...#id"}, "id": {"S": "id"}}), or {"k": <sort key>} for lists ordered in memory.
# It travels inside a signed cursor, so it is never taken from a client unverified.
Position = Mapping[str, Any]


@dataclass(frozen=True)
class Page:
    number: int = 1
    per_page: int = DEFAULT_PER_PAGE
    cursor: bool = False  # keyset paging (``page[cursor]`` given, even empty)
    after: Position | None = None  # keyset: where the previous page ended; None for the first page

    @property
    def offset(self) -> int:
        """Items before this page (page numbers only; a keyset page starts at ``after``)."""
        return 0 if self.cursor else (self.number - 1) * self.per_page


@dataclass(frozen=True)
class Order:
    field: str = "created_at"
    descending: bool = False


@dataclass(frozen=True)
class Listing[T]:
    """One page of a list: its items and, for keyset pages with more to come, where the next page starts."""

    items: list[T] = field(default_factory=list)
    next: Position | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class KeyPage:
    """One page of keys read from an index, and where the next keyset page starts (None: no more)."""

    keys: list[str]
    next: Position | None = None


def page_of[T](items: Sequence[T], page: Page, sort_key: Callable[[T], str], *, descending: bool = False) -> Listing[T]:
    """One page of a list already read whole and ordered by ``sort_key`` (unique per item).

    Page numbers slice; a keyset page takes the items after ``page.after`` (before it when descending). The
    position is the sort key itself, so a cursor stays right however the list changes between pages.
    """
    if not page.cursor:
        return Listing(list(items[page.offset : page.offset + page.per_page]))
    after = page.after.get("k") if page.after else None
    if after is not None:
        items = [i for i in items if (sort_key(i) < after if descending else sort_key(i) > after)]
    chosen = list(items[: page.per_page])
    more = len(items) > page.per_page
    return Listing(chosen, {"k": sort_key(chosen[-1])} if more and chosen else None)


def joined(parts: Iterable[str]) -> str:
    """A composite sort key whose parts sort as a tuple (they are fixed-width dates, times and ids)."""
    return "#".join(parts)


def time_key(at: datetime, identifier: str) -> str:
    """``<RFC 3339 time to the millisecond>#<id>``: the order of the lists kept in memory, as one string."""
    return joined((iso_millis(at), identifier))
