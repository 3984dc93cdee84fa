"""The OpenAPI documents in www/openapi/: the four dialects' documents, the combined one
(`fetchgate.json`, their union, made by `combine` and compared by test_openapi.py), and the
route lines each dialect executable prints with `--routes`.

Regenerate the combined document after editing one of the four:
    .venv/bin/python tests/integration/support/openapi.py
"""
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
OPENAPI_DIR = REPO / "www" / "openapi"
# Document name → the dialect executable whose routes it documents.
DIALECT_DOCUMENTS = {"fetch": "fetch-api", "files": "files-api", "jobs": "jobs-api", "downloader": "downloader-api"}
COMBINED = "fetchgate"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

COMBINED_INFO = {
    "title": "Fetchgate media server API",
    "version": "1.0.0",
    "description": "Every JSON dialect of the media server in one document: Fetch (`/fetch`), Files (`/files`), download jobs "
                   "(`/jobs`, `/batch`, `/metadata`, `/usage`, `/user/…`) and Downloader (`/api/download…`). Made from "
                   "fetch.json, files.json, jobs.json and downloader.json by tests/integration/support/openapi.py.",
    "license": {"name": "Proprietary"},
}


def load(name):
    return json.loads((OPENAPI_DIR / f"{name}.json").read_text())


def combine(documents):
    """The union of `documents` (name → parsed document): paths, tags and components; a path or an
    operationId twice, or one component name with two different values, is an error."""
    first = next(iter(documents.values()))
    out = {"openapi": first["openapi"], "info": COMBINED_INFO, "servers": first["servers"], "security": first["security"],
           "tags": [], "paths": {}, "components": {}}
    tag_names, operation_ids = {}, set()
    for name, doc in documents.items():
        assert doc["security"] == first["security"] and doc["servers"] == first["servers"], f"{name}: other security or servers"
        for tag in doc.get("tags", []):
            if tag["name"] in tag_names:
                assert tag_names[tag["name"]] == tag, f"{name}: tag {tag['name']} differs"
            else:
                tag_names[tag["name"]] = tag
                out["tags"].append(tag)
        for path, item in doc["paths"].items():
            assert path not in out["paths"], f"{name}: {path} is in two documents"
            for method in METHODS:
                if method in item:
                    op_id = item[method]["operationId"]
                    assert op_id not in operation_ids, f"{name}: operationId {op_id} twice"
                    operation_ids.add(op_id)
            out["paths"][path] = item
        for section, entries in doc.get("components", {}).items():
            merged = out["components"].setdefault(section, {})
            for key, value in entries.items():
                assert merged.get(key, value) == value, f"{name}: components/{section}/{key} differs from another document's"
                merged[key] = value
    return out


def dump(document):
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def documented_operations(document):
    """{(METHOD, path)} of a document."""
    return {(method.upper(), path) for path, item in document["paths"].items() for method in METHODS if method in item}


def route_operations(executable):
    """{(METHOD, path)} from `<executable> --routes`, captures written as OpenAPI path templates
    (`:id(uuid)` → `{id}`); HEAD lines are left out where the route also answers GET."""
    r = subprocess.run([str(executable), "--routes"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"{executable} --routes exited {r.returncode}: {r.stderr}"
    lines = [line.split(" ", 1) for line in r.stdout.splitlines() if line.strip()]
    ops = {(method, re.sub(r":([A-Za-z_]+)(\(uuid\))?", r"{\1}", pattern)) for method, pattern in lines}
    return {(m, p) for m, p in ops if not (m == "HEAD" and ("GET", p) in ops)}


def uuid_captures(executable):
    """{(path template, capture name)} of the `:name(uuid)` captures in `<executable> --routes`."""
    r = subprocess.run([str(executable), "--routes"], capture_output=True, text=True, timeout=30)
    found = set()
    for line in r.stdout.splitlines():
        pattern = line.split(" ", 1)[1]
        template = re.sub(r":([A-Za-z_]+)(\(uuid\))?", r"{\1}", pattern)
        for name in re.findall(r":([A-Za-z_]+)\(uuid\)", pattern):
            found.add((template, name))
    return found


if __name__ == "__main__":
    combined = combine({name: load(name) for name in DIALECT_DOCUMENTS})
    (OPENAPI_DIR / f"{COMBINED}.json").write_text(dump(combined))
    print(f"wrote {OPENAPI_DIR / (COMBINED + '.json')}", file=sys.stderr)
