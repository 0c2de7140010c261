"""Reading the change feed in tests: responses validated against the served OpenAPI document, a reader that
follows links.next and checks that it never skips or repeats a sequence number, and stream delivery in process."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from openapi_schema_validator import OAS30Validator

from chalicelib.api.docs import SPEC

FEED = "/api/v3/changes"
JSONAPI = "application/vnd.api+json"


@lru_cache(maxsize=1)
def served_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SPEC.read_text())
    return document


def assert_feed_response(status: int, body: Any, content_type: str | None) -> Any:
    """The status is documented for GET /api/v3/changes in our served document and the body matches it."""
    document = served_document()
    responses = document["paths"][FEED]["get"]["responses"]
    assert str(status) in responses, f"{status} is not documented for GET {FEED}"
    schema = copy.deepcopy(responses[str(status)]["content"][JSONAPI]["schema"])
    schema["components"] = document["components"]
    OAS30Validator(schema).validate(body)
    assert content_type == JSONAPI
    return body


def path_of(url: str) -> str:
    """A link as the test client takes it (links are absolute when the request had a Host header)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@dataclass
class Reader:
    """A client that follows the feed: every entry it saw, in order, and its view rebuilt from them."""

    get: Callable[[str], tuple[int, Any, str | None]]  # path -> (status, body, content type)
    url: str = FEED + "?page[cursor]="
    entries: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0

    def page(self) -> dict[str, Any]:
        status, body, content_type = self.get(path_of(self.url))
        assert status == 200, body
        assert_feed_response(status, body, content_type)
        self.pages += 1
        sequences = [int(item["attributes"]["sequence"]) for item in body["data"]]
        assert [int(item["id"]) for item in body["data"]] == sequences
        if self.entries and sequences:
            assert sequences[0] > self.last_sequence(), "the feed went backwards"
        self.entries += [item["attributes"] | {"links": item.get("links")} for item in body["data"]]
        self.url = body["links"]["next"]
        return dict(body)

    def last_sequence(self) -> int:
        return int(self.entries[-1]["sequence"]) if self.entries else 0

    def follow(self, max_pages: int = 10_000) -> dict[str, Any]:
        """Pages until one reaches the end of the feed; the last page's body."""
        for _ in range(max_pages):
            body = self.page()
            if body["meta"]["caught_up"]:
                return body
        raise AssertionError("the feed never caught up")

    def view(self) -> dict[str, dict[str, str]]:
        """resource type -> id -> updated_at, as a client applying the entries in order keeps it."""
        seen: dict[str, dict[str, str]] = {}
        for entry in self.entries:
            ids = seen.setdefault(entry["resource_type"], {})
            if entry["change"] == "hidden":
                ids.pop(entry["resource_id"], None)
            else:
                ids[entry["resource_id"]] = entry["updated_at"]
        return seen


def client_get(client: Any, token: str, headers: dict[str, str] | None = None) -> Callable[[str], Any]:
    """A ``Reader.get`` on chalice's test client."""

    def get(path: str) -> tuple[int, Any, str | None]:
        sent = {"Authorization": f"Bearer {token}", "Accept": JSONAPI, **(headers or {})}
        response = client.http.get(path, headers=sent)
        return response.status_code, json.loads(response.body), response.headers.get("Content-Type")

    return get


def assert_contiguous_from(entries: list[dict[str, Any]], first: int | None = None) -> None:
    """Sequence numbers ``first, first + 1, ...`` (``first``: the first entry's by default): nothing skipped,
    nothing twice."""
    sequences = [int(e["sequence"]) for e in entries]
    start = sequences[0] if first is None and sequences else first or 1
    assert sequences == list(range(start, start + len(entries)))
