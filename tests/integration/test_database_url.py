"""The store is opened from a URL: `--database-url sqlite:PATH` (or `--database PATH`) reaches every
process `fetchgate serve` starts, and the CLI (given it, or following the one serve last used); a URL
naming no engine of this build is refused."""
import re
import subprocess

from conftest import FETCHGATE, Server, StoreClient


def _argv(pattern):
    r = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True)
    return r.stdout


def test_serve_and_cli_use_the_database_url(tmp_path):
    db = tmp_path / "elsewhere" / "store.sqlite"
    url = f"sqlite:{db}"
    run = tmp_path / "run"
    server = Server(run, extra_args=["--database-url", url])
    server.start()
    try:
        for app in ("store-api", "files-api", "worker"):
            line = _argv(f"{app} .*--database-url {url} ")
            assert line.count("\n") == 1, f"{app} was not given the URL: {_argv(app)!r}"
        demo = StoreClient(server.store_url, server.demo_key, server.demo_token)
        assert demo.get("/api/account").status_code == 200
        r = subprocess.run([str(FETCHGATE), "account", "create", "--name", "ByURL", "--run-dir", str(run),
                            "--database-url", url], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        key, token = Server.parse_key_token(r.stdout)
        # The account the CLI made through the URL is the one the running store sees.
        assert StoreClient(server.store_url, key, token).get("/api/account").status_code == 200
        # Without a database option, a command follows the database serve last started with (recorded 0600).
        served = run / "database-url"
        assert served.read_text() == url + "\n" and served.stat().st_mode & 0o777 == 0o600
        r = subprocess.run([str(FETCHGATE), "account", "create", "--name", "Followed", "--run-dir", str(run)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        key, token = Server.parse_key_token(r.stdout)
        assert StoreClient(server.store_url, key, token).get("/api/account").status_code == 200
        assert db.is_file()
        assert not (run / "fetchgate.sqlite").exists()
    finally:
        server.stop()


def test_unknown_database_url_is_refused_by_name(tmp_path):
    r = subprocess.run([str(FETCHGATE), "migrate", "--database-url", "postgres://127.0.0.1/fetchgate",
                        "--run-dir", str(tmp_path / "run")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "unsupported database URL 'postgres://127.0.0.1/fetchgate'" in r.stderr


def test_database_path_is_an_sqlite_url(tmp_path):
    db = tmp_path / "by-path" / "f.sqlite"
    r = subprocess.run([str(FETCHGATE), "migrate", "--database", str(db), "--run-dir", str(tmp_path / "run")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    # A fresh file: every migration is applied now, the last one is the version.
    version, applied = re.match(r"schema at version (\d+); applied now: ([\d, ]+)\n", r.stdout).groups()
    assert applied.split(", ")[0] == "1" and applied.split(", ")[-1] == version, r.stdout
    assert db.is_file()
