"""Runs schemathesis against a Fetchgate stack of its own, inside a network namespace where only
loopback is up. test_openapi_conformance.py starts it as

    unshare --net -- sh -c 'ip link set lo up && exec python support/openapi_conformance.py …'

so every URL schemathesis makes up (imports, fetches, webhooks, bucket endpoints, metadata pages)
can reach nothing but 127.0.0.1. Before anything starts, the script proves it (without sending a
packet): loopback must be the only interface and a route lookup for a public address must fail with
ENETUNREACH, else it exits 3 without running anything.

It starts `fetchgate serve` on free loopback ports (support/server.py), creates an account with
the admin CLI, runs `schemathesis run` on the given document against the media server with that
account's token in `X-API-KEY`, prints schemathesis's report and exits with its status (0: no
failure found). Extra arguments after `--` go to schemathesis as they are.
"""
import argparse
import errno
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, its own directory (support/, whose http.py would shadow the standard library's) must not be on the path.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from support.server import REPO, Server  # noqa: E402

SCHEMATHESIS = REPO / ".venv" / "bin" / "schemathesis"
SEALED_EXIT = 3
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"


def network_is_sealed():
    """True when the only network interface is loopback and no route leads to a public address.
    Sends nothing: a UDP socket's connect only looks the route up (ENETUNREACH when there is none)."""
    if [name for _, name in socket.if_nameindex()] != ["lo"]:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1
        except OSError as e:
            return e.errno == errno.ENETUNREACH
    return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--schema", required=True, help="the OpenAPI document (a file)")
    parser.add_argument("--max-examples", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("schemathesis_args", nargs="*")
    args = parser.parse_args()

    if not network_is_sealed():
        print("REFUSED: this namespace can reach a public address; run me under `unshare --net` with only lo up",
              file=sys.stderr)
        return SEALED_EXIT
    print("sealed: only lo is up; 192.0.2.1 unreachable (ENETUNREACH)", flush=True)

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="openapi-conformance-"))
    workdir.mkdir(parents=True, exist_ok=True)
    server = Server(workdir / "run")
    started = time.monotonic()
    server.start()
    try:
        account = server.create_account("Conformance")
        command = [str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", args.schema, "--url", server.media_url,
                   "--header", f"X-API-KEY: {account.token}", "--auth", f"{account.key}:{account.token}",
                   "--checks", "all", "--max-examples", str(args.max_examples), "--seed", str(args.seed),
                   "--workers", "1", "--request-timeout", "20", "--no-shrink",
                   *args.schemathesis_args]
        print("$ " + " ".join(command).replace(account.token, "<token>").replace(account.key, "<key>"), flush=True)
        env = dict(os.environ, NO_COLOR="1", SCHEMATHESIS_HOOKS="")
        run = subprocess.run(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL)
        print(f"schemathesis exited {run.returncode} after {time.monotonic() - started:.0f}s (stack start included)", flush=True)
        return run.returncode
    finally:
        server.stop(check=False)
        if server.proc.returncode not in (0, None):
            print(server.logs(), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
