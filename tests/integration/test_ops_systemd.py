"""deploy/fetchgate.service (issue 8, "Supervision").

systemd does not run on these machines, so the unit is checked in three ways:
- `systemd-analyze verify` on a staged root holding the unit and the binary where it expects them;
- its ExecStart line, expanded the way systemd expands it (Environment=, then EnvironmentFile=,
  `${VAR}` as one word, `$VAR` split into words), run as it stands with only the install path of the
  binary, the environment file and the working directory swapped for test ones, under the unit's
  NoNewPrivileges= and CapabilityBoundingSet= (through setpriv): it must serve, and stop whole on
  the KillSignal= sent the way its KillMode= sends it;
- a kill -9 of that process, cleaned up the way systemd's KillMode= and Restart= would, is
  followed by a clean start of the same command line.
"""
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import BIN_DIR, HTTP_TIMEOUT, REPO, LoopbackPorts, both_dialects_answer, free_port

UNIT = REPO / "deploy" / "fetchgate.service"
INSTALLED_BIN = "/opt/fetchgate/.build/release"  # where the unit expects the checkout's build
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def parse_unit(path):
    """{section: [(key, value), ...]} in file order (systemd keys may repeat)."""
    sections, current = {}, None
    logical = ""
    for line in path.read_text().splitlines():
        if logical:
            line = logical + " " + line.strip()
            logical = ""
        stripped = line.strip()
        if stripped.endswith("\\"):
            logical = stripped[:-1]
            continue
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1], [])
            continue
        key, _, value = stripped.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def values(section, key):
    return [v for k, v in section if k == key]


def one(section, key):
    found = values(section, key)
    assert len(found) == 1, f"{key}= should appear once in the unit, found {found}"
    return found[0]


def read_environment_file(path):
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def expand_exec(line, env):
    """systemd's ExecStart expansion: words first; a word that is exactly $VAR becomes the value's
    whitespace-separated words; ${VAR} is replaced inside its word."""
    argv = []
    for word in shlex.split(line):
        whole = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if whole:
            argv.extend(env.get(whole.group(1), "").split())
            continue
        expanded = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), word)
        assert "$" not in expanded, f"unsupported expansion in ExecStart word {word!r}"
        argv.append(expanded)
    return argv


def descendants(pid):
    """pids of every process below `pid` (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_of(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


class UnitRun(LoopbackPorts):
    """The unit's ExecStart, as systemd would run it, in a temp run directory on free ports."""

    def __init__(self, tmp_path):
        self.unit = parse_unit(UNIT)
        self.service = self.unit["Service"]
        self.tmp = tmp_path
        self.run_dir = tmp_path / "state"
        self.store_port = free_port()
        self.media_port = free_port()
        while self.media_port == self.store_port:
            self.media_port = free_port()
        # The deployment's /etc/fetchgate/fetchgate.env, written by the test.
        self.env_file = tmp_path / "fetchgate.env"
        self.env_file.write_text(
            f"FETCHGATE_RUN_DIR={self.run_dir}\nFETCHGATE_LISTEN=127.0.0.1\n"
            f"FETCHGATE_STORE_PORT={self.store_port}\nFETCHGATE_MEDIA_PORT={self.media_port}\n"
            f"# two more options: the variable splits into words\nFETCHGATE_OPTIONS=--temp-sweep-interval 600\n")
        self.workdir = tmp_path / "workdir"
        self.workdir.mkdir()
        self.proc = None

    def environment(self):
        env = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8"}
        for assignment in values(self.service, "Environment"):
            for item in shlex.split(assignment):
                key, _, value = item.partition("=")
                env[key] = value
        files = values(self.service, "EnvironmentFile")
        assert files == ["-/etc/fetchgate/fetchgate.env"], files
        env.update(read_environment_file(self.env_file))
        return env

    def argv(self):
        argv = expand_exec(one(self.service, "ExecStart"), self.environment())
        assert argv[0] == INSTALLED_BIN + "/fetchgate", argv[0]
        argv[0] = str(BIN_DIR / "fetchgate")
        return argv

    def sandbox(self):
        """setpriv with the unit's NoNewPrivileges= and CapabilityBoundingSet=."""
        wrap = ["setpriv"]
        if one(self.service, "NoNewPrivileges") == "yes":
            wrap.append("--no-new-privs")
        caps = one(self.service, "CapabilityBoundingSet").split()
        assert caps and all(c.startswith("CAP_") for c in caps), caps
        wrap += ["--bounding-set", "-all," + ",".join("+" + c[4:].lower() for c in caps), "--"]
        return wrap

    def start(self):
        self.out = open(self.tmp / "journal.log", "ab")
        self.proc = subprocess.Popen(self.sandbox() + self.argv(), cwd=self.workdir, env=self.environment(),
                                     stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"ExecStart exited with {self.proc.returncode}:\n{self.journal()}"
            try:
                if both_dialects_answer(self.store_url, self.media_url) == (401, 401):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the unit's command line never served:\n{self.journal()}")

    def journal(self):
        text = (self.tmp / "journal.log").read_text(errors="replace")
        logs = self.run_dir / "logs"
        for p in sorted(logs.glob("*.log")) if logs.exists() else []:
            text += f"\n----- {p.name}\n" + p.read_text(errors="replace")[-3000:]
        return text[-8000:]

    def credentials(self):
        key, _, token = (self.run_dir / "demo-credentials").read_text().strip().partition(":")
        return key, token

    def cleanup(self, pids=()):
        """Whatever is left (after a failure): SIGKILL, as systemd's final kill of the cgroup."""
        for pid in list(pids) + ([self.proc.pid] if self.proc else []):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.out.close()


def test_unit_supervises_and_stops_the_way_systemd_runs_it(tmp_path):
    run = UnitRun(tmp_path)
    service = run.service
    assert one(service, "Restart") == "always"
    assert one(service, "KillMode") == "mixed"
    assert one(service, "KillSignal") == "SIGTERM"
    stop_timeout = float(one(service, "TimeoutStopSec"))
    run.start()
    tree = []
    try:
        key, token = run.credentials()
        assert requests.get(run.store_url + "/api/account", auth=(key, token), timeout=HTTP_TIMEOUT).status_code == 200
        r = requests.get(run.media_url + "/files", headers={"X-API-KEY": token}, timeout=HTTP_TIMEOUT)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
        # It ran under the unit's limits: no new privileges, only the bounding set's capabilities.
        status = Path(f"/proc/{run.proc.pid}/status").read_text()
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.M), status
        tree = descendants(run.proc.pid)
        commands = [command_of(p) for p in tree]
        for name in ("store-api", "files-api", "worker", "nginx: master", "nginx: worker"):
            assert any(name in c for c in commands), f"{name} is not running under the unit: {commands}"
        # The token went to the demo-credentials file, not to the journal (standard output).
        assert token not in (tmp_path / "journal.log").read_text()

        # KillMode=mixed: the KillSignal goes to the main process only; serve stops the rest itself.
        run.proc.send_signal(signal.SIGTERM)
        run.proc.wait(timeout=stop_timeout)
        assert run.proc.returncode == 0, run.journal()
        deadline = time.monotonic() + 5
        while any(alive(p) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [(p, command_of(p)) for p in tree if alive(p)]
        assert not left, f"processes left for systemd's final SIGKILL after serve stopped: {left}"
        with pytest.raises(requests.ConnectionError):
            requests.get(run.store_url + "/api/account", timeout=2)
    finally:
        run.cleanup(tree)


def test_unit_command_line_starts_clean_after_a_kill_9(tmp_path):
    """Restart=always after a crash: systemd (KillMode=mixed) SIGKILLs what is left in the cgroup,
    waits RestartSec and runs ExecStart again; the state directory must not stand in the way."""
    run = UnitRun(tmp_path)
    run.start()
    tree = descendants(run.proc.pid)
    try:
        key, token = run.credentials()
        r = requests.post(run.store_url + "/api/items/create", auth=(key, token),
                          data="<item><sku>SURVIVES</sku><name>Kept</name></item>",
                          headers={"Content-Type": "application/xml"}, timeout=HTTP_TIMEOUT)
        assert r.status_code == 201, r.text[:300]
        run.proc.kill()
        run.proc.wait(timeout=10)
        for pid in tree:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while any(alive(p) for p in tree) and time.monotonic() < deadline:
            time.sleep(0.05)
        run.out.close()
        time.sleep(float(one(run.service, "RestartSec")))

        run.start()
        tree = descendants(run.proc.pid)
        assert run.credentials() == (key, token)
        r = requests.get(run.store_url + "/api/items/SURVIVES", auth=(key, token), timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, r.text[:300]
        run.proc.send_signal(signal.SIGTERM)
        run.proc.wait(timeout=float(one(run.service, "TimeoutStopSec")))
        assert run.proc.returncode == 0, run.journal()
    finally:
        run.cleanup(tree)


def test_unit_passes_systemd_analyze_verify(tmp_path):
    """On a staged root: the unit in /etc/systemd/system, the binary where ExecStart names it, the
    system's own units for the targets it names. Any warning fails the test."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: install Debian's systemd package (make deps does)"
    root = tmp_path / "root"
    units = root / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    shutil.copy(UNIT, units / "fetchgate.service")
    installed = root / INSTALLED_BIN.lstrip("/")
    installed.mkdir(parents=True)
    shutil.copy(BIN_DIR / "fetchgate", installed / "fetchgate")
    system_units = Path("/lib/systemd/system")
    assert (system_units / "multi-user.target").exists(), "the system's unit files are missing"
    shutil.copytree(system_units, root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    r = subprocess.run([analyze, f"--root={root}", "verify", str(units / "fetchgate.service")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), \
        f"systemd-analyze verify: exit {r.returncode}\n{r.stdout}{r.stderr}"
