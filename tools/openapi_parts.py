"""What the served OpenAPI documents say beyond the reference, the same for every version (v1, v2, v3).

``tools/build_openapi.py`` applies these to each document it builds:

- ``servers``: one relative URL, so "Try it out" in the documentation page (and any client that resolves the
  document's URL) calls the host and API Gateway stage that served the document.
- ``answer_statuses``: every operation answers 401 without a valid token, with the JSON:API body
  (``chalicelib/api/http.unauthorized``, even on the CSV routes); reads by id answer 404 and participant
  actions and void answer 422 (``chalicelib/api/participants.py``, ``chalicelib/api/declarations.py``).
- ``csv_paging``: the CSV exports come in pages of at most 10,000 rows with a ``Link`` header to the next page
  (``chalicelib/api/exports.py``).
- ``legacy_participants``: v1 also serves the list at its old path ``/api/v1/participants``.
- ``drop_boolean_required``: an erratum of the v1 and v2 references (``required: false`` on properties).
- ``yaml_text``: the YAML form of a document (served next to the JSON; Postman imports it).
"""

from __future__ import annotations

import copy

import yaml

JSONAPI = "application/vnd.api+json"
METHODS = ("get", "post", "put", "patch", "delete")
ACTIONS = ("defer", "resume", "withdraw", "change-schedule", "void")
CSV_MAX_ROWS = "10,000"  # chalicelib/api/exports.CSV_MAX_ROWS

SERVERS = [
    {
        "url": "../..",
        "description": (
            "This service: the host (and API Gateway stage) that serves this document, two levels above its URL "
            "(/api-docs/v3/swagger.json, /api/v3/openapi.json)"
        ),
    }
]


def errors_response(description: str) -> dict:
    return {
        "description": description,
        "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/JsonApiErrors"}}},
    }


UNAUTHORISED = {
    "description": "Unauthorized: no bearer token, or not a valid one",
    "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/UnauthorisedResponse"}}},
}
NOT_FOUND_RESPONSE = {
    "description": "Not found",
    "content": {JSONAPI: {"schema": {"$ref": "#/components/schemas/ResourceNotFound"}}},
}


def _operations(paths: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, op) for path, ops in paths.items() for method, op in ops.items() if method in METHODS]


def answer_statuses(paths: dict) -> None:
    """The statuses every operation can answer that the reference leaves out (or documents with a CSV body)."""
    for path, method, operation in _operations(paths):
        responses = operation["responses"]
        unauthorised = responses.get("401")
        if unauthorised is None or JSONAPI not in unauthorised.get("content", {}):
            responses["401"] = copy.deepcopy(UNAUTHORISED)
        last = path.rsplit("/", 1)[-1]
        if (method == "get" and last == "{id}") or (method == "put" and last == "void"):
            responses.setdefault("404", copy.deepcopy(NOT_FOUND_RESPONSE))
        if method == "put" and last in ACTIONS:
            responses.setdefault("422", errors_response("Unprocessable entity (see the error catalogue)"))


LINK_HEADER = {
    "description": '`<URL of the next page>; rel="next"`, while more rows remain',
    "schema": {"type": "string"},
}


def csv_page_parameter() -> dict:
    return {
        "name": "page",
        "in": "query",
        "style": "deepObject",
        "explode": True,
        "required": False,
        "schema": {"$ref": "#/components/schemas/Pagination"},
        "description": (
            f"The file comes in pages of at most {CSV_MAX_ROWS} rows (a Lambda response cannot hold the whole "
            "file; not in DfE's API): `page[page]` (from 1) or `page[cursor]` (empty for the first page), and "
            f"`page[per_page]` (at most, and by default, {CSV_MAX_ROWS}). While more rows remain, the `Link` "
            "header names the next page; a client that ignores it gets the first page."
        ),
        "example": "page[page]=2",
    }


def csv_paging(paths: dict) -> None:
    """The page parameter and the Link header on every CSV export."""
    for _, _, operation in _operations(paths):
        ok = operation["responses"].get("200", {})
        if "text/csv" not in ok.get("content", {}):
            continue
        operation.setdefault("parameters", []).append(csv_page_parameter())
        ok.setdefault("headers", {})["Link"] = copy.deepcopy(LINK_HEADER)


def legacy_participants(paths: dict) -> None:
    """v1 serves the participants list at its old path too (the reference names it in a summary only)."""
    current = paths.get("/api/v1/participants/ecf", {}).get("get")
    if current is None:
        return
    operation = copy.deepcopy(current)
    operation["operationId"] = "get_participants_legacy"
    operation["summary"] = "Retrieve multiple participants (the old path: use /api/v1/participants/ecf)"
    operation["deprecated"] = True
    paths["/api/v1/participants"] = {"get": operation}


def drop_boolean_required(schemas: object) -> None:
    """The v1 and v2 references mark some properties ``required: false``, which OpenAPI 3.0 schemas do not allow
    (``required`` is the object's list of names): dropped, so the documents are valid."""
    if isinstance(schemas, dict):
        if isinstance(schemas.get("required"), bool):
            del schemas["required"]
        for value in schemas.values():
            drop_boolean_required(value)
    elif isinstance(schemas, list):
        for value in schemas:
            drop_boolean_required(value)


def yaml_text(document: dict) -> str:
    """Block-style YAML in the document's key order; PyYAML quotes every string a YAML 1.1 reader would take for
    something else (``'401'``, ``'2024-06-01'``, ``'yes'``)."""
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120))
