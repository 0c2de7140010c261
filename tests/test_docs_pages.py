"""The API documentation (chalicelib/api/docs.py): v1, v2 and v3 documents as JSON and YAML, the pages and their
assets, served without a token; the documents built from the reference and true to the routes and answers.
The page in a real browser: tests/test_docs_browser.py."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from openapi_spec_validator import validate

import app as app_module
from chalicelib.api import docs
from tests.openapi import assert_valid_served, served
from tests.openapi import spec as reference_spec

VERSIONS = ("v1", "v2", "v3")
OPENAPI = Path(docs.OPENAPI)
VENDORED = Path(docs.STATIC) / "swagger-ui"


def routes(version: str) -> set[tuple[str, str]]:
    """The app's routes of a version, with every path parameter named ``id`` as the documents name them."""
    found = set()
    for path, entries in app_module.app.routes.items():
        if path.startswith(f"/api/{version}/") and not path.endswith("openapi.json"):
            found |= {(re.sub(r"\{[^}]+\}", "{id}", path), method.lower()) for method in entries}
    return found


def operations(version: str) -> list[tuple[str, str]]:
    return [(path, method) for path, methods in served(version)["paths"].items() for method in methods]


# --------------------------------------------------------------------------- the committed documents


@pytest.mark.parametrize("version", VERSIONS)
def test_each_document_is_valid_openapi(version):
    validate(served(version))


@pytest.mark.parametrize("version", VERSIONS)
def test_each_document_lists_every_route_of_its_version_and_nothing_else(version):
    assert routes(version) == set(operations(version))


@pytest.mark.parametrize("version", VERSIONS)
def test_the_committed_documents_are_a_fresh_build(version):
    import tools.build_openapi as builder
    from tools.openapi_parts import yaml_text

    reference_spec(version)  # skips with a reason when ../shared/reference is absent
    reference = json.loads((builder.REFERENCES / f"ecf-api-{version}.openapi.json").read_text())
    built = builder.build_version(reference, version)
    assert built == served(version), f"run `make openapi` and commit chalicelib/openapi/{version}.json"
    assert (OPENAPI / f"{version}.yaml").read_text() == yaml_text(built), f"run `make openapi` ({version}.yaml)"


@pytest.mark.parametrize("version", VERSIONS)
def test_the_yaml_says_what_the_json_says(version):
    assert yaml.safe_load((OPENAPI / f"{version}.yaml").read_text()) == served(version)


@pytest.mark.parametrize(
    "document_url",
    [
        "https://api.example.org/api/api-docs/v3/swagger.json",  # deployed: API Gateway stage "api"
        "https://api.example.org/api/v3/openapi.json",  # a custom domain: no stage in the path
        "http://127.0.0.1:8000/api-docs/v1/swagger.yaml",  # local
    ],
)
def test_try_it_out_calls_the_host_and_stage_that_served_the_document(document_url):
    """Swagger UI resolves a relative server URL against the document's URL (OpenAPI 3.0.3, "Server Object")."""
    (server,) = served("v3")["servers"]
    base = urljoin(document_url, server["url"])
    stage = "/api/" if "/api/api-docs/" in document_url else "/"
    assert base == f"{urlsplit(document_url).scheme}://{urlsplit(document_url).netloc}{stage}"


def test_v1_and_v2_document_cursor_paging_idempotency_and_the_csv_pages():
    for version in ("v1", "v2"):
        paths = served(version)["paths"]
        listing = paths[f"/api/{version}/participants/ecf"]["get"]
        assert "links" in served(version)["components"]["schemas"]["MultipleECFParticipantsResponse"]["properties"]
        assert any(p.get("name") == "page" for p in listing["parameters"])
        assert "cursor" in served(version)["components"]["schemas"]["Pagination"]["properties"]
        for path, method in operations(version):
            operation = paths[path][method]
            keyed = {"$ref": "#/components/parameters/IdempotencyKey"} in operation.get("parameters", [])
            assert keyed == (method in ("post", "put")), (version, method, path)
        csv = paths[f"/api/{version}/participant-declarations.csv"]["get"]
        assert "Link" in csv["responses"]["200"]["headers"]
        assert any(p.get("name") == "page" for p in csv["parameters"])
    assert served("v1")["paths"]["/api/v1/participants"]["get"]["deprecated"] is True


# --------------------------------------------------------------------------- the documents answer true


def _request(client: Any, version: str, method: str, path: str, token: str | None) -> Any:
    """A request to an operation with a random id, the query parameters it requires (their documented example)
    and, on a write, a body of the right shape that names nothing known."""
    url = path.replace("{id}", str(uuid.uuid4()))
    required = [p["example"] for p in served(version)["paths"][path][method].get("parameters", []) if p.get("required")]
    query = "&".join(str(example) for example in required if "=" in str(example))
    url += f"?{query}" if query else ""
    headers = {"Content-Type": "application/vnd.api+json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"data": {"type": "x", "attributes": {}}}) if method in ("post", "put") else None
    return url, getattr(client.http, method)(url, headers=headers, body=body)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_operation_answers_401_without_a_token_as_documented(client, version):
    for path, method in operations(version):
        url, response = _request(client, version, method, path, None)
        assert response.status_code == 401, (method, url)
        assert_valid_served(method.upper(), url, response, version)


@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_ids_get_the_documented_answers(world, client, version):
    token = world.token(world.lead_provider())
    for path, method in operations(version):
        if "{id}" not in path:
            continue
        url, response = _request(client, version, method, path, token)
        action = path.rsplit("/", 1)[-1] in ("defer", "resume", "withdraw", "change-schedule")
        expected = 422 if action else 404  # a participant action names its participant in the 422 (participants.py)
        assert response.status_code == expected, (method, url, response.body)
        assert_valid_served(method.upper(), url, response, version)


# --------------------------------------------------------------------------- the routes


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_is_served_as_json_and_yaml_without_a_token(client, version):
    as_json = client.http.get(f"/api-docs/{version}/swagger.json")
    assert as_json.status_code == 200
    assert as_json.headers["Content-Type"] == "application/json"
    assert json.loads(as_json.body) == served(version)
    as_yaml = client.http.get(f"/api-docs/{version}/swagger.yaml")
    assert as_yaml.status_code == 200
    assert as_yaml.headers["Content-Type"] == "application/yaml"
    assert yaml.safe_load(as_yaml.body) == served(version)
    assert as_json.headers["Cache-Control"] == as_yaml.headers["Cache-Control"] == "no-cache"


def test_the_first_url_of_the_v3_document_still_serves_it(client):
    response = client.http.get("/api/v3/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body) == served("v3")


def test_unknown_versions_and_assets_are_404(client):
    for url in ("/api-docs/v4", "/api-docs/v4/swagger.json", "/api-docs/v4/swagger.yaml", "/api-docs/static/x.js"):
        assert client.http.get(url).status_code == 404, url


def test_a_matching_etag_gets_304(client):
    first = client.http.get("/api-docs/v2/swagger.yaml")
    again = client.http.get("/api-docs/v2/swagger.yaml", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.body == b""
    other = client.http.get("/api-docs/v2/swagger.yaml", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


class _References(HTMLParser):
    """Every URL a page loads or links to, and the document URL it hands Swagger UI."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (tag, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "data-spec-url") and value is not None:
                self.urls.append((tag, value))


def _page_urls(client: Any, version: str) -> tuple[Any, list[tuple[str, str]]]:
    response = client.http.get(f"/api-docs/{version}")
    parser = _References()
    parser.feed(response.body.decode())
    return response, parser.urls


@pytest.mark.parametrize("version", VERSIONS)
def test_the_page_loads_only_relative_urls_that_the_api_serves(client, version):
    response, urls = _page_urls(client, version)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert not re.search(r"https?://", response.body.decode())
    page = f"https://api.example.org/api/api-docs/{version}"
    for tag, url in urls:
        if url.startswith("data:"):
            continue
        assert not urlsplit(url).scheme, url
        assert not url.startswith("/"), url  # relative: kept under the stage
        resolved = urlsplit(urljoin(page, url))
        assert resolved.path.startswith("/api/api-docs/"), url
        served_at = resolved.path.removeprefix("/api") + (f"?{resolved.query}" if resolved.query else "")
        assert client.http.get(served_at).status_code == 200, (tag, url)
    assert ("div", f"{version}/swagger.json") in urls


def test_assets_have_their_content_types_and_are_cached_for_a_year(client):
    _, urls = _page_urls(client, "v3")
    loaded = {
        url.split("?")[0].removeprefix("static/"): url
        for tag, url in urls
        if tag in ("script", "link") and not url.startswith("data:")
    }
    assert set(loaded) == {"swagger-ui-bundle.js", "swagger-ui.css", "api-docs.js", "api-docs.css"}
    for name, url in loaded.items():
        response = client.http.get(f"/api-docs/{url}")
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        assert response.headers["Content-Type"] == f"{kind}; charset=utf-8", name
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        digest = hashlib.sha256(response.body).hexdigest()
        assert url.endswith(f"?v={digest[:12]}"), "an asset's URL changes with its content"


def test_the_page_allows_scripts_from_the_api_only(client):
    response = client.http.get("/api-docs/v3")
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert re.findall(r"<script[^>]*>", response.body.decode()) == [
        f'<script src="{docs.asset_url("swagger-ui-bundle.js")}">',
        f'<script src="{docs.asset_url("api-docs.js")}">',
    ]


def test_the_page_url_with_a_trailing_slash_is_sent_to_the_one_without(client):
    """There the page's relative URLs would resolve one level too deep."""
    response = client.http.get("/api-docs/v2/")
    assert response.status_code == 301
    location = urljoin("https://api.example.org/api/api-docs/v2/", response.headers["Location"])
    assert location == "https://api.example.org/api/api-docs/v2"
    assert client.http.get("/api-docs/v2").status_code == 200


def test_the_vendored_swagger_ui_is_the_released_one():
    """chalicelib/static/swagger-ui holds swagger-ui-dist's files unchanged (tools/vendor_swagger_ui.sh)."""
    sums = (VENDORED / "SHA256SUMS").read_text().split("\n")
    checked = 0
    for line in filter(None, sums):
        digest, name = line.split()
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name
        checked += 1
    assert checked == 2
    assert re.fullmatch(r"\d+\.\d+\.\d+\n", (VENDORED / "VERSION").read_text())
    assert "Apache License" in (VENDORED / "LICENSE").read_text()
