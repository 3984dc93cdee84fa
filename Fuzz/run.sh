#!/usr/bin/env bash
# Build one libFuzzer harness and run it for a while, or for a number of executions, on a scratch
# copy of its corpus.
#
#   Fuzz/run.sh TARGET SECONDS|runs=N [extra libFuzzer flags...]
#   e.g. Fuzz/run.sh FuzzXML 60          (a minute)
#        Fuzz/run.sh all runs=10000000   (10 M executions of each target: make fuzz)
#
# The last lines of each run are libFuzzer's final stats (stat::number_of_executed_units,
# stat::average_exec_per_sec) and one summary line: "run.sh: TARGET: N runs, S s, R exec/s".
#
# TARGET is one of TARGETS below (or all). The checked-in corpus under
# Fuzz/Corpus/TARGET is copied to a temporary directory first, so new inputs the
# fuzzer finds never change the repository. Crash/timeout reproducers are written
# to Fuzz/.build/artifacts/TARGET/ (ignored by git). Exits non-zero if the fuzzer
# finds a crash, leak, timeout or out-of-memory, or if the build fails.
set -euo pipefail

# Every harness in Package.swift, once.
TARGETS="FuzzXML FuzzForm FuzzMultipart FuzzHeaders FuzzProxyHead FuzzJSON FuzzYTDLP FuzzJobOptions FuzzSecretBox FuzzSecrets FuzzAccept FuzzStorageURL FuzzPostgresSQL FuzzBasic FuzzSignedURL FuzzRange FuzzFilename FuzzProbe"

usage() { echo "usage: $0 ${TARGETS// /|}|all SECONDS|runs=N [libFuzzer flags...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
if [ "$1" = all ]; then
    seconds=$2; shift 2
    for t in $TARGETS; do "$0" "$t" "$seconds" "$@"; done
    exit 0
fi
target=$1
seconds=$2
shift 2
case " $TARGETS " in *" $target "*) ;; *) usage ;; esac
case "$seconds" in
runs=[0-9]*) [[ "${seconds#runs=}" != *[!0-9]* ]] || usage; budget=(-runs="${seconds#runs=}") ;;
''|*[!0-9]*) usage ;;
*) budget=(-max_total_time="$seconds") ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

# Keep tools-version 5.4 in Package.swift and -parse-as-library here: libFuzzer
# supplies main(), the harness only defines LLVMFuzzerTestOneInput.
flags=(-c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
swift build "${flags[@]}" --product "$target"
binary="$(swift build "${flags[@]}" --show-bin-path)/$target"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/corpus"
if [ -d "Corpus/$target" ]; then
    cp -R "Corpus/$target/." "$scratch/corpus/"
fi
# With FUZZ_LIMITS=1 (make fuzz), inputs at the parsers' real limits are added, made here
# rather than checked in: a form body of exactly FormParser.maxPairs pairs and one pair
# more, a 10,000-item form order, and XML orders just under and just over
# XMLReader.maxBytes; max_len lets the fuzzer keep them. They run slowly (a second each
# under ASan), so the short runs of `make test` fuzz the same edges with small limits.
max_len=65536
case "${FUZZ_LIMITS:-0}:$target" in
1:FuzzForm)
    max_len=400000
    python3 - "$scratch/corpus" <<'PY'
import sys
d = sys.argv[1]
for n in (19999, 20000, 20001):
    open(f"{d}/pairs-{n}", "w").write("&".join(f"a[]={i % 10}" for i in range(n)))
items = "&".join(f"order[order_items][][sku]=S{i}" for i in range(10000))
open(f"{d}/order-10000", "w").write("order[id]=X&" + items + "&order[email]=a@b.c")
PY
    ;;
1:FuzzXML)
    max_len=1100000
    python3 - "$scratch/corpus" <<'PY'
import sys
d = sys.argv[1]
def order(n):
    items = "".join(f"<order_item><sku>S{i}</sku></order_item>" for i in range(n))
    return f'<?xml version="1.0" encoding="UTF-8"?><order><id>X</id><order_items type="array">{items}</order_items></order>'
open(f"{d}/order-10000", "w").write(order(10000))
under = order(1)
pad = (1 << 20) - len(under) - len("<!---->")
open(f"{d}/just-under-limit", "w").write(under.replace("<order>", "<order><!--" + "x" * pad + "-->", 1))
open(f"{d}/just-over-limit", "w").write(under.replace("<order>", "<order><!--" + "x" * (pad + 1) + "-->", 1))
PY
    ;;
esac

artifacts="$here/.build/artifacts/$target"
mkdir -p "$artifacts"

status=0
began=$(date +%s.%N)
set +e
"$binary" "${budget[@]}" -max_len="$max_len" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@" "$scratch/corpus" 2>&1 | tee "$scratch/log" >&2
status=${PIPESTATUS[0]}
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/log" | tail -1)
took=$(python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.0f}')" "$began")
echo "run.sh: $target: ${runs:-?} runs, $took s, $(sed -n 's/^stat::average_exec_per_sec: *//p' "$scratch/log" | tail -1) exec/s" >&2
if [ "$status" -ne 0 ]; then
    echo "run.sh: $target failed (exit $status); reproducers in $artifacts" >&2
    ls -l "$artifacts" >&2 || true
fi
exit "$status"
