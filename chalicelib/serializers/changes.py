"""Change-feed entries → JSON:API ``change`` resources (docs/change-feed.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain.changes import DECLARATION, HIDDEN, PARTICIPANT, PARTNERSHIP, STATEMENT, Entry
from chalicelib.domain.clock import iso

# The v3 URL of each kind of resource, where it needs no cohort (a school's does: it has none here).
RELATED = {
    PARTICIPANT: "/api/v3/participants/ecf/{id}",
    PARTNERSHIP: "/api/v3/partnerships/ecf/{id}",
    DECLARATION: "/api/v3/participant-declarations/{id}",
    STATEMENT: "/api/v3/statements/{id}",
}


def change(entry: Entry, link_to: Callable[[str], str]) -> dict[str, Any]:
    """One entry. ``links.related`` is the resource's URL while the provider can see it (not on ``hidden``)."""
    resource: dict[str, Any] = {
        "type": "change",
        "id": str(entry.seq),
        "attributes": {
            "sequence": entry.seq,
            "resource_type": entry.resource_type,
            "resource_id": entry.resource_id,
            "change": entry.change,
            "updated_at": iso(entry.updated_at),
        },
    }
    template = RELATED.get(entry.resource_type)
    if template is not None and entry.change != HIDDEN:
        resource["links"] = {"related": link_to(template.format(id=entry.resource_id))}
    return resource
