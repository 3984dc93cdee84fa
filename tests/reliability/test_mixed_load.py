"""Mixed load (issue 14): reads, writes, uploads, counted downloads, signed downloads and media
fetches across all five dialects at once on one stack (300 s full, 20 s short), then the database:
zero 5xx, every acknowledged write present exactly once, no unacknowledged write more than once,
every acknowledged fetch done exactly once, no stored-file row without its bytes, integrity_check ok.
"""
import collections

from reliability import budget
from mixedload import MixedLoad

SECONDS = budget(20, 300)
THREADS = 6
FETCH_EVERY = budget(3.0, 6.0)  # seconds between fetch creations (fetch, jobs, downloader in turn)


def test_mixed_load_loses_and_duplicates_nothing(reliability_server, media_origin, figures):
    load = MixedLoad(reliability_server, media_origin)
    records = load.run(SECONDS, threads=THREADS, fetch_every=FETCH_EVERY)
    statuses = load.statuses()
    server_errors = [r for r in records if r.status is not None and r.status >= 500]
    assert not server_errors, (f"{len(server_errors)} 5xx replies: {collections.Counter(map(repr, server_errors))}\n"
                               f"{reliability_server.logs()}")
    failures = load.failures()
    assert not failures, f"requests that did not get their expected reply: {collections.Counter(map(repr, failures))}"
    problems, counts, fetches = load.check_database()
    assert not problems, "\n".join(problems[:50])
    elapsed = max(r.ended for r in records) - min(r.started for r in records)
    by_dialect = collections.Counter(r.dialect for r in records)
    latencies = sorted(r.ended - r.started for r in records if not r.op.endswith("_create"))
    figures.record("mixed_load", seconds=round(elapsed, 1), requests=len(records),
                   rps=round(len(records) / elapsed, 1), five_xx=0,
                   p50_ms=round(latencies[len(latencies) // 2] * 1000, 1),
                   p99_ms=round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
                   writes_acked={op: a for op, (a, _) in counts.items()},
                   fetches_done=len(fetches), per_dialect=dict(by_dialect),
                   statuses={f"{op} {s}": n for (op, s), n in sorted(statuses.items())})
    assert all(counts[op][0] > 0 for op in counts), f"every kind of write was made: {counts}"
