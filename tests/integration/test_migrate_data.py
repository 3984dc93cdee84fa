"""`fetchgate migrate-data --from URL --to URL`: the store of a real stack (accounts, keys, uploads,
items, an order, a counted download, a Files API file and its probe job) copied into a fresh SQLite
file and into a throwaway PostgreSQL cluster (tests/support/pgcluster.sh), each twice: the second run
copies nothing and still checks every table; a target holding rows the source lacks exits 1; the stack
started again on the PostgreSQL copy serves what it served before."""
import re
import subprocess

import pytest

from conftest import FETCHGATE, SHOP_FILES, Server, StoreClient, fetch, guid_of, stock_shop
from support.backends import PgCluster

TABLES = ["accounts", "credentials", "uploads", "items", "downloads", "orders", "order_items", "jobs", "media_files",
          "idempotency_keys", "fetches", "webhook_deliveries", "batches", "buckets", "signup_attempts"]


class Stack:
    """A stopped stack: its run directory, a tenant's key and token, one order's link to item A."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack()
    stack.run = tmp_path_factory.mktemp("migrate-source") / "run"
    # The source is a SQLite store with its files on local disk, whichever backend the run's other stacks use.
    server = Server(stack.run, extra_args=["--database-url", f"sqlite:{stack.run / 'fetchgate.sqlite'}"])
    server.start()
    try:
        shop = stock_shop(server.create_account())
        stack.key, stack.token = shop.key, shop.token
        order = shop.create_order(items=("A", "B"))
        stack.guid = guid_of(order, "A")
        assert fetch(f"{server.store_url}/get/{stack.guid}").status_code == 200
        files = server.create_files_tenant()
        files.upload("clip.bin", b"\x00\x01" * 100)
    finally:
        server.stop()
    return stack


@pytest.fixture(scope="module")
def source(stack):
    """The SQLite URL of the stopped stack's store, with rows in the tables its traffic fills."""
    return f"sqlite:{stack.run / 'fetchgate.sqlite'}"


@pytest.fixture(scope="module")
def postgres():
    cluster = PgCluster(prefix="fetchgate-migrate-pg.")
    url = cluster.start()
    try:
        yield url
    finally:
        cluster.remove()


def fetchgate(*args, run_dir):
    return subprocess.run([str(FETCHGATE), *args, "--run-dir", str(run_dir)], capture_output=True, text=True,
                          timeout=120)


def migrate(source, target, tmp_path):
    """Runs migrate-data; returns (exit code, {table: (source, target, copied now)}, output)."""
    r = fetchgate("migrate-data", "--from", source, "--to", target, "--batch", "3", run_dir=tmp_path / "run")
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["table", "source", "target", "copied", "now"], r.stdout + r.stderr
    counts = {}
    for line in lines[1:1 + len(TABLES)]:
        name, *numbers = line.split()[:4]
        counts[name] = tuple(int(n) for n in numbers)
    assert list(counts) == TABLES, r.stdout
    return r.returncode, counts, r.stdout + r.stderr


def accounts(url, tmp_path):
    r = fetchgate("account", "list", "--database-url", url, run_dir=tmp_path / "run")
    assert r.returncode == 0, r.stderr
    return r.stdout


def check_twice(source, target, tmp_path):
    code, first, output = migrate(source, target, tmp_path)
    assert code == 0, output
    for table in ("accounts", "credentials", "uploads", "items", "downloads", "orders", "order_items", "jobs",
                  "media_files"):
        assert first[table][0] > 0, f"the stack filled {table}: {output}"
    for table, (in_source, in_target, copied) in first.items():
        assert in_source == in_target == copied, f"{table}: {output}"
    assert re.search(rf"migrate-data: {len(TABLES)} tables, \d+ rows, all match\n", output), output
    code, second, output = migrate(source, target, tmp_path)
    assert code == 0, output
    assert second == {table: (s, t, 0) for table, (s, t, _) in first.items()}, output
    assert accounts(target, tmp_path) == accounts(source, tmp_path)
    return first


def test_sqlite_to_sqlite_twice(source, tmp_path):
    check_twice(source, f"sqlite:{tmp_path / 'copy.sqlite'}", tmp_path)


def test_sqlite_to_postgresql_twice_then_a_new_row_there_is_a_mismatch(source, postgres, tmp_path):
    first = check_twice(source, postgres, tmp_path)
    # The copied ids are behind the target's generated ones: a new account gets the next id.
    r = fetchgate("account", "create", "--name", "Made on PostgreSQL", "--database-url", postgres,
                  run_dir=tmp_path / "run")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"account {first['accounts'][0] + 1} created"
    code, counts, output = migrate(source, postgres, tmp_path)
    assert code == 1, output
    accounts_line = next(line for line in output.splitlines() if line.startswith("accounts "))
    assert accounts_line.endswith("MISMATCH"), output
    assert counts["accounts"] == (first["accounts"][0], first["accounts"][0] + 1, 0)
    assert "fetchgate: migrate-data: the target's rows differ from the source's" in output


def test_the_stack_serves_the_copied_store_from_postgresql(stack, source, postgres, tmp_path):
    """The stack started again on the PostgreSQL copy (same data directory and secrets): the tenant's
    key works and its customer link serves item A's file once more, counted there."""
    target = postgres.rsplit("/", 1)[0] + "/served"
    subprocess.run(["psql", postgres, "-qc", "CREATE DATABASE served"], check=True, timeout=60)
    code, _, output = migrate(source, target, tmp_path)
    assert code == 0, output
    server = Server(stack.run, extra_args=["--database-url", target])
    server.start()
    try:
        assert StoreClient(server.store_url, stack.key, stack.token).get("/api/account").status_code == 200
        r = fetch(f"{server.store_url}/get/{stack.guid}")
        assert r.status_code == 200
        assert r.content == SHOP_FILES["A"][1]
    finally:
        server.stop()
    served = subprocess.run(["psql", target, "-Atc", "SELECT COUNT(*) FROM downloads"], capture_output=True, text=True,
                            timeout=60)
    assert served.stdout == "2\n", served.stderr


def test_the_same_database_twice_is_refused(source, tmp_path):
    r = fetchgate("migrate-data", "--from", source, "--to", source, run_dir=tmp_path / "run")
    assert r.returncode == 1
    assert r.stderr == "fetchgate: migrate-data: --from and --to name the same database\n"
