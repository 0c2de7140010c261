"""Idempotency-Key on writes (docs/idempotency.md): the header's rule, what a request is compared on, and which
responses are kept for replay. Pure: no storage, no HTTP framework."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT"})
MAX_KEY_LENGTH = 255
# How long a key is remembered; DynamoDB's TTL deletes the record some time after this (it is ignored from then).
EXPIRY_SECONDS = 24 * 60 * 60
_PRINTABLE_ASCII = frozenset(chr(code) for code in range(0x20, 0x7F))


def is_valid_key(value: str) -> bool:
    """1 to 255 printable ASCII characters (space to tilde)."""
    return 0 < len(value) <= MAX_KEY_LENGTH and all(char in _PRINTABLE_ASCII for char in value)


@dataclass(frozen=True)
class WriteRequest:
    """One keyed write. ``provider_id`` and ``key`` name the record (a key is the provider's own); the rest is the
    fingerprint a repeat must match: method, route (template and path parameters) and body."""

    provider_id: str
    key: str
    method: str
    route: str
    path_parameters: dict[str, str]
    body: bytes

    def as_payload(self) -> dict[str, Any]:
        """The JSON document the idempotency record is keyed and fingerprinted on (only hashes of it are stored)."""
        return {
            "scope": [self.provider_id, self.key],
            "request": {
                "method": self.method,
                "route": self.route,
                "path_parameters": dict(sorted(self.path_parameters.items())),
                "body": canonical_body(self.body),
            },
        }


def canonical_body(raw: bytes) -> dict[str, Any]:
    """A JSON body compares by its value (key order and white space do not matter); any other body by its bytes."""
    try:
        return {"json": json.loads(raw)} if raw else {"empty": True}
    except (ValueError, UnicodeDecodeError):
        return {"bytes": raw.decode("latin-1")}


@dataclass(frozen=True)
class StoredResponse:
    """What a replay returns: the first response's status, body and content type."""

    status: int
    body: str
    content_type: str

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.body, "content_type": self.content_type}

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> StoredResponse:
        return cls(status=int(stored["status"]), body=str(stored["body"]), content_type=str(stored["content_type"]))


def is_kept(status: int) -> bool:
    """2xx and 4xx answers are final and replayed. A 5xx is not (a retry after a server error runs again), nor a
    409: every 409 this API gives says "try again" (a write lost to concurrent writes, or this key still running)."""
    return HTTPStatus.OK <= status < HTTPStatus.INTERNAL_SERVER_ERROR and status != HTTPStatus.CONFLICT


@dataclass(frozen=True)
class Outcome:
    """The response to send, and whether it is a replay of the first one."""

    response: StoredResponse
    replayed: bool
