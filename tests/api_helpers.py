"""A small API driver for tests: authenticated calls that validate every body against the reference."""

from __future__ import annotations

import json
from typing import Any

from tests.openapi import assert_valid


class Api:
    def __init__(self, client: Any, token: str | None, version: str = "v3"):
        self.client = client
        self.token = token
        self.version = version

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Content-Type": "application/vnd.api+json", "Accept": "application/vnd.api+json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.http.get(path, headers=self.headers(headers))

    def send(self, method: str, path: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
        raw = payload if isinstance(payload, str | bytes) else json.dumps(payload)
        return getattr(self.client.http, method.lower())(path, headers=self.headers(headers), body=raw)

    # Validated calls: status documented by the reference and body valid against it.
    def get_ok(self, path: str, status: int = 200, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.get(path, headers)
        assert response.status_code == status, response.body
        return assert_valid(self.version, "GET", path, response)

    def send_ok(self, method: str, path: str, payload: Any, status: int = 200, **kw: Any) -> dict[str, Any]:
        response = self.send(method, path, payload, **kw)
        assert response.status_code == status, response.body
        return assert_valid(self.version, method, path, response)


def partnership_payload(cohort: Any, school_id: Any, delivery_partner_id: Any) -> dict[str, Any]:
    attributes = {}
    for key, value in (("cohort", cohort), ("school_id", school_id), ("delivery_partner_id", delivery_partner_id)):
        if value is not ...:
            attributes[key] = value
    return {"data": {"type": "ecf-partnership", "attributes": attributes}}


def update_payload(delivery_partner_id: Any) -> dict[str, Any]:
    return {"data": {"type": "ecf-partnership-update", "attributes": {"delivery_partner_id": delivery_partner_id}}}


def error_body(status_detail: list[tuple[str, str]]) -> dict[str, Any]:
    return {"errors": [{"title": t, "detail": d} for t, d in status_detail]}


def relative(url: str) -> str:
    """A link as the test client takes it: path and query (links are absolute when the Host header is set)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def with_params(path: str, **params: str) -> str:
    separator = "&" if "?" in path else "?"
    return path + separator + "&".join(f"{k}={v}" for k, v in params.items())


def walk_cursor(api: Api, path: str, per_page: int, *, limit: int = 1000, rows: int = 1) -> list[dict[str, Any]]:
    """Every item of a list followed page by page through ``links.next`` (each page validated); ``links.next``
    must be absent exactly on the last page. ``rows``: rows per paged item (v1/v2 participants: up to 2)."""
    url = with_params(path, **{"page[per_page]": str(per_page), "page[cursor]": ""})
    items: list[dict[str, Any]] = []
    for _ in range(limit):
        body = api.get_ok(url)
        if api.version == "v3" and not path.endswith(".csv"):
            from tests.openapi import assert_valid_served

            assert_valid_served("GET", url, api.get(url))  # our served document describes links.next
        assert len(body["data"]) <= per_page * rows
        items += body["data"]
        following = body.get("links", {}).get("next")
        if following is None:
            assert set(body) == {"data"}, body.keys()  # nothing else is added to a list document
            return items
        assert set(body) == {"data", "links"}
        assert set(body["links"]) == {"next"}
        url = relative(following)
    raise AssertionError(f"{path}: more than {limit} cursor pages")


def walk_pages(api: Api, path: str, per_page: int, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Every item of a list by page numbers, until a short page (the real API's way)."""
    items: list[dict[str, Any]] = []
    for number in range(1, limit):
        body = api.get_ok(with_params(path, **{"page[per_page]": str(per_page), "page[page]": str(number)}))
        assert "links" not in body  # page-number responses stay exactly as the real API's
        items += body["data"]
        if len(body["data"]) < per_page:
            return items
    raise AssertionError(f"{path}: more than {limit} pages")
