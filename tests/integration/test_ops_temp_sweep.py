"""Stray temp files (issue 8): a process killed mid-upload leaves its copy in data/tmp (and a killed
nginx its body buffer); `fetchgate serve` removes such files once they are older than
--temp-max-age (an hour) at start and every --temp-sweep-interval (an hour). Younger files, which
may belong to uploads in flight, stay.

Also: `serve` refuses options it does not know, and malformed numbers, with exit status 2.
"""
import os
import subprocess
import time

import pytest
import requests

from conftest import FETCHGATE, HTTP_TIMEOUT, Server, wait_for


def plant(path, age_seconds, content=b"leftover"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    when = time.time() - age_seconds
    os.utime(path, (when, when))
    return path


def test_serve_removes_temp_files_older_than_an_hour_at_start(tmp_path):
    run = tmp_path / "run"
    data_tmp = run / "data" / "tmp"
    old = [plant(data_tmp / "upload-killed.part", 2 * 3600),           # an app's copy (kill -9 mid-upload)
           plant(data_tmp / "body" / "0000000007", 3700),              # nginx's upload body buffer
           plant(run / "nginx-temp" / "body" / "0000000003", 5 * 3600)]  # nginx's other body buffers
    young = [plant(data_tmp / "upload-in-flight.part", 3500),
             plant(data_tmp / "body" / "0000000008", 10),
             plant(run / "nginx-temp" / "fastcgi" / "0000000004", 0)]
    srv = Server(run)
    srv.start()
    try:
        gone = [str(p) for p in old if p.exists()]
        assert not gone, f"old temp files left after start: {gone}"
        missing = [str(p) for p in young if not p.exists()]
        assert not missing, f"files younger than an hour were removed: {missing}"
        # The directories themselves stay: nginx and the apps write into them.
        assert (data_tmp / "body").is_dir() and (run / "nginx-temp" / "body").is_dir()
        assert "removed 3 stray temp files older than 3600 s" in srv.out_path.read_text()
        # And it serves.
        assert requests.get(srv.store_url + "/api/account", auth=(srv.demo_key, srv.demo_token),
                            timeout=HTTP_TIMEOUT).status_code == 200
    finally:
        srv.stop()
    assert srv.proc.returncode == 0


def test_serve_sweeps_again_every_interval(tmp_path):
    run = tmp_path / "run"
    srv = Server(run, extra_args=["--temp-max-age", "30", "--temp-sweep-interval", "1"])
    srv.start()
    try:
        data_tmp = run / "data" / "tmp"
        for round_ in range(2):
            stale = plant(data_tmp / f"stale-{round_}.part", 60)
            stale_body = plant(data_tmp / "body" / f"000000010{round_}", 45)
            fresh = plant(data_tmp / f"fresh-{round_}.part", 5)
            wait_for(lambda: not stale.exists() and not stale_body.exists(), timeout=5,
                     what=f"sweep round {round_} to remove files older than 30 s")
            assert fresh.exists(), "a file younger than --temp-max-age was removed"
        # An upload in flight meanwhile is untouched: its buffer is young.
        r = requests.post(srv.store_url + "/api/uploads", auth=(srv.demo_key, srv.demo_token),
                          files={"file": ("sweep.bin", b"s" * 300000, "application/octet-stream")},
                          timeout=HTTP_TIMEOUT)
        assert r.status_code == 201, r.text[:300]
    finally:
        srv.stop()
    assert srv.proc.returncode == 0


@pytest.mark.parametrize("args,named", [
    (["--no-such-option", "1"], "--no-such-option"),
    (["--store-prot", "8081"], "--store-prot"),
    (["--temp-max-age", "soon"], "--temp-max-age"),
    (["--temp-max-age", "0"], "--temp-max-age"),
    (["--temp-sweep-interval", "-5"], "--temp-sweep-interval"),
    (["--store-port", "80x"], "--store-port"),
    (["--media-port", "70000"], "--media-port"),
    (["stray-word"], "stray-word"),
    # Values serve hands to the dialects: refused here, not by a dialect restarted for good.
    (["--threads", "abc"], "--threads"),
    (["--threads", "5000"], "--threads"),
    (["--link-seconds", "0"], "--link-seconds"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_serve_refuses_bad_options_with_status_2(tmp_path, args, named):
    run = tmp_path / "run"
    r = subprocess.run([str(FETCHGATE), "serve", "--run-dir", str(run), *args],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert named in r.stderr.splitlines()[0], r.stderr
    assert "usage: fetchgate" in r.stderr
    assert not run.exists(), "a refused command line must start nothing"
