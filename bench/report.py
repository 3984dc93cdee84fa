"""The one table of `make bench`: ROW lines (bench/lib.sh) in, a fixed-width table on the terminal
and bench/results.md (machine, date, commit, command, the table, the goals missed) out.

    python3 bench/report.py ROWS_FILE RESULTS_MD  (BENCH_QUICK=1 marks a quick run)"""
import datetime
import os
import platform
import re
import subprocess
import sys

COLUMNS = ["section", "measurement", "figure", "baseline", "ratio", "goal", "verdict"]

DELIVERY_1MIB = ("at 1 MiB every request still costs a FastCGI round trip on 2 cores shared with nginx's copy and wrk, against "
        "nginx static's sendfile alone. It is not only the counted write (one SQLite write transaction: about 13 "
        "pwrite, 11 pread and 6 fcntl per request): the Downloader's file, the same X-Accel-Redirect with no write, "
        "misses by as much. The FastCGI pool does not lift it at the default threads (T=4, K=1), and at T=65 (K=32) "
        "lifts /get by 5 %. At 100 MiB the round trip vanishes in the copy: met")

# What is known about goals that miss: (section, start of the measurement) → why.
KNOWN = [
    ("reads", "store", "measured with perf on store-api during the store read (8 s, 7,654 samples): 41 % of its CPU is "
                       "the kernel (a new unix-socket connection per request: accept, read, write, shutdown, close, and "
                       "the context switches of 4 threads on 2 cores shared with nginx and wrk), 27 % the request itself "
                       "(the read transaction with authentication 7 %, the item and its downloads 10.5 %, SQLite's "
                       "fcntl locks 3 %, XML 5.5 %), the rest libfcgi, parameter copies and the allocator. The C "
                       "hello-world pays the same connection cost but none of the work: the lever left is FastCGI "
                       "connection reuse (bench/delivery.sh's part), then fewer allocations per request"),
    ("reads", "downloader", "the downloader list is the newest 1,000 downloads in one JSON array (the seed has no paging): "
                            "it renders 1,000 objects per request against the hello-world's one line"),
    ("pagination", "fetch GET /fetch?page=20000", "the middle page is the dearest by construction: half the list is "
                                                  "stepped over whichever end it is read from (OFFSET is O(offset) on both "
                                                  "engines), on top of the COUNT(*) every page of this list pays for its total"),
    ("pagination", "fetch GET /fetch?page=200", "the middle page is the dearest by construction: half the list is "
                                                "stepped over whichever end it is read from (OFFSET is O(offset) on both "
                                                "engines), on top of the COUNT(*) every page of this list pays for its total"),
    ("queue", "the queue's own cost", "measured against yt-dlp and ffprobe by hand (the probe is a fetch's work): what "
                                      "remains is the egress guard started in front of yt-dlp, the claim, progress and "
                                      "completing writes (six round trips per job), the file moved into storage and the "
                                      "fetch's announcement; not broken down further"),
    ("queue", "POST /fetch of a", "a fetch adds ffprobe, the egress guard in front of yt-dlp (every byte passes through "
                                  "it) and the move into storage to the bare download; the ratio moves between runs "
                                  "(1.14 in an earlier run of the same code on a busy machine)"),
    ("downloads", "store counted /get/GUID 1MiB", DELIVERY_1MIB),
    ("downloads", "Downloader /api/download/ID/file 1MiB", DELIVERY_1MIB),
    ("limits", "store read / C hello-world", "the pool saves the connection's cost on both sides, and the hello-world, "
                                             "which does nothing else, gains more; at T=65 the store read loses "
                                             "(65 threads on 2 cores contend for the CPU and SQLite's locks), so more "
                                             "threads are not the lever"),
]


def parse(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "ROW" and len(parts) == 8:
                rows.append(parts[1:])
    return rows


def command(*argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine():
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1048576:.1f} GiB"
                break
    nginx = re.sub(r"^nginx version: ", "", command("nginx", "-v"))
    sqlite = command("sqlite3", "--version").split(" ")[0]
    pg_bin = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
    postgres = command(os.path.join(pg_bin, "postgres"), "--version")
    return [("cores (nproc)", str(os.cpu_count())), ("CPU", cpu), ("memory", mem),
            ("kernel", platform.release()), ("load average (1 min) at the start and at the end",
             f"{os.environ.get('BENCH_LOAD_START', '?')}, {open('/proc/loadavg').read().split()[0]}"), ("nginx", nginx), ("SQLite", sqlite), ("PostgreSQL", postgres)]


def busy():
    """A warning when other work loaded the machine at the start (a 1-minute load above its cores)."""
    try:
        load = float(os.environ.get("BENCH_LOAD_START", ""))
    except ValueError:
        return []
    if load <= (os.cpu_count() or 1):
        return []
    return ["", f"**The machine was busy with other work (load {load:.1f} on {os.cpu_count()} cores at the start):** "
                "absolute figures are low and noisy, and even ratios of back-to-back figures move by tens of percent "
                "between runs; rerun on a quiet machine before quoting them."]


def terminal_table(rows):
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(COLUMNS)]
    line = "  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    return "\n".join(out)


def markdown_table(rows):
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        out.append("| " + " | ".join(v.replace("|", "\\|") for v in r) + " |")
    return "\n".join(out)


def why(row):
    for section, start, text in KNOWN:
        if row[0] == section and row[1].startswith(start):
            return text
    return "not analysed yet"


def main():
    rows = parse(sys.argv[1])
    print(terminal_table(rows))
    quick = os.environ.get("BENCH_QUICK") == "1"
    commit = command("git", "rev-parse", "--short", "HEAD")
    dirty = " (with uncommitted changes)" if command("git", "status", "--porcelain", "--untracked-files=no") else ""
    doc = ["# Benchmark results", "",
           f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
           f"- commit: {commit}{dirty}",
           "- command: `BENCH_QUICK=1 make bench` (a QUICK run: fewer seconds, 1 K / 10 K rows instead of 1 M)" if quick
           else "- command: `make bench`",
           f"- wrk: 2 threads, {os.environ.get('BENCH_CONNECTIONS', '64')} connections, "
           f"{os.environ.get('BENCH_SECONDS', '8')} s per figure",
           ] + [f"- {k}: {v}" for k, v in machine()] + [
           "", "Every ratio is of two figures measured in the same run on the same machine, through the same nginx.",
           "The load generator, nginx and the app share the machine's cores."] + busy() + ["",
           markdown_table(rows), "", "## Goals missed and why", ""]
    missed = [r for r in rows if r[6] == "missed"]
    if not missed:
        doc.append("None.")
    for r in missed:
        doc.append(f"- **{r[0]}: {r[1]}** ({r[4]}, goal {r[5]}): {why(r)}.")
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(doc) + "\n")


if __name__ == "__main__":
    main()
