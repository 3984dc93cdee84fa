# Helpers every bench script sources (bench/run.sh, bench/delivery.sh). Results are ROW lines on stdout:
#   ROW<TAB>section<TAB>measurement<TAB>figure<TAB>baseline<TAB>ratio<TAB>goal<TAB>verdict
# (figure and baseline human text with units, ratio a decimal or "-", goal such as ">= 0.8" or "-",
# verdict met / missed / -). Any other stdout line is free-form log.
BENCH_SECONDS=${BENCH_SECONDS:-8}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-64}

# row SECTION MEASUREMENT FIGURE BASELINE RATIO GOAL VERDICT: one result line (also appended to
# $BENCH_ROWS when that names a file).
row() {
  [ $# -eq 7 ] || { echo "row: 7 fields, not $#: $*" >&2; return 2; }
  local line
  line=$(printf 'ROW\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$@")
  printf '%s\n' "$line"
  if [ -n "${BENCH_ROWS:-}" ]; then printf '%s\n' "$line" >>"$BENCH_ROWS"; fi
}

# A free TCP port on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# rps URL [HEADER]: requests per second of wrk (BENCH_SECONDS, BENCH_CONNECTIONS, 2 threads): an integer, one
# decimal below 100.
# Any reply other than 2xx/3xx, or a socket error, fails (non-zero exit, wrk's report on stderr). A reply
# may take up to 60 s (wrk's default of 2 s counts a slow list under 64 connections as a socket error).
rps() {
  local out
  if [ $# -gt 1 ]; then
    out=$(wrk -t2 -c"$BENCH_CONNECTIONS" -d"${BENCH_SECONDS}s" --timeout 60s -H "$2" "$1")
  else
    out=$(wrk -t2 -c"$BENCH_CONNECTIONS" -d"${BENCH_SECONDS}s" --timeout 60s "$1")
  fi
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
    { echo "rps $1: unexpected replies or socket errors"; echo "$out"; } >&2
    return 1
  fi
  awk '/Requests\/sec/ {printf($2 < 100 ? "%.1f\n" : "%.0f\n", $2)}' <<<"$out"
}

# Wall clock in seconds (decimal), and the seconds between two of its readings (3 places).
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f\n", b - a}'; }

# ratio A B [PLACES]: A / B with 2 places (or PLACES); "-" when B is 0 or empty.
ratio() { awk -v a="$1" -v b="$2" -v p="${3:-2}" 'BEGIN {if (b + 0 == 0) print "-"; else printf "%.*f\n", p, a / b}'; }

# verdict VALUE OP LIMIT: "met" or "missed" (OP one of >= > <= <).
verdict() {
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
    if (v == "-" || v == "") { print "-"; exit }
    ok = (op == ">=" && v + 0 >= l + 0) || (op == ">" && v + 0 > l + 0) || (op == "<=" && v + 0 <= l + 0) || (op == "<" && v + 0 < l + 0)
    print (ok ? "met" : "missed") }'
}
