"""Opaque, tamper-evident cursors (``page[cursor]`` on the lists, and the change feed's).

A cursor is ``<payload>.<signature>``: the payload is compact JSON in URL-safe base64 (no padding); the
signature is an HMAC-SHA256 (first 16 bytes) over the payload *and the request it was made for* — the caller, the
route and every other query parameter (filters, sort). So a cursor changed by hand, replayed by another lead
provider, or sent with other filters or another sort fails verification and is a 400, never a 500 and never
someone else's page. The key is derived from the token key (``services.tokens.derived_key``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from chalicelib.domain import messages as m
from chalicelib.domain.errors import BadRequest
from chalicelib.services import tokens

SIGNATURE_BYTES = 16
MAX_CURSOR_LENGTH = 2048  # a real cursor is a few hundred characters


def binding(lead_provider_id: str, route: str, params: Mapping[str, str], *, ignore: tuple[str, ...] = ()) -> str:
    """What a cursor is bound to: the caller, the route, and the query parameters other than paging."""
    kept = sorted((k, v) for k, v in params.items() if not k.startswith("page[") and k not in ignore)
    return json.dumps([lead_provider_id, route, kept], separators=(",", ":"))


def _signature(payload: str, bound_to: str) -> bytes:
    mac = hmac.new(tokens.derived_key("cursor"), bound_to.encode(), hashlib.sha256)
    mac.update(b"\0" + payload.encode())
    return mac.digest()[:SIGNATURE_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(state: Any, bound_to: str) -> str:
    payload = _b64(json.dumps(state, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_b64(_signature(payload, bound_to))}"


def decode(cursor: str, bound_to: str) -> Any:
    """The state a cursor carries; a 400 unless it is exactly one this service made for this request."""
    payload, _, signature = cursor.strip().partition(".")
    if not payload or not signature or len(cursor) > MAX_CURSOR_LENGTH:
        raise BadRequest(m.CURSOR_INVALID)
    # Compared as text: base64 has several spellings of the same bytes (the last character's spare bits), and
    # only the one this service wrote is accepted.
    if not hmac.compare_digest(signature.encode(), _b64(_signature(payload, bound_to)).encode()):
        raise BadRequest(m.CURSOR_INVALID)
    try:
        return json.loads(_unb64(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise BadRequest(m.CURSOR_INVALID) from error
