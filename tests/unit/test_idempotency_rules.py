"""The pure Idempotency-Key rules (chalicelib/domain/idempotency.py): the header's characters, what a repeat is
compared on, which responses are kept, and the texts (docs/idempotency.md)."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain import messages as m
from chalicelib.domain.idempotency import (
    StoredResponse,
    WriteRequest,
    canonical_body,
    is_kept,
    is_valid_key,
)


@pytest.mark.parametrize("key", ["a", "k" * 255, " leading and inner spaces", "~!@#$%^&*()_+-={}[]|\\:;'<>?,./`\""])
def test_valid_keys(key: str) -> None:
    assert is_valid_key(key)


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\t", "line\n", "nul\x00", "del\x7f", "caf\u00e9", "\u00a0"])
def test_invalid_keys(key: str) -> None:
    assert not is_valid_key(key)


def test_a_json_body_compares_by_value() -> None:
    one = b'{"data": {"type": "x", "attributes": {"a": 1, "b": [1, 2]}}}'
    other = b'{\n  "data": {"attributes": {"b": [1, 2], "a": 1},\n  "type": "x"}\n}'
    assert json.dumps(canonical_body(one), sort_keys=True) == json.dumps(canonical_body(other), sort_keys=True)
    assert canonical_body(b'{"a": [2, 1]}') != canonical_body(b'{"a": [1, 2]}')
    assert canonical_body(b'{"a": "1"}') != canonical_body(b'{"a": 1}')


def test_other_bodies_compare_by_their_bytes() -> None:
    assert canonical_body(b"not json") == {"bytes": "not json"}
    assert canonical_body(b"\xff\xfe") == {"bytes": "\xff\xfe"}
    assert canonical_body(b'"text"') != canonical_body(b"text")
    assert canonical_body(b"") == {"empty": True}
    json.dumps(canonical_body(b"\xff\xfe"))  # Powertools hashes the payload as JSON


def _write(**changes: object) -> WriteRequest:
    fields: dict[str, object] = {
        "provider_id": "lp-1",
        "key": "k",
        "method": "PUT",
        "route": "/api/v3/partnerships/ecf/{partnership_id}",
        "path_parameters": {"partnership_id": "p-1"},
        "body": b"{}",
    }
    fields.update(changes)
    return WriteRequest(**fields)  # type: ignore[arg-type]


def test_the_record_is_named_by_provider_and_key_and_compared_on_the_rest() -> None:
    payload = _write().as_payload()
    assert payload["scope"] == ["lp-1", "k"]
    assert payload["request"] == {
        "method": "PUT",
        "route": "/api/v3/partnerships/ecf/{partnership_id}",
        "path_parameters": {"partnership_id": "p-1"},
        "body": {"json": {}},
    }
    for change in ({"method": "POST"}, {"route": "/api/v1/x"}, {"path_parameters": {"partnership_id": "p-2"}},
                   {"body": b'{"a": 1}'}):  # fmt: skip
        changed = _write(**change).as_payload()
        assert changed["scope"] == payload["scope"]
        assert changed["request"] != payload["request"], change
    assert _write(provider_id="lp-2").as_payload()["scope"] != payload["scope"]


@pytest.mark.parametrize("status", [200, 201, 204, 400, 404, 422])
def test_2xx_and_4xx_are_kept(status: int) -> None:
    assert is_kept(status)


@pytest.mark.parametrize("status", [409, 500, 502, 503, 504])
def test_409_and_5xx_are_not_kept(status: int) -> None:
    assert not is_kept(status)


def test_a_stored_response_round_trips_through_json() -> None:
    response = StoredResponse(status=422, body='{"errors":[]}', content_type="application/vnd.api+json")
    assert StoredResponse.from_dict(json.loads(json.dumps(response.to_dict()))) == response


def test_the_texts_name_the_header_and_are_unique() -> None:
    texts = (m.IDEMPOTENCY_KEY_INVALID, m.IDEMPOTENCY_KEY_REUSED, m.IDEMPOTENCY_KEY_IN_PROGRESS)
    assert all("'Idempotency-Key'" in text for text in texts)
    catalogue = [value for name, value in vars(m).items() if name.isupper() and isinstance(value, str)]
    for text in texts:
        assert catalogue.count(text) == 1, text
    assert m.IDEMPOTENCY_KEY_INVALID == "The header 'Idempotency-Key' must be 1 to 255 printable ASCII characters"
