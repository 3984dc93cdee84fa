"""The reliability suite's knob and figures (a module of its own, not conftest: when pytest is given
tests/integration and tests/reliability in one run, `import conftest` can name either directory's).

FETCHGATE_RELIABILITY=short|full (default short): `budget(short, full)` picks the figure of the run.
`Figures.record` keeps what a test measured: printed in the terminal summary (conftest), and appended
as JSON lines to FETCHGATE_RELIABILITY_REPORT when that names a file (what RELIABILITY.md quotes).
"""
import json
import os
import time

MODE = os.environ.get("FETCHGATE_RELIABILITY", "short")
assert MODE in ("short", "full"), f"FETCHGATE_RELIABILITY={MODE!r}: expected short or full"
FULL = MODE == "full"


def budget(short, full):
    """The figure of this run's mode (a duration, a count)."""
    return full if FULL else short


FIGURES = []


class Figures:
    """What a test measured, by name: `figures.record("kill9", max_gap_s=0.41, kills=30)`."""

    def record(self, check, **values):
        entry = {"check": check, "mode": MODE, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **values}
        FIGURES.append(entry)
        path = os.environ.get("FETCHGATE_RELIABILITY_REPORT")
        if path:
            with open(path, "a") as out:
                out.write(json.dumps(entry, sort_keys=True) + "\n")
        return entry
