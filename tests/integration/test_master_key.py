"""The master key that seals bucket secrets: made by `fetchgate serve` on first start in the run
directory (32 random bytes, mode 0600) and handed to the worker (reading an existing key instead of
replacing it is covered by SecretBoxTests)."""
import os
import stat
import subprocess


def worker_argv(run_dir):
    """The command lines of this run's worker processes."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if words and words[0].endswith("/worker") and any(run_dir in w for w in words):
            found.append(words)
    return found


def test_serve_makes_the_master_key_once_with_mode_0600(server):
    path = os.path.join(str(server.run_dir), "master.key")
    info = os.stat(path)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_size == 32
    with open(path, "rb") as f:
        key = f.read()
    assert len(set(key)) > 8  # random bytes, not a constant
    workers = worker_argv(str(server.run_dir))
    assert len(workers) == 1, workers
    argv = workers[0]
    assert argv[argv.index("--master-key-file") + 1] == path
