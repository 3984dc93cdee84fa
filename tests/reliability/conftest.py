"""Harness of the reliability suite (issue 14): tests/integration's fixtures and helpers, reused.

tests/integration/conftest.py is loaded here under its own module name and every fixture and
helper it defines is re-exported (pytest finds fixtures among a conftest's attributes), so a test
here imports from `conftest` exactly as an integration test does, and `support.*` is importable.
Nothing of the Server helpers is copied.

The one knob: FETCHGATE_RELIABILITY=short|full (default short). `make reliability` runs `full`
(bounded: at most 15 min on a 2-core machine); the SQLite leg of `make integration` runs `short`.
`budget(short, full)` picks the figure of the run. Figures a test measured are recorded with the
`figures` fixture: printed in the terminal summary, and appended as JSON lines to
FETCHGATE_RELIABILITY_REPORT when that names a file (what RELIABILITY.md quotes).
"""
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
if str(INTEGRATION) not in sys.path:
    sys.path.insert(0, str(INTEGRATION))

_spec = importlib.util.spec_from_file_location("fetchgate_integration_conftest", INTEGRATION / "conftest.py")
_integration = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _integration
_spec.loader.exec_module(_integration)
# Every fixture and helper, not its hooks (the integration conftest's hooks stay its own).
globals().update({name: value for name, value in vars(_integration).items()
                  if not name.startswith(("pytest_", "__"))})

from support.fetch import fetch_serve_options  # noqa: E402

MODE = os.environ.get("FETCHGATE_RELIABILITY", "short")
assert MODE in ("short", "full"), f"FETCHGATE_RELIABILITY={MODE!r}: expected short or full"
FULL = MODE == "full"


def budget(short, full):
    """The figure of this run's mode (a duration, a count)."""
    return full if FULL else short


# --------------------------------------------------------------------------- figures

_FIGURES = []


class Figures:
    """What a test measured, by name: `figures.record("kill9", max_gap_s=0.41, kills=30)`."""

    def record(self, check, **values):
        entry = {"check": check, "mode": MODE, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **values}
        _FIGURES.append(entry)
        path = os.environ.get("FETCHGATE_RELIABILITY_REPORT")
        if path:
            with open(path, "a") as out:
                out.write(json.dumps(entry, sort_keys=True) + "\n")
        return entry


@pytest.fixture(scope="session")
def figures():
    return Figures()


def pytest_terminal_summary(terminalreporter):
    if not _FIGURES:
        return
    terminalreporter.section(f"reliability figures (FETCHGATE_RELIABILITY={MODE})")
    for entry in _FIGURES:
        values = ", ".join(f"{k}={v}" for k, v in entry.items() if k not in ("check", "mode", "at"))
        terminalreporter.write_line(f"{entry['check']}: {values}")


# --------------------------------------------------------------------------- the suite's stack

@pytest.fixture(scope="session")
def reliability_server(tmp_path_factory):
    """One stack of every dialect for the load and kill checks: the fetch stack's options (private
    `localhost` for the media origin, the Downloader account, 5 s job leases, fast webhook retries)."""
    with _integration.running_server(tmp_path_factory, "fetchgate-reliability", fetch_serve_options()) as srv:
        yield srv
