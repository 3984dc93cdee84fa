"""Harness of the reliability suite (issue 14): tests/integration's fixtures and helpers, reused.

tests/integration/conftest.py is loaded here under its own module name and every fixture and
helper it defines is re-exported (pytest finds fixtures among a conftest's attributes), so a test
here imports from `conftest` exactly as an integration test does, and `support.*` is importable.
Nothing of the Server helpers is copied. The suite's own test modules import helpers from
`support.*` and `reliability` (the knob FETCHGATE_RELIABILITY=short|full, `budget`, figures), not
from `conftest`: given tests/integration and tests/reliability in one run, pytest may leave either
directory's conftest as the module `conftest`. `make reliability` runs `full` (bounded: at most
15 min on a 2-core machine); the SQLite leg of `make integration` runs `short`. The `figures`
fixture records what a test measured (printed in the terminal summary; see reliability.py).
"""
import importlib.util
import sys
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reliability import FIGURES, MODE, Figures  # noqa: E402


@pytest.fixture(scope="session")
def figures():
    return Figures()


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section(f"reliability figures (FETCHGATE_RELIABILITY={MODE})")
    for entry in FIGURES:
        values = ", ".join(f"{k}={v}" for k, v in entry.items() if k not in ("check", "mode", "at"))
        terminalreporter.write_line(f"{entry['check']}: {values}")


# --------------------------------------------------------------------------- the suite's stack

@pytest.fixture(scope="module")
def reliability_server(tmp_path_factory):
    """A stack of every dialect for one module's checks (its own: the kill test's backlog of probes and
    fetches does not slow the mixed load): the fetch stack's options (private `localhost` for the media
    origin, the Downloader account, 5 s job leases, fast webhook retries)."""
    with _integration.running_server(tmp_path_factory, "fetchgate-reliability", fetch_serve_options()) as srv:
        yield srv
