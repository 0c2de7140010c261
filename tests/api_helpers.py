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
