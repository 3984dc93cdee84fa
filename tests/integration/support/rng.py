"""The one generator every randomized test uses (the Swift tests' TestRNG has the same contract).

A run has one seed: FETCHGATE_TEST_SEED when set, otherwise a fresh one, shown in pytest's
header. Each test draws from its own `random.Random`, seeded from the run's seed and the test's
id, so a test replays alone and in any order. A failing test that used it reports the seed and
the command that replays it.
"""
import os
import random

SEED_VARIABLE = "FETCHGATE_TEST_SEED"


def _run_seed():
    text = os.environ.get(SEED_VARIABLE, "").strip()
    if text:
        return int(text, 0)
    return random.SystemRandom().getrandbits(48)


RUN_SEED = _run_seed()


class TestRandom(random.Random):
    """`random.Random` whose `randbytes` stays fast for uploads of tens of megabytes."""

    BLOCK = 1 << 20

    def randbytes(self, n):
        if n <= self.BLOCK:
            return super().randbytes(n)
        # Megabyte blocks, each the same random block turned by a random offset: bytes that
        # differ block by block (a reordered or repeated block shows), at memcpy speed.
        base = super().randbytes(self.BLOCK)
        blocks = []
        for _ in range(n // self.BLOCK + 1):
            turn = self.randrange(self.BLOCK)
            blocks.append(base[turn:] + base[:turn])
        return b"".join(blocks)[:n]


def rng_for(test_id, stream=0):
    """The generator of one test (`stream` tells apart several in one test)."""
    return TestRandom(f"{RUN_SEED}:{test_id}:{stream}")


def replay_hint(test_id):
    return f"{SEED_VARIABLE}={RUN_SEED} python3 -m pytest -q '{test_id}'"
