"""The OpenAPI documents (www/openapi/): valid OpenAPI 3.1; true to the routers (every route of
each dialect documented, every documented operation routed, `:id(uuid)` captures documented as
`format: uuid`); every example valid against its schema; the combined document exactly the union
of the four; and served by nginx on the media server as JSON. The conformance of the replies
themselves is test_openapi_conformance.py (schemathesis)."""
import copy
import json

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_openapi

from conftest import BIN_DIR, HTTP_TIMEOUT
from support.openapi import (COMBINED, DIALECT_DOCUMENTS, METHODS, OPENAPI_DIR, combine, documented_operations, dump, load,
                             route_operations, uuid_captures)

ALL = list(DIALECT_DOCUMENTS) + [COMBINED]


@pytest.mark.parametrize("name", ALL)
def test_document_is_valid_openapi_3_1(name):
    doc = load(name)
    assert doc["openapi"] == "3.1.0"
    validate_openapi(doc)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-KEY",
                                       "description": "The account's API token alone."}
    assert schemes["ApiKeyQuery"]["in"] == "query" and schemes["ApiKeyQuery"]["name"] == "key"
    assert schemes["BasicAuth"]["scheme"] == "basic"
    assert doc["security"] == [{"ApiKeyHeader": []}, {"ApiKeyQuery": []}, {"BasicAuth": []}]


@pytest.mark.parametrize("name,executable", sorted(DIALECT_DOCUMENTS.items()))
def test_every_route_is_documented_and_every_operation_routed(name, executable):
    routed = route_operations(BIN_DIR / executable)
    documented = documented_operations(load(name))
    assert sorted(routed - documented) == [], f"{executable} routes missing from {name}.json"
    assert sorted(documented - routed) == [], f"{name}.json documents operations {executable} does not route"


@pytest.mark.parametrize("name,executable", sorted(DIALECT_DOCUMENTS.items()))
def test_uuid_captures_are_documented_as_uuids(name, executable):
    doc = load(name)
    uuid_params = set()
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                for p in shared + item[method].get("parameters", []):
                    if p["in"] == "path" and p["schema"].get("format") == "uuid":
                        uuid_params.add((path, p["name"]))
    assert uuid_params == uuid_captures(BIN_DIR / executable)


def _examples(doc):
    """(where, schema, example) of every example of a request body, a response or a parameter."""
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            bodies = [("request", op.get("requestBody", {}))]
            for status, response in op["responses"].items():
                if "$ref" in response:
                    response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                bodies.append((status, response))
            for label, body in bodies:
                for media, content in body.get("content", {}).items():
                    where = f"{method.upper()} {path} {label} {media}"
                    if "example" in content:
                        yield where, content["schema"], content["example"]
                    for key, example in content.get("examples", {}).items():
                        yield f"{where} ({key})", content["schema"], example["value"]


@pytest.mark.parametrize("name", ALL)
def test_every_example_matches_its_schema(name):
    doc = load(name)
    seen = 0
    problems = []
    for where, schema, example in _examples(doc):
        rooted = dict(copy.deepcopy(schema), components=doc["components"])
        validator = Draft202012Validator(rooted, format_checker=FormatChecker())
        problems += [f"{where}: {e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(example)]
        seen += 1
    assert problems == []
    assert seen >= len(documented_operations(doc)), "every operation shows at least one example"


def test_every_successful_json_reply_has_an_example():
    doc = load(COMBINED)
    missing = [f"{m.upper()} {p} {s}" for p, item in doc["paths"].items() for m in METHODS if m in item
               for s, r in item[m]["responses"].items() if s.startswith("2") and "application/json" in r.get("content", {})
               and "example" not in r["content"]["application/json"] and "examples" not in r["content"]["application/json"]]
    assert missing == []


def test_combined_document_is_the_union_of_the_four():
    combined = combine({name: load(name) for name in DIALECT_DOCUMENTS})
    committed = (OPENAPI_DIR / f"{COMBINED}.json").read_text()
    assert committed == dump(combined), \
        "www/openapi/fetchgate.json is stale: run .venv/bin/python tests/integration/support/openapi.py"
    assert documented_operations(combined) == set().union(*(documented_operations(load(n)) for n in DIALECT_DOCUMENTS))


def test_fetch_deliveries_is_documented_as_the_contract_says():
    """Part A's GET /fetch/deliveries: the JSON dialects' list envelope (so also `after` and `next_cursor`,
    as JSONWire.list writes it) of the members of /fetch/{id}/deliveries plus fetch_id."""
    doc = load("fetch")
    op = doc["paths"]["/fetch/deliveries"]["get"]
    assert [p["name"] for p in op["parameters"]] == ["page", "per_page", "after"]
    schemas = doc["components"]["schemas"]
    assert list(schemas["AccountDeliveryList"]["properties"]) == ["deliveries", "page", "per_page", "total", "has_more", "next_cursor"]
    assert schemas["AccountDeliveryList"]["properties"]["deliveries"]["items"] == {"$ref": "#/components/schemas/AccountDelivery"}
    assert list(schemas["AccountDelivery"]["properties"]) == ["id", "fetch_id", "message_id", "url", "attempt", "attempted_at",
                                                              "status", "duration_ms", "error"]
    # The same member meanings as /fetch/{id}/deliveries, plus fetch_id.
    for key, value in schemas["Delivery"]["properties"].items():
        assert schemas["AccountDelivery"]["properties"][key] == value
    # The envelope is the other lists' (GET /fetch).
    fetches = schemas["FetchList"]["properties"]
    assert {k: v for k, v in schemas["AccountDeliveryList"]["properties"].items() if k != "deliveries"} == \
        {k: v for k, v in fetches.items() if k != "fetches"}


@pytest.mark.parametrize("name", ALL)
def test_nginx_serves_each_document_as_json(server, name):
    r = requests.get(f"{server.media_url}/openapi/{name}.json", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.content == (OPENAPI_DIR / f"{name}.json").read_bytes()
    assert json.loads(r.content)["openapi"] == "3.1.0"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def _concrete(path):
    """A documented path with its templates filled: UUIDs where the document says uuid, else a word."""
    return path.replace("{id}", "0b7a3c1e-94f2-4d6b-8a1e-5f0c2d3e4a5b").replace("{filename}", "clip.mp4")


def test_nginx_405s_name_the_methods_the_app_would(server):
    """Schemathesis finding: nginx refuses TRACE on every path by itself (before any location), and
    its 405 carried no Allow header. Now it carries the path's methods from the dialects' routes:
    exactly the Allow the app itself answers for a method the path does not take (OPTIONS)."""
    doc = load(COMBINED)
    seen = []
    for path in doc["paths"]:
        url = server.media_url + _concrete(path)
        app = requests.request("OPTIONS", url, timeout=HTTP_TIMEOUT)
        trace = requests.request("TRACE", url, timeout=HTTP_TIMEOUT)
        seen.append((path, app.status_code, trace.status_code, app.headers.get("Allow"), trace.headers.get("Allow")))
        assert trace.json() == {"error": {"code": "method_not_allowed", "message": "Method not allowed here"}}
    assert [s for s in seen if not (s[1] == s[2] == 405 and s[3] == s[4])] == []
    # The static files (the dashboard, these documents): GET and HEAD.
    for path in ["/", "/docs.html", "/openapi/fetch.json"]:
        for method in ["TRACE", "POST"]:
            r = requests.request(method, server.media_url + path, timeout=HTTP_TIMEOUT)
            assert (r.status_code, r.headers.get("Allow")) == (405, "GET, HEAD"), (method, path)
    # A query does not change the path's methods.
    r = requests.request("TRACE", server.media_url + "/fetch?status=pending", timeout=HTTP_TIMEOUT)
    assert (r.status_code, r.headers["Allow"]) == (405, "GET, HEAD, POST")


def test_nginx_limits_are_documented_where_they_apply(server):
    """Schemathesis finding: a very long query got nginx's own 414, which no operation documented.
    Every operation with a query documents 414 and every one with a body 413, in the JSON error
    format nginx answers them with (also on the Downloader's paths)."""
    doc = load(COMBINED)
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            params = item.get("parameters", []) + op.get("parameters", [])
            if any(p["in"] == "query" for p in params):
                assert op["responses"]["414"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, path
            if "requestBody" in op:
                assert "413" in op["responses"], (method, path)
    for path in ["/fetch/metadata", "/api/downloads", "/jobs"]:
        r = requests.get(f"{server.media_url}{path}?url={'a' * 20000}", headers={"X-API-KEY": server.demo_token},
                         timeout=HTTP_TIMEOUT)
        assert r.status_code == 414
        assert r.json() == {"error": {"code": "uri_too_long", "message": "Request URI is too long"}}
