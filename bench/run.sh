#!/usr/bin/env bash
# make bench: every figure a ratio of two measured in the same run, through one nginx; one table at the
# end (bench/report.py) and bench/results.md (machine, date, commit, command, the table, goals missed).
#
# Sections (ROW lines, bench/lib.sh):
#   downloads, upload, limits  bench/delivery.sh when it is there (its own stack, run first, on a quiet machine)
#   queue       POST /fetch of a 50 MiB mp4 to success | the same yt-dlp command by hand; the queue's own cost
#               per job (200 small fetches one at a time | yt-dlp by hand); a 1 GiB job into the account's own
#               bucket (moto, multipart)
#   reads       the five authenticated reads, one per dialect, each right after the C libfcgi hello-world behind
#               the same nginx, and against nginx `return 200`, at 1 K rows in its table
#   growth      the same five reads at 100 K and 1 M rows (rows written straight into SQLite), against 1 K
#   pagination  the fetch list (page numbers, per_page 25) over 1 M fetches: the last page (40,000) and the
#               middle one (20,000) against page 1; what COUNT(*) costs; a keyset page of the jobs list
#   postgres    the store read and the jobs list on PostgreSQL; the queue's claim rate with 1 and 2 worker nodes
# Knobs: BENCH_SECONDS (wrk seconds, 8), BENCH_CONNECTIONS (64), BENCH_QUICK=1 (3 s, 1 K / 10 K rows instead
# of 1 M, 20 small fetches), BENCH_SECTIONS (a subset of "delivery queue reads postgres"; growth and pagination
# come with reads), BENCH_THREADS (FastCGI threads per dialect, 2 per core). PostgreSQL is a throwaway cluster (tests/support/pgcluster.sh: fsync off).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FETCHGATE_BIN:-$PWD/.build/release}
export FETCHGATE_BIN=$BIN
if [ "${BENCH_QUICK:-}" = 1 ]; then
  export BENCH_SECONDS=${BENCH_SECONDS:-3}
  BIG=10000; MIDDLE_SIZE=5000; SMALL=${BENCH_FETCHES:-20}; CLAIM_JOBS=${BENCH_CLAIM_JOBS:-500}
else
  BIG=1000000; MIDDLE_SIZE=100000; SMALL=${BENCH_FETCHES:-200}; CLAIM_JOBS=${BENCH_CLAIM_JOBS:-3000}
fi
source bench/lib.sh
BENCH_LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
export BENCH_LOAD_START
SECTIONS=" ${BENCH_SECTIONS:-delivery queue reads postgres} "
wants() { [[ $SECTIONS == *" $1 "* ]]; }
RUN=$(mktemp -d /tmp/fetchgate-bench.XXXXXX)
export BENCH_ROWS=$RUN/rows
: >"$BENCH_ROWS"
THREADS=${BENCH_THREADS:-$(( $(nproc) * 2 ))}
PSQL=${PG_BIN:-/usr/lib/postgresql/15/bin}/psql
CLAIM_WORKERS=()

cleanup() {
  [ -n "${SERVE:-}" ] && kill -TERM "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null || true
  [ -n "${SERVE_PG:-}" ] && kill -TERM "$SERVE_PG" 2>/dev/null && wait "$SERVE_PG" 2>/dev/null || true
  for pid in "${CLAIM_WORKERS[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  tests/support/pgcluster.sh stop "$RUN/pg" >/dev/null 2>&1 || true
  for pid in "${HELLO:-}" "${ORIGIN:-}" "${MOTO:-}"; do [ -z "$pid" ] || { kill -9 "$pid"; wait "$pid"; } 2>/dev/null || true; done
  rm -rf "$RUN"
}
trap cleanup EXIT

# ------------------------------------------------------------------ downloads, upload, limits (part of its own)
# Run first, alone: it starts and stops its own stack. Its ROW lines join the table; a failure is a row too.
if wants delivery && [ -x bench/delivery.sh ]; then
  status=0
  BENCH_ROWS= bench/delivery.sh | tee "$RUN/delivery.out" || status=$?
  grep '^ROW' "$RUN/delivery.out" >>"$BENCH_ROWS" || true
  [ "$status" = 0 ] || row downloads "bench/delivery.sh" "failed (exit $status)" - - - -
elif wants delivery; then
  echo "no bench/delivery.sh: downloads, upload and limits not measured"
fi

# ------------------------------------------------------------------ the stacks
STORE=$(free_port); MEDIA=$(free_port); BENCH=$(free_port)
gcc -O2 -o "$RUN/hello" bench/hello.c -lfcgi -lpthread
"$RUN/hello" "$RUN/hello.sock" "$THREADS" & HELLO=$!
mkdir -p "$RUN/conf.d"
# The hello-world gets the product's FastCGI connection pool (UpstreamPool: K = (T - 1) / W kept
# connections per nginx worker), so the baseline and the dialects are reached the same way.
HELLO_POOL=$(( (THREADS - 1) / $(nproc) ))
cat > "$RUN/conf.d/bench.conf" <<CONF
upstream bench_hello { server unix:$RUN/hello.sock; $([ "$HELLO_POOL" -gt 0 ] && echo "keepalive $HELLO_POOL;") }
server {
    listen 127.0.0.1:$BENCH;
    location = /return200 { return 200 "ok\n"; }
    location = /hello { include $PWD/nginx/fastcgi.conf; $([ "$HELLO_POOL" -gt 0 ] && echo "fastcgi_keep_conn on;") fastcgi_pass bench_hello; }
}
CONF

# Fetches read a loopback origin (named localhost, allowed for this run), one at a time per account.
"$BIN/fetchgate" serve --run-dir "$RUN" --store-port "$STORE" --media-port "$MEDIA" --threads "$THREADS" \
  --allow-private-hosts localhost --fetch-cap 1 >"$RUN/serve.out" 2>&1 & SERVE=$!
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$STORE/api/account" && [ -f "$RUN/demo-credentials" ] && break
  sleep 0.1
done
AUTH="Authorization: Basic $(base64 -w0 < <(tr -d '\n' < "$RUN/demo-credentials"))"
TOKEN=$(cut -d: -f2 "$RUN/demo-credentials" | tr -d '\n')
KEY="X-API-KEY: $TOKEN"
curl -sf -H "$AUTH" "http://127.0.0.1:$STORE/api/items/BILL-WAX.xml" >/dev/null || { echo "store-api not answering"; cat "$RUN/serve.out"; exit 1; }
PRODUCT_POOL=$(awk '/upstream store_api/ {u = 1} u && /keepalive / {gsub(";", ""); print $2; exit}' "$RUN/nginx.conf")
[ "${PRODUCT_POOL:-0}" = "$HELLO_POOL" ] || { echo "the hello-world's pool ($HELLO_POOL) is not the product's (${PRODUCT_POOL:-0})"; exit 1; }
echo "wrk -t2 -c$BENCH_CONNECTIONS -d${BENCH_SECONDS}s, $(nproc) cores, FastCGI threads: $THREADS"

# ------------------------------------------------------------------ queue: media fetches (yt-dlp)
YTDLP=$("$BIN/fetchgate" doctor | awk -F'\t' '$1 == "yt-dlp" {print $3}')
mkdir -p "$RUN/origin"
ORIGIN_PORT=$(free_port)
python3 -m http.server "$ORIGIN_PORT" --bind 127.0.0.1 --directory "$RUN/origin" >/dev/null 2>&1 & ORIGIN=$!

fetch_wait() { # ID: until the fetch succeeds (exits on a failure); polls every 50 ms
  local id=$1 body
  for _ in $(seq 12000); do
    body=$(curl -sf -H "$KEY" "http://127.0.0.1:$MEDIA/fetch/$id")
    case $body in *'"status":"success"'*) return 0 ;; *'"status":"failed"'*) echo "fetch $id failed: $body" >&2; exit 1 ;; esac
    sleep 0.05
  done
  echo "fetch $id did not finish" >&2; exit 1
}
successes() { curl -sf -H "$KEY" "http://127.0.0.1:$MEDIA/fetch?status=success&per_page=1" \
  | python3 -c 'import sys, json; print(json.load(sys.stdin)["total"])'; }
post_fetch() { curl -sf -H "$KEY" -H 'Content-Type: application/json' -d "{\"url\": \"$1\"}" \
  "http://127.0.0.1:$MEDIA/fetch" | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])'; }
by_hand() { # URL → the runner's download options, by hand, into a fresh directory
  local dir; dir=$(mktemp -d "$RUN/hand.XXXXXX")
  HOME=$dir "$YTDLP" --ignore-config --no-config-locations --no-plugin-dirs --no-cache-dir --no-playlist -f 'bv*+ba/b' \
    -P "home:$dir" -P "temp:$dir/tmp" -o '%(id).64s.%(ext)s' --restrict-filenames --no-mtime --newline --progress \
    --quiet -- "$1" >/dev/null
  # With "probe": then ffprobe on the file as the worker's Prober runs it (a fetch's metadata is its work, not the queue's).
  [ "${2:-}" != probe ] || ffprobe -v error -hide_banner -print_format json -show_format -show_streams \
    -protocol_whitelist file -i "file:$(ls "$dir"/*.mp4)" >/dev/null
  rm -rf "$dir"
}
median() { tr ' ' '\n' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

if wants queue; then
  ffmpeg -loglevel error -f lavfi -i testsrc=duration=2:size=320x240:rate=25 -f lavfi -i sine=duration=2 -shortest \
    -c:v libx264 -pix_fmt yuv420p -c:a aac "$RUN/origin/small.mp4"
  # 50 MiB of real video: noise does not compress, so 20 s at 21 Mbit/s is about 50 MiB.
  ffmpeg -loglevel error -f lavfi -i "nullsrc=size=640x360:rate=25,geq=random(1)*255:128:128" -t 20 -c:v mpeg4 -b:v 21M \
    -maxrate 21M -bufsize 2M "$RUN/origin/big.mp4"
  for _ in $(seq 50); do curl -sf -o /dev/null "http://localhost:$ORIGIN_PORT/small.mp4" && break; sleep 0.1; done
  BIG_MIB=$(( $(stat -c %s "$RUN/origin/big.mp4") / 1048576 ))

  # The 50 MiB fetch, three times each way, interleaved; the medians compared.
  FETCH_TIMES=(); HAND_TIMES=()
  for _ in 1 2 3; do
    T0=$(now); fetch_wait "$(post_fetch "http://localhost:$ORIGIN_PORT/big.mp4")"; FETCH_TIMES+=("$(elapsed "$T0" "$(now)")")
    T0=$(now); by_hand "http://localhost:$ORIGIN_PORT/big.mp4"; HAND_TIMES+=("$(elapsed "$T0" "$(now)")")
  done
  F=$(echo "${FETCH_TIMES[*]}" | median); H=$(echo "${HAND_TIMES[*]}" | median); R=$(ratio "$F" "$H")
  row queue "POST /fetch of a $BIG_MIB MiB mp4 to success (median of 3)" "$F s" "yt-dlp by hand $H s" "$R" "<= 1.15" "$(verdict "$R" "<=" 1.15)"

  # The queue's own cost: N small fetches queued at once and run one at a time (--fetch-cap 1), against the
  # mean of 20 runs of the same download and probe by hand. Polled twice a second: at most 2.5 ms per job of error over 200.
  T0=$(now)
  BEFORE=$(successes)
  for _ in $(seq "$SMALL"); do post_fetch "http://localhost:$ORIGIN_PORT/small.mp4" >/dev/null; done
  until [ "$(successes)" -ge $((BEFORE + SMALL)) ]; do sleep 0.5; done
  PER_JOB=$(awk -v s="$(elapsed "$T0" "$(now)")" -v n="$SMALL" 'BEGIN {printf "%.0f", 1000 * s / n}')
  T0=$(now)
  for _ in $(seq 20); do by_hand "http://localhost:$ORIGIN_PORT/small.mp4" probe; done
  PER_HAND=$(awk -v s="$(elapsed "$T0" "$(now)")" 'BEGIN {printf "%.0f", 1000 * s / 20}')
  OVERHEAD=$((PER_JOB - PER_HAND))
  row queue "the queue's own cost per job ($SMALL small fetches queued at once, one at a time)" "$OVERHEAD ms" \
    "fetch $PER_JOB ms, yt-dlp + ffprobe by hand $PER_HAND ms" - "< 20 ms" "$(verdict "$OVERHEAD" "<" 20)"
fi

# ------------------------------------------------------------------ reads, growth, pagination
# Rows written straight into the store (one recursive CTE each): only the reads are measured. The demo
# account owns them all, so every list reads the account's index range over the whole table.
add_rows() { # TABLE TOTAL: rows of the demo account in TABLE up to TOTAL (items, media_files, fetches)
  python3 - "$RUN/fetchgate.sqlite" "$1" "$2" <<'PY'
import sqlite3, sys
path, table, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = sqlite3.connect(path, timeout=60)
account = con.execute("SELECT account_id FROM credentials WHERE api_key = 'demo'").fetchone()[0]
have = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
rows = {
    "items": """INSERT INTO items (account_id, sku, name, price, guid, created_at, updated_at)
        SELECT :account, 'BENCH-' || i, 'Bench item ' || i, 9.5, 'bench-guid-' || i, 1, 1 FROM n""",
    "media_files": """INSERT INTO media_files (public_id, account_id, name, source, status, size_bytes, content_type,
        storage_key, created_at, updated_at)
        SELECT 'file_bench' || i, :account, 'bench-' || i || '.txt', 'upload', 'ready', 1024, 'text/plain',
        'bench/' || i, 1, 1 FROM n""",
    "fetches": """INSERT INTO fetches (public_id, account_id, url, quality, status, step, origin, batch_id, title, extractor,
        filename, size_bytes, content_type, storage_key, created_at, started_at, finished_at, updated_at)
        SELECT printf('00000000-0000-4000-8000-%012d', i), :account, 'https://example.com/v' || i, 'best', 'success', 'done', 'jobs', 'b-' || (i / 100),
        'Bench video ' || i, 'generic', 'bench-' || i || '.mp4', 1048576, 'video/mp4', 'f/bench-' || i || '.mp4', 1, 1, 2, 2 FROM n""",
}[table]
with con:
    con.execute(f"WITH RECURSIVE n(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM n WHERE i < :last) {rows}",
                {"first": have + 1, "last": total, "account": account})
    if table == "media_files":
        con.execute("UPDATE accounts SET media_files_count = (SELECT COUNT(*) FROM media_files WHERE account_id = ?) WHERE id = ?",
                    (account, account))
have = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
assert have == total, f"{table}: {have} rows, not {total}"
PY
}
size_name() { case $1 in 1000) echo "1 K" ;; 5000) echo "5 K" ;; 10000) echo "10 K" ;; 100000) echo "100 K" ;; 1000000) echo "1 M" ;; *) echo "$1" ;; esac; }

# The five reads: name, URL, header, the table whose rows count (their default page size named).
READ_NAMES=(store files fetch jobs downloader)
declare -A READ_TITLE READ_URL READ_HEADER READ_TABLE
read_def() { READ_TITLE[$1]=$2; READ_URL[$1]=$3; READ_HEADER[$1]=$4; READ_TABLE[$1]=$5; }
read_def store "store GET /api/items/BILL-WAX.xml (Basic)" "http://127.0.0.1:$STORE/api/items/BILL-WAX.xml" "$AUTH" items
read_def files "files GET /files (default page: 25)" "http://127.0.0.1:$MEDIA/files" "$KEY" media_files
read_def fetch "fetch GET /fetch/{id}" "http://127.0.0.1:$MEDIA/fetch/" "$KEY" fetches # + the id of the newest at 1 K
read_def jobs "jobs GET /jobs (default page: 25)" "http://127.0.0.1:$MEDIA/jobs" "$KEY" fetches
read_def downloader "downloader GET /api/downloads (the newest 1,000: no paging)" "http://127.0.0.1:$MEDIA/api/downloads" "$KEY" fetches
declare -A AT_1K
check_reads() { # every read answers 200 with what it should hold
  curl -sf -H "$AUTH" "${READ_URL[store]}" | grep -q '<sku>BILL-WAX</sku>' || { echo "the store read does not answer the item" >&2; exit 1; }
  for name in files fetch jobs downloader; do
    curl -sf -H "$KEY" "${READ_URL[$name]}" >/dev/null || { echo "$name: ${READ_URL[$name]} does not answer 200" >&2; exit 1; }
  done
  curl -sf -H "$KEY" "${READ_URL[files]}" | python3 -c 'import sys, json; n = len(json.load(sys.stdin)["files"]); sys.exit(0 if n == 25 else f"files: {n}")'
  curl -sf -H "$KEY" "${READ_URL[jobs]}" | python3 -c 'import sys, json; n = len(json.load(sys.stdin)["jobs"]); sys.exit(0 if n == 25 else f"jobs: {n}")'
  curl -sf -H "$KEY" "${READ_URL[downloader]}" | python3 -c 'import sys, json; n = len(json.load(sys.stdin)); sys.exit(0 if n == 1000 else f"downloads: {n}")'
}

if wants reads; then
  for table in items media_files fetches; do add_rows "$table" 1000; done
  READ_URL[fetch]+=$(sqlite3 "$RUN/fetchgate.sqlite" "SELECT public_id FROM fetches ORDER BY id DESC LIMIT 1")
  check_reads
  NGINX=$(rps "http://127.0.0.1:$BENCH/return200")
  for name in "${READ_NAMES[@]}"; do
    HELLO_RPS=$(rps "http://127.0.0.1:$BENCH/hello") # right before each read: the two share the machine's moment
    OURS=$(rps "${READ_URL[$name]}" "${READ_HEADER[$name]}")
    AT_1K[$name]=$OURS
    R=$(ratio "$OURS" "$HELLO_RPS")
    if [ "$name" = store ]; then GOAL=">= 0.8"; V=$(verdict "$R" ">=" 0.8); else GOAL=-; V=-; fi
    row reads "${READ_TITLE[$name]}, 1 K rows" "$OURS req/s ($(ratio "$OURS" "$NGINX") of nginx return 200)" \
      "C hello $HELLO_RPS req/s" "$R" "$GOAL" "$V"
  done
  row reads "C libfcgi hello-world" "$HELLO_RPS req/s" "nginx return 200 $NGINX req/s" "$(ratio "$HELLO_RPS" "$NGINX")" - -

  for size in "$MIDDLE_SIZE" "$BIG"; do
    for table in items media_files fetches; do add_rows "$table" "$size"; done
    check_reads
    for name in "${READ_NAMES[@]}"; do
      OURS=$(rps "${READ_URL[$name]}" "${READ_HEADER[$name]}")
      R=$(ratio "$OURS" "${AT_1K[$name]}")
      row growth "${READ_TITLE[$name]}, $(size_name "$size") rows" "$OURS req/s" "1 K rows ${AT_1K[$name]} req/s" "$R" ">= 0.5" \
        "$(verdict "$R" ">=" 0.5)"
    done
  done

  # Pagination: the fetch list by page number, 25 a page (its default), over $BIG fetches.
  LAST=$((BIG / 25)); MID=$((BIG / 50))
  FETCHES_URL="http://127.0.0.1:$MEDIA/fetch"
  for page in "$LAST" "$MID"; do
    curl -sf -H "$KEY" "$FETCHES_URL?page=$page" | python3 -c '
import sqlite3, sys, json
body, page, total = json.load(sys.stdin), int(sys.argv[1]), int(sys.argv[2])
ids = [f["id"] for f in body["fetches"]]
want = [r[0] for r in sqlite3.connect(sys.argv[3]).execute(
    "SELECT public_id FROM fetches ORDER BY id DESC LIMIT 25 OFFSET ?", (25 * (page - 1),))]
sys.exit(0 if ids == want and len(ids) == 25 and body["total"] == total else "page %d: %s…, total %s" % (page, ids[:2], body["total"]))' \
      "$page" "$BIG" "$RUN/fetchgate.sqlite"
  done
  FIRST=$(rps "$FETCHES_URL?page=1" "$KEY")
  for page in "$LAST" "$MID"; do
    DEEP=$(rps "$FETCHES_URL?page=$page" "$KEY")
    R=$(ratio "$FIRST" "$DEEP")
    what=$([ "$page" = "$LAST" ] && echo "the last page" || echo "the middle page")
    row pagination "fetch GET /fetch?page=$page ($what of $(size_name "$BIG") fetches, 25 a page): cost against page 1" \
      "$DEEP req/s" "page 1 $FIRST req/s" "$R" "<= 2" "$(verdict "$R" "<=" 2)"
  done
  COUNT_MS=$(for _ in 1 2 3 4 5; do
      printf '.timer on\nSELECT COUNT(*) FROM fetches WHERE account_id = (SELECT account_id FROM credentials WHERE api_key = %s);\n' "'demo'" \
        | sqlite3 "$RUN/fetchgate.sqlite" | awk '/Run Time/ {printf "%.1f\n", 1000 * $4}'
    done | median)
  row pagination "COUNT(*) of the account's $(size_name "$BIG") fetches (the fetch list's total; sqlite3 CLI, median of 5)" \
    "$COUNT_MS ms" - - - -
  JOBS_FIRST=$(rps "${READ_URL[jobs]}" "$KEY")
  JOBS_DEEP=$(rps "${READ_URL[jobs]}?after=$((BIG / 2))" "$KEY")
  R=$(ratio "$JOBS_FIRST" "$JOBS_DEEP")
  row pagination "jobs GET /jobs?after=$((BIG / 2)) (a keyset page in the middle of $(size_name "$BIG")): cost against the first" \
    "$JOBS_DEEP req/s" "first page $JOBS_FIRST req/s" "$R" "<= 2" "$(verdict "$R" "<=" 2)"
fi

# ------------------------------------------------------------------ postgres
if wants postgres; then
  PG_STORE=$(free_port); PG_MEDIA=$(free_port); PG_PORT=$(free_port)
  PG_URL=$(tests/support/pgcluster.sh start "$RUN/pg" "$PG_PORT")
  mkdir -p "$RUN/pg-node"
  "$BIN/fetchgate" serve --run-dir "$RUN/pg-node" --database-url "$PG_URL" --store-port "$PG_STORE" --media-port "$PG_MEDIA" \
    --threads "$THREADS" >"$RUN/serve-pg.out" 2>&1 & SERVE_PG=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PG_STORE/api/account" && [ -f "$RUN/pg-node/demo-credentials" ] && break
    sleep 0.1
  done
  PG_AUTH="Authorization: Basic $(base64 -w0 < <(tr -d '\n' < "$RUN/pg-node/demo-credentials"))"
  PG_TOKEN=$(cut -d: -f2 "$RUN/pg-node/demo-credentials" | tr -d '\n')
  curl -sf -H "$PG_AUTH" "http://127.0.0.1:$PG_STORE/api/items/BILL-WAX.xml" >/dev/null \
    || { echo "store-api on PostgreSQL not answering"; cat "$RUN/serve-pg.out"; exit 1; }
  # 1000 fetch rows of its demo account (it has no others), as in the SQLite store's 1 K.
  "$PSQL" "$PG_URL" -Atqc "INSERT INTO fetches (public_id, account_id, url, quality, status, step, origin, batch_id, created_at, updated_at)
    SELECT 'bench-' || i, (SELECT account_id FROM credentials WHERE api_key = 'demo'), 'https://example.com/v', 'best', 'success', 'done',
           'jobs', 'b-' || (i / 100), 1, 1 FROM generate_series(1, 1000) AS i"
  PG_JOBS_URL="http://127.0.0.1:$PG_MEDIA/jobs"
  curl -sf -H "X-API-KEY: $PG_TOKEN" "$PG_JOBS_URL" | python3 -c 'import sys, json; n = len(json.load(sys.stdin)["jobs"]); sys.exit(0 if n == 25 else f"the PostgreSQL page has {n} jobs")'
  HELLO_RPS=$(rps "http://127.0.0.1:$BENCH/hello")
  PG_STORE_RPS=$(rps "http://127.0.0.1:$PG_STORE/api/items/BILL-WAX.xml" "$PG_AUTH")
  row postgres "store GET /api/items/BILL-WAX.xml (Basic) on PostgreSQL" "$PG_STORE_RPS req/s" "C hello $HELLO_RPS req/s" \
    "$(ratio "$PG_STORE_RPS" "$HELLO_RPS")" - -
  [ -z "${AT_1K[store]:-}" ] || row postgres "store read: PostgreSQL against SQLite" "$PG_STORE_RPS req/s" "SQLite ${AT_1K[store]} req/s" \
    "$(ratio "$PG_STORE_RPS" "${AT_1K[store]}")" - -
  PG_JOBS_RPS=$(rps "$PG_JOBS_URL" "X-API-KEY: $PG_TOKEN")
  row postgres "jobs GET /jobs (default page: 25), 1 K jobs, on PostgreSQL" "$PG_JOBS_RPS req/s" "C hello $HELLO_RPS req/s" \
    "$(ratio "$PG_JOBS_RPS" "$HELLO_RPS")" - -
  [ -z "${AT_1K[jobs]:-}" ] || row postgres "jobs list: PostgreSQL against SQLite" "$PG_JOBS_RPS req/s" "SQLite ${AT_1K[jobs]} req/s" \
    "$(ratio "$PG_JOBS_RPS" "${AT_1K[jobs]}")" - -
fi

# ------------------------------------------------------------------ queue: a 1 GiB job into the account's bucket (moto)
if wants queue; then
  MOTO_PORT=$(free_port)
  "$PWD/.venv/bin/python" -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >/dev/null 2>&1 & MOTO=$!
  for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$MOTO_PORT/" && break; sleep 0.2; done
  curl -sf -o /dev/null -X PUT "http://127.0.0.1:$MOTO_PORT/bench"
  curl -sf -o /dev/null -H "$KEY" -H 'Content-Type: application/json' "http://127.0.0.1:$MEDIA/user/s3" \
    -d "{\"bucket\": \"bench\", \"region\": \"us-east-1\", \"endpoint\": \"http://localhost:$MOTO_PORT\", \"path_style\": true,
         \"access_key_id\": \"AKIABENCHMARK0000001\", \"secret_access_key\": \"bench-secret-access-key-0000000000000000\"}"
  truncate -s 1G "$RUN/origin/one-gib.mp4"
  WORKER_PID=$(pgrep -f "worker --database $RUN/fetchgate.sqlite")
  JOB=$(curl -sf -H "$KEY" -H 'Content-Type: application/json' -d "{\"url\": \"http://localhost:$ORIGIN_PORT/one-gib.mp4\"}" \
    "http://127.0.0.1:$MEDIA/jobs" | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
  UPLOAD_FROM=""
  for _ in $(seq 3000); do
    BODY=$(curl -sf -H "$KEY" "http://127.0.0.1:$MEDIA/jobs/$JOB")
    case $BODY in
      *'"status":"Completed"'*) break ;;
      *'"status":"Failed"'*) echo "the 1 GiB bucket job failed: $BODY" >&2; exit 1 ;;
      *'"step":"uploading"'*) [ -n "$UPLOAD_FROM" ] || UPLOAD_FROM=$(now) ;;
    esac
    sleep 0.2
  done
  UPLOAD_SECONDS=$(elapsed "${UPLOAD_FROM:-$(now)}" "$(now)")
  case $BODY in *'"s3_url":"http'*) ;; *) echo "the 1 GiB job has no s3_url: $BODY" >&2; exit 1 ;; esac
  WORKER_MIB=$(( $(awk '/VmHWM/ {print $2}' "/proc/$WORKER_PID/status") / 1024 ))
  rm -f "$RUN/origin/one-gib.mp4"
  row queue "a 1 GiB job to the account's bucket (moto, multipart): probe + upload" \
    "$(awk -v s="$UPLOAD_SECONDS" 'BEGIN {printf "%.1f s, %.0f MiB/s", s, 1024 / s}')" - - - -
  row queue "worker peak RSS (VmHWM) after the 1 GiB bucket job" "$WORKER_MIB MiB" - - "< 64 MiB" "$(verdict "$WORKER_MIB" "<" 64)"
fi

# ------------------------------------------------------------------ postgres: the queue's claim rate
# Order emails into an outbox are the cheapest real job (no network: one small file each). A worker
# node here is the `worker` process `serve` runs (nothing else of a node claims jobs) with the
# node's defaults, its own data and outbox, on a fresh database of the same cluster: the queue is
# filled in one transaction, the nodes nudged as a dialect does after a write, and timed until
# every email is in an outbox. CPU is read from /proc: what postgres and the workers used.
TICKS=$(getconf CLK_TCK)
cpu_ticks() { # PID…: user + system ticks of these processes and of their children that ended
  for pid in "$@"; do awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'
}
postgres_pids() { local main; main=$(head -1 "$RUN/pg/data/postmaster.pid"); echo "$main" $(pgrep -P "$main"); }
claim_rate() { # NODES THREADS (the short lane's, 1 by default): sets CLAIMED to "jobs/s postgres-cores worker-cores"
  local nodes=$1 threads=$2 url node pids=() t0 t1 pg0 pg1 w0 w1 done_count
  tests/support/pgcluster.sh fresh "$RUN/pg" claims
  url="${PG_URL%/*}/claims"
  rm -rf "$RUN"/claims-*
  for node in $(seq "$nodes"); do
    mkdir -p "$RUN/claims-$node"
    "$BIN/worker" --database-url "$url" --data "$RUN/claims-$node/data" --outbox "$RUN/claims-$node/outbox" \
      --short-concurrency "$threads" --wake-socket "$RUN/claims-$node/worker.wake" --node-name "claims-$node" >"$RUN/claims-$node.log" 2>&1 & pids+=($!)
  done
  CLAIM_WORKERS=("${pids[@]}")
  for _ in $(seq 100); do # migrated, and listening for nudges
    [ "$(ls "$RUN"/claims-*/worker.wake 2>/dev/null | wc -l)" = "$nodes" ] \
      && [ -n "$("$PSQL" "$url" -Atqc "SELECT to_regclass('jobs')" 2>/dev/null)" ] && break
    sleep 0.1
  done
  "$PSQL" "$url" -Atqc "INSERT INTO jobs (kind, payload, run_at, max_attempts, created_at)
    SELECT 'order-email', '{\"to\":\"customer' || i || '@example.com\",\"toName\":\"Customer\",\"subject\":\"Your downloads\",' ||
           '\"body\":\"Hello,\\n\\nyour downloads are ready.\\n\",\"orderNumber\":\"' || i || '\"}', 0, 8, 0
    FROM generate_series(1, $CLAIM_JOBS) AS i"
  pg0=$(cpu_ticks $(postgres_pids)); w0=$(cpu_ticks "${pids[@]}"); t0=$(now)
  for node in $(seq "$nodes"); do
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"!", sys.argv[1])' "$RUN/claims-$node/worker.wake"
  done
  for _ in $(seq 6000); do
    done_count=$(find "$RUN"/claims-*/outbox -name '*.eml' 2>/dev/null | wc -l)
    [ "$done_count" -ge "$CLAIM_JOBS" ] && break
    sleep 0.02
  done
  t1=$(now); pg1=$(cpu_ticks $(postgres_pids)); w1=$(cpu_ticks "${pids[@]}")
  [ "$done_count" = "$CLAIM_JOBS" ] || { echo "$done_count emails of $CLAIM_JOBS jobs" >&2; exit 1; }
  # Every job done once: one attempt each, and one email each (the outbox names carry the job id).
  for _ in $(seq 50); do
    [ "$("$PSQL" "$url" -Atqc "SELECT COUNT(*) FROM jobs WHERE state = 'done' AND attempts = 1")" = "$CLAIM_JOBS" ] && break
    sleep 0.1
  done
  [ "$("$PSQL" "$url" -Atqc "SELECT COUNT(*) FROM jobs WHERE state = 'done' AND attempts = 1")" = "$CLAIM_JOBS" ] \
    || { echo "not every job was done exactly once:"; "$PSQL" "$url" -Atc "SELECT state, attempts, COUNT(*) FROM jobs GROUP BY 1, 2"; exit 1; } >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; done
  CLAIM_WORKERS=()
  if grep -h "claim failed\|failed:\|lost its lease" "$RUN"/claims-*.log >&2; then echo "a worker logged failures" >&2; exit 1; fi
  CLAIMED=$(python3 -c "import sys; n, t0, t1, pg, w, tick = map(float, sys.argv[1:]); s = t1 - t0; print(f'{n / s:.0f} {pg / tick / s:.2f} {w / tick / s:.2f}')" \
    "$CLAIM_JOBS" "$t0" "$t1" "$((pg1 - pg0))" "$((w1 - w0))" "$TICKS")
}
if wants postgres; then
  ONE_NODE=""
  for run in "1 1" "2 1" "2 4"; do
    read -r nodes threads <<<"$run"
    claim_rate "$nodes" "$threads"
    read -r rate pg_cores worker_cores <<<"$CLAIMED"
    [ -n "$ONE_NODE" ] || ONE_NODE=$rate
    row postgres "queue claim rate, $nodes worker node(s) x $threads short-lane thread(s) ($CLAIM_JOBS order emails into an outbox)" \
      "$rate jobs/s (CPU: postgres $pg_cores, workers $worker_cores cores)" "1 node x 1 thread $ONE_NODE jobs/s" \
      "$(ratio "$rate" "$ONE_NODE")" - -
  done
fi

# ------------------------------------------------------------------ the table
echo
python3 bench/report.py "$BENCH_ROWS" bench/results.md
echo
echo "written: bench/results.md"
