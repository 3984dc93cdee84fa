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
    op = load("fetch")["paths"]["/fetch/deliveries"]["get"]
    assert [p["name"] for p in op["parameters"]] == ["page", "per_page"]
    schemas = load("fetch")["components"]["schemas"]
    envelope = schemas["AccountDeliveryList"]
    assert list(envelope["properties"]) == ["deliveries", "page", "per_page", "total", "has_more"]
    assert list(schemas["AccountDelivery"]["properties"]) == ["id", "fetch_id", "message_id", "url", "attempt", "attempted_at",
                                                              "status", "duration_ms", "error"]
    # The same member meanings as /fetch/{id}/deliveries, plus fetch_id.
    for key, value in schemas["Delivery"]["properties"].items():
        assert schemas["AccountDelivery"]["properties"][key] == value


@pytest.mark.parametrize("name", ALL)
def test_nginx_serves_each_document_as_json(server, name):
    r = requests.get(f"{server.media_url}/openapi/{name}.json", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.content == (OPENAPI_DIR / f"{name}.json").read_bytes()
    assert json.loads(r.content)["openapi"] == "3.1.0"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
