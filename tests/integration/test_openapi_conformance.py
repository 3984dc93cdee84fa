"""The replies conform to the OpenAPI documents: schemathesis (every check it has) against a real
stack with a real key, run by support/openapi_conformance.py inside a network namespace where only
loopback is up (`unshare --net`), so the URLs it makes up for imports, fetches, webhooks, metadata
and bucket endpoints can reach nothing but 127.0.0.1. Bounded: a few examples per operation, the
whole run well under 3 minutes on 2 cores. A failure shows schemathesis's own report of each
finding (the check, the reply, a curl line to reproduce it).

Settings and the one documented exception (URL-taking operations refuse valid input with 400 in a
namespace where nothing resolves) are in support/schemathesis.toml."""
import json
import os
import re
import subprocess
import sys

from conftest import BIN_DIR, REPO
from support.openapi import COMBINED, OPENAPI_DIR

INNER = REPO / "tests" / "integration" / "support" / "openapi_conformance.py"
MAX_EXAMPLES = 5
RUN_TIMEOUT = 240


def run_sealed(schema, workdir, *schemathesis_args, max_examples=MAX_EXAMPLES, sealed=True):
    """The inner script (in a fresh network namespace with only lo up when `sealed`): its exit status and output."""
    inner = [sys.executable, str(INNER), "--schema", str(schema), "--max-examples", str(max_examples),
             "--workdir", str(workdir), "--", *schemathesis_args]
    command = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *inner] if sealed else inner
    env = dict(os.environ, FETCHGATE_BIN=str(BIN_DIR))
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env, stdin=subprocess.DEVNULL)


def report(run):
    """schemathesis's findings (FAILURES and ERRORS sections and the summary), then stderr's tail."""
    out = run.stdout
    start = min([i for i in (out.find("=== FAILURES"), out.find("=== ERRORS"), out.find("=== SUMMARY")) if i >= 0], default=0)
    start = out.rfind("\n", 0, start) + 1 if start else 0
    return f"exit status {run.returncode}\n{out[start:][-20000:]}\n----- stderr -----\n{run.stderr[-4000:]}"


def test_every_reply_conforms_to_the_combined_document(tmp_path):
    run = run_sealed(OPENAPI_DIR / f"{COMBINED}.json", tmp_path)
    assert "sealed: only lo is up; 192.0.2.1 unreachable (ENETUNREACH)" in run.stdout, report(run)
    assert run.returncode == 0, report(run)
    summary = [line for line in run.stdout.splitlines() if line.startswith("=") and " in " in line][-1]
    assert "failure" not in summary and "error" not in summary, report(run)


def test_files_links_hold_in_stateful_runs(tmp_path):
    """The stateful phase follows the document's links (POST /files → GET, download, DELETE /files/{id}):
    uploads work in the sealed namespace, so real files are read, downloaded and deleted, and the
    checks that need a live resource (use after free, resource availability) run on them."""
    run = run_sealed(OPENAPI_DIR / f"{COMBINED}.json", tmp_path, "--phases", "stateful", "--include-path-regex", "^/files",
                     max_examples=30)
    assert run.returncode == 0, report(run)
    covered = re.search(r"API Links:\s+(\d+) covered", run.stdout)
    assert covered and int(covered.group(1)) >= 3, report(run)


def test_a_wrong_document_fails_the_run(tmp_path):
    """The harness fails on a finding: the same stack against a document that says /usage answers
    `active_jobs` as a string."""
    wrong = json.loads((OPENAPI_DIR / f"{COMBINED}.json").read_text())
    wrong["components"]["schemas"]["Usage"]["properties"]["active_jobs"] = {"type": "string"}
    schema = tmp_path / "wrong.json"
    schema.write_text(json.dumps(wrong))
    run = run_sealed(schema, tmp_path / "run", "--include-path", "/usage", max_examples=1)
    assert run.returncode == 1, report(run)
    assert "Response violates schema" in run.stdout, report(run)
    assert "GET /usage" in run.stdout, report(run)


def test_the_inner_script_refuses_to_run_outside_a_sealed_namespace(tmp_path):
    run = run_sealed(OPENAPI_DIR / f"{COMBINED}.json", tmp_path, sealed=False)
    assert run.returncode == 3, report(run)
    assert "REFUSED: this namespace can reach a public address" in run.stderr
    assert not (tmp_path / "run").exists(), "nothing was started"
