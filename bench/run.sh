#!/usr/bin/env bash
# make bench: throughput ratios measured in one run, through one nginx.
#   nginx `return 200`  |  C libfcgi hello-world  |  store-api GET /api/items/SKU.xml (authenticated, SQLite)
#   nginx static 1 MiB  |  /get/GUID of the same 1 MiB file (download taken + logged, X-Accel-Redirect)
#   nginx static 1 MiB  |  Files API signed link (secure_link) of the same file
#   C libfcgi hello-world  |  files-api GET /files?per_page=200 (a JSON list of 200 files)
#   peak RSS of files-api while a 1 GiB upload goes through it
#   POST /fetch of a 50 MiB local mp4 to success  |  the same yt-dlp command by hand
#   200 small fetches queued at once (one at a time)  |  yt-dlp by hand: the queue's own cost per job
#   C libfcgi hello-world  |  downloader-api GET /api/downloads (a JSON array of 200 downloads)
#   a 1 GiB job uploaded to the account's own bucket (moto, multipart): throughput, worker peak RSS
#   jobs-api GET /jobs?per_page=200 at 1 K and at 1 M jobs in the store (newest page and a deep keyset page)
#   the store read and the jobs list (1 K jobs) on PostgreSQL  |  the same on SQLite  |  C hello-world
#   the queue's claim rate on PostgreSQL (order emails into an outbox): 1 worker node  |  2 worker nodes
# PostgreSQL is a throwaway cluster (tests/support/pgcluster.sh: fsync off) with a second `serve` on it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FETCHGATE_BIN:-$PWD/.build/release}
DURATION=${BENCH_SECONDS:-8}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
RUN=$(mktemp -d /tmp/fetchgate-bench.XXXXXX)
THREADS=$(( $(nproc) * 2 ))
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
STORE=$(free_port); MEDIA=$(free_port); BENCH=$(free_port)
PG_STORE=$(free_port); PG_MEDIA=$(free_port); PG_PORT=$(free_port)
PSQL=${PG_BIN:-/usr/lib/postgresql/15/bin}/psql
CLAIM_WORKERS=()

cleanup() {
  [ -n "${SERVE:-}" ] && kill -TERM "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null || true
  [ -n "${SERVE_PG:-}" ] && kill -TERM "$SERVE_PG" 2>/dev/null && wait "$SERVE_PG" 2>/dev/null || true
  for pid in "${CLAIM_WORKERS[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  tests/support/pgcluster.sh stop "$RUN/pg" >/dev/null 2>&1 || true
  [ -n "${HELLO:-}" ] && kill -9 "$HELLO" 2>/dev/null || true
  [ -n "${ORIGIN:-}" ] && kill -9 "$ORIGIN" 2>/dev/null || true
  [ -n "${MOTO:-}" ] && kill -9 "$MOTO" 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT

gcc -O2 -o "$RUN/hello" bench/hello.c -lfcgi -lpthread
"$RUN/hello" "$RUN/hello.sock" "$THREADS" & HELLO=$!

mkdir -p "$RUN/conf.d"
cat > "$RUN/conf.d/bench.conf" <<CONF
server {
    listen 127.0.0.1:$BENCH;
    location = /return200 { return 200 "ok\n"; }
    location = /hello { include $PWD/nginx/fastcgi.conf; fastcgi_pass unix:$RUN/hello.sock; }
    location /static/ { alias $RUN/static/; }
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
curl -sf -H "$AUTH" "http://127.0.0.1:$STORE/api/items/BILL-WAX.xml" >/dev/null || { echo "store-api not answering"; cat "$RUN/serve.out"; exit 1; }

# The same stack on PostgreSQL, its own demo account; idle while the SQLite one is measured and the other way round.
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

# A 1 MiB file served both ways: nginx static, and an order link with plenty of downloads.
mkdir -p "$RUN/static"
head -c 1048576 /dev/urandom > "$RUN/static/one-mib.bin"
"$BIN/fetchgate" upload --run-dir "$RUN" --key demo "$RUN/static/one-mib.bin" >/dev/null
curl -sf -H "$AUTH" -X POST "http://127.0.0.1:$STORE/api/items/create" -d 'item[sku]=BENCH-1MIB&item[filename]=one-mib.bin' >/dev/null
GUID=$(curl -sf -H "$AUTH" -X POST "http://127.0.0.1:$STORE/api/orders/create" \
  -d 'order[send_email]=false&order[order_items][][sku]=BENCH-1MIB&order[order_items][][downloads_remaining]=100000000' \
  | sed -n 's:.*<guid>\(.*\)</guid>.*:\1:p' | head -1)
cmp <(curl -sf "http://127.0.0.1:$STORE/get/$GUID") "$RUN/static/one-mib.bin" || { echo "/get/ does not deliver the file"; exit 1; }

# The same file through the Files API: upload, wait for ready, take the signed link.
TOKEN=$(cut -d: -f2 "$RUN/demo-credentials" | tr -d '\n')
FILE_ID=$(curl -sf -H "X-API-KEY: $TOKEN" -F "file=@$RUN/static/one-mib.bin" "http://127.0.0.1:$MEDIA/files" \
  | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
for _ in $(seq 100); do
  curl -sf -H "X-API-KEY: $TOKEN" "http://127.0.0.1:$MEDIA/files/$FILE_ID" | grep -q '"status":"ready"' && break
  sleep 0.1
done
SIGNED=$(curl -s -o /dev/null -w '%{redirect_url}' -H "X-API-KEY: $TOKEN" "http://127.0.0.1:$MEDIA/files/$FILE_ID/one-mib.bin")
cmp <(curl -sf "$SIGNED") "$RUN/static/one-mib.bin" || { echo "signed link does not deliver the file"; exit 1; }

# 200 files in the demo account (tiny uploads, probed by the worker) for the JSON list.
for n in $(seq 2 200); do echo "$n"; done | xargs -P 4 -I{} sh -c \
  'printf "entry {}\n" | curl -sf -o /dev/null -H "X-API-KEY: $1" -F "file=@-;filename=entry-{}.txt" "$2/files"' _ "$TOKEN" "http://127.0.0.1:$MEDIA"
LIST_URL="http://127.0.0.1:$MEDIA/files?per_page=200"
for _ in $(seq 300); do
  curl -sf -H "X-API-KEY: $TOKEN" "$LIST_URL" | python3 -c '
import sys, json
files = json.load(sys.stdin)["files"]
sys.exit(0 if len(files) == 200 and all(f["status"] in ("ready", "failed") for f in files) else 1)' && break
  sleep 0.2
done
curl -sf -H "X-API-KEY: $TOKEN" "$LIST_URL" | python3 -c 'import sys, json; n = len(json.load(sys.stdin)["files"]); sys.exit(0 if n == 200 else f"the JSON list has {n} entries, not 200")'

rps() { # URL [header]
  local out
  if [ $# -gt 1 ]; then out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -H "$2" "$1"); else out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "$1"); fi
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx replies from $1" >&2; echo "$out" >&2; exit 1; fi
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}

echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s, $(nproc) cores, FastCGI threads: $THREADS"
NGINX=$(rps "http://127.0.0.1:$BENCH/return200")
HELLO_RPS=$(rps "http://127.0.0.1:$BENCH/hello")
OURS=$(rps "http://127.0.0.1:$STORE/api/items/BILL-WAX.xml" "$AUTH")
OURS_PG=$(rps "http://127.0.0.1:$PG_STORE/api/items/BILL-WAX.xml" "$PG_AUTH")
STATIC=$(rps "http://127.0.0.1:$BENCH/static/one-mib.bin")
GET=$(rps "http://127.0.0.1:$STORE/get/$GUID")
SIGNED_RPS=$(rps "$SIGNED")
LIST_RPS=$(rps "$LIST_URL" "X-API-KEY: $TOKEN")

# 1 GiB upload: the body goes to disk (nginx) and into storage (kernel copy), never through app memory.
FILES_PID=$(pgrep -f "files-api --socket $RUN/files.sock")
truncate -s 1G "$RUN/one-gib.bin"
UPLOAD_START=$(date +%s.%N)
curl -sf -H "X-API-KEY: $TOKEN" -F "file=@$RUN/one-gib.bin" "http://127.0.0.1:$MEDIA/files" >/dev/null
UPLOAD_SECONDS=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$UPLOAD_START" "$(date +%s.%N)")
PEAK_KB=$(awk '/VmHWM/ {print $2}' "/proc/$FILES_PID/status")
rm -f "$RUN/one-gib.bin"
printf '%-44s %10s req/s\n' "nginx return 200" "$NGINX" "C libfcgi hello-world" "$HELLO_RPS" \
  "store-api GET /api/items/BILL-WAX.xml" "$OURS" "nginx static 1 MiB" "$STATIC" "store-api /get/GUID 1 MiB" "$GET" \
  "files-api signed link 1 MiB" "$SIGNED_RPS" "files-api GET /files?per_page=200" "$LIST_RPS"
echo "1 GiB upload through /files: ${UPLOAD_SECONDS} s, files-api peak RSS $((PEAK_KB / 1024)) MiB (goal < 64 MiB)"
python3 - "$NGINX" "$HELLO_RPS" "$OURS" "$STATIC" "$GET" "$SIGNED_RPS" "$LIST_RPS" <<'PY'
import sys
nginx, hello, ours, static, get, signed, listing = map(float, sys.argv[1:])
print(f"ratio store-api / C hello-world: {ours / hello:.2f}  (goal >= 0.5)")
print(f"ratio C hello-world / nginx return 200: {hello / nginx:.2f}")
print(f"ratio /get/GUID 1 MiB / nginx static 1 MiB: {get / static:.2f}  (goal >= 0.9)")
print(f"ratio signed link 1 MiB / nginx static 1 MiB: {signed / static:.2f}  (goal >= 0.9)")
print(f"ratio JSON list of 200 files / C hello-world: {listing / hello:.3f}  (goal >= 0.15)")
PY
python3 -c "import sys; pg, sq, hello = map(float, sys.argv[1:]); print(f'store-api GET /api/items/BILL-WAX.xml on PostgreSQL: {pg:.0f} req/s: ratio PostgreSQL / SQLite {pg / sq:.2f}, PostgreSQL / C hello-world {pg / hello:.2f}')" \
  "$OURS_PG" "$OURS" "$HELLO_RPS"

# ------------------------------------------------------------------ media fetches (yt-dlp)
YTDLP=$("$BIN/fetchgate" doctor | awk -F'\t' '$1 == "yt-dlp" {print $3}')
mkdir -p "$RUN/origin"
ffmpeg -loglevel error -f lavfi -i testsrc=duration=2:size=320x240:rate=25 -f lavfi -i sine=duration=2 -shortest \
  -c:v libx264 -pix_fmt yuv420p -c:a aac "$RUN/origin/small.mp4"
# 50 MiB of real video: noise does not compress, so 20 s at 21 Mbit/s is about 50 MiB.
ffmpeg -loglevel error -f lavfi -i "nullsrc=size=640x360:rate=25,geq=random(1)*255:128:128" -t 20 -c:v mpeg4 -b:v 21M \
  -maxrate 21M -bufsize 2M "$RUN/origin/big.mp4"
ORIGIN_PORT=$(free_port)
python3 -m http.server "$ORIGIN_PORT" --bind 127.0.0.1 --directory "$RUN/origin" >/dev/null 2>&1 & ORIGIN=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://localhost:$ORIGIN_PORT/small.mp4" && break; sleep 0.1; done
BIG_MIB=$(( $(stat -c %s "$RUN/origin/big.mp4") / 1048576 ))

fetch_wait() { # ID: until the fetch succeeds (exits on a failure); polls every 50 ms
  local id=$1 body
  for _ in $(seq 12000); do
    body=$(curl -sf -H "X-API-KEY: $TOKEN" "http://127.0.0.1:$MEDIA/fetch/$id")
    case $body in *'"status":"success"'*) return 0 ;; *'"status":"failed"'*) echo "fetch $id failed: $body" >&2; exit 1 ;; esac
    sleep 0.05
  done
  echo "fetch $id did not finish" >&2; exit 1
}
successes() { curl -sf -H "X-API-KEY: $TOKEN" "http://127.0.0.1:$MEDIA/fetch?status=success&per_page=1" \
  | python3 -c 'import sys, json; print(json.load(sys.stdin)["total"])'; }
post_fetch() { curl -sf -H "X-API-KEY: $TOKEN" -H 'Content-Type: application/json' -d "{\"url\": \"$1\"}" \
  "http://127.0.0.1:$MEDIA/fetch" | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])'; }
by_hand() { # URL → the runner's download options, by hand, into a fresh directory
  local dir; dir=$(mktemp -d "$RUN/hand.XXXXXX")
  HOME=$dir "$YTDLP" --ignore-config --no-config-locations --no-plugin-dirs --no-cache-dir --no-playlist -f 'bv*+ba/b' \
    -P "home:$dir" -P "temp:$dir/tmp" -o '%(id).64s.%(ext)s' --restrict-filenames --no-mtime --newline --progress \
    --quiet -- "$1" >/dev/null
  rm -rf "$dir"
}
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }

# The 50 MiB fetch, three times each way, interleaved; the medians compared.
FETCH_TIMES=(); HAND_TIMES=()
for _ in 1 2 3; do
  T0=$(now); fetch_wait "$(post_fetch "http://localhost:$ORIGIN_PORT/big.mp4")"; FETCH_TIMES+=("$(elapsed "$T0" "$(now)")")
  T0=$(now); by_hand "http://localhost:$ORIGIN_PORT/big.mp4"; HAND_TIMES+=("$(elapsed "$T0" "$(now)")")
done

# The queue's own cost: N small fetches queued at once and run one at a time (--fetch-cap 1),
# against the mean of 20 runs of the same download by hand.
SMALL=${BENCH_FETCHES:-200}
T0=$(now)
BEFORE=$(successes)
for _ in $(seq "$SMALL"); do post_fetch "http://localhost:$ORIGIN_PORT/small.mp4" >/dev/null; done
# Polled twice a second: a light load beside the worker, at most 2.5 ms per job of error over 200.
until [ "$(successes)" -ge $((BEFORE + SMALL)) ]; do sleep 0.5; done
QUEUE_SECONDS=$(elapsed "$T0" "$(now)")
T0=$(now)
for _ in $(seq 20); do by_hand "http://localhost:$ORIGIN_PORT/small.mp4"; done
HAND20_SECONDS=$(elapsed "$T0" "$(now)")

# The Downloader's list of those 200 (and the three big) downloads.
DL_URL="http://127.0.0.1:$MEDIA/api/downloads"
DL_COUNT=$(curl -sf -H "X-API-KEY: $TOKEN" "$DL_URL" | python3 -c 'import sys, json; print(len(json.load(sys.stdin)))')
DL_RPS=$(rps "$DL_URL" "X-API-KEY: $TOKEN")
HELLO_AGAIN=$(rps "http://127.0.0.1:$BENCH/hello")

# GET /jobs, a page of 200, with 1 K and then 1 M jobs of the demo account in the store (rows
# written straight into it: only the list is measured), and a keyset page deep in the million.
add_jobs() { # TOTAL: fetch rows of the demo account up to this many in the store
  python3 - "$RUN/fetchgate.sqlite" "$1" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=30)
account = con.execute("SELECT account_id FROM credentials WHERE api_key = 'demo'").fetchone()[0]
have = con.execute("SELECT COUNT(*) FROM fetches").fetchone()[0]
with con:
    con.execute("""WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO fetches (public_id, account_id, url, quality, status, step, origin, batch_id, created_at, updated_at)
        SELECT 'bench-' || i, ?, 'https://example.com/v', 'best', 'success', 'done', 'jobs', 'b-' || (i / 100), 1, 1 FROM n""",
                (have + 1, int(sys.argv[2]), account))
PY
}
JOBS_URL="http://127.0.0.1:$MEDIA/jobs?per_page=200"
add_jobs 1000
JOBS_1K=$(rps "$JOBS_URL" "X-API-KEY: $TOKEN")
# The same on PostgreSQL: 1000 fetch rows of its demo account (it has no others).
"$PSQL" "$PG_URL" -Atqc "INSERT INTO fetches (public_id, account_id, url, quality, status, step, origin, batch_id, created_at, updated_at)
  SELECT 'bench-' || i, (SELECT account_id FROM credentials WHERE api_key = 'demo'), 'https://example.com/v', 'best', 'success', 'done',
         'jobs', 'b-' || (i / 100), 1, 1 FROM generate_series(1, 1000) AS i"
PG_JOBS_URL="http://127.0.0.1:$PG_MEDIA/jobs?per_page=200"
curl -sf -H "X-API-KEY: $PG_TOKEN" "$PG_JOBS_URL" | python3 -c 'import sys, json; n = len(json.load(sys.stdin)["jobs"]); sys.exit(0 if n == 200 else f"the PostgreSQL page has {n} jobs")'
JOBS_1K_PG=$(rps "$PG_JOBS_URL" "X-API-KEY: $PG_TOKEN")
add_jobs 1000000
JOBS_1M=$(rps "$JOBS_URL" "X-API-KEY: $TOKEN")
JOBS_DEEP=$(rps "$JOBS_URL&after=500000" "X-API-KEY: $TOKEN")
curl -sf -H "X-API-KEY: $TOKEN" "$JOBS_URL&after=500000" | python3 -c 'import sys, json; n = len(json.load(sys.stdin)["jobs"]); sys.exit(0 if n == 200 else f"the deep page has {n} jobs")'

python3 - "$BIG_MIB" "$SMALL" "$QUEUE_SECONDS" "$HAND20_SECONDS" "$DL_COUNT" "$DL_RPS" "$HELLO_AGAIN" \
  "${FETCH_TIMES[*]}" "${HAND_TIMES[*]}" "$JOBS_1K" "$JOBS_1M" "$JOBS_DEEP" "$JOBS_1K_PG" <<'PY'
import statistics, sys
big, small, queue, hand20, dl_count, dl_rps, hello = sys.argv[1:8]
fetch = [float(x) for x in sys.argv[8].split()]
hand = [float(x) for x in sys.argv[9].split()]
f, h = statistics.median(fetch), statistics.median(hand)
print(f"POST /fetch of a {big} MiB mp4 to success: {f:.2f} s (median of 3), yt-dlp by hand {h:.2f} s: "
      f"ratio {f / h:.2f}  (goal <= 1.15)")
per_job, per_hand = float(queue) / int(small), float(hand20) / 20
print(f"{small} small fetches queued at once, one at a time: {per_job * 1000:.0f} ms each; yt-dlp by hand "
      f"{per_hand * 1000:.0f} ms: the queue's own cost {1000 * (per_job - per_hand):.0f} ms per job  (goal < 20 ms)")
print(f"downloader-api GET /api/downloads ({dl_count} entries): {float(dl_rps):.0f} req/s, C hello-world {float(hello):.0f} req/s: "
      f"ratio {float(dl_rps) / float(hello):.3f}")
jobs_1k, jobs_1m, jobs_deep = (float(x) for x in sys.argv[10:13])
print(f"jobs-api GET /jobs?per_page=200: {jobs_1k:.0f} req/s at 1 K jobs, {jobs_1m:.0f} at 1 M (a deep keyset page {jobs_deep:.0f}), "
      f"C hello-world {float(hello):.0f} req/s: 1 M / 1 K {jobs_1m / jobs_1k:.2f}, deep / 1 K {jobs_deep / jobs_1k:.2f}  (goal >= 0.5)")
jobs_pg = float(sys.argv[13])
print(f"jobs-api GET /jobs?per_page=200 at 1 K jobs on PostgreSQL: {jobs_pg:.0f} req/s: ratio PostgreSQL / SQLite {jobs_pg / jobs_1k:.2f}, "
      f"PostgreSQL / C hello-world {jobs_pg / float(hello):.3f}")
PY

# ------------------------------------------------------------------ a 1 GiB job into the account's bucket (moto)
MOTO_PORT=$(free_port)
"$PWD/.venv/bin/python" -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >/dev/null 2>&1 & MOTO=$!
for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$MOTO_PORT/" && break; sleep 0.2; done
curl -sf -o /dev/null -X PUT "http://127.0.0.1:$MOTO_PORT/bench"
curl -sf -o /dev/null -H "X-API-KEY: $TOKEN" -H 'Content-Type: application/json' "http://127.0.0.1:$MEDIA/user/s3" \
  -d "{\"bucket\": \"bench\", \"region\": \"us-east-1\", \"endpoint\": \"http://localhost:$MOTO_PORT\", \"path_style\": true,
       \"access_key_id\": \"AKIABENCHMARK0000001\", \"secret_access_key\": \"bench-secret-access-key-0000000000000000\"}"
truncate -s 1G "$RUN/origin/one-gib.mp4"
WORKER_PID=$(pgrep -f "worker --database $RUN/fetchgate.sqlite")
JOB=$(curl -sf -H "X-API-KEY: $TOKEN" -H 'Content-Type: application/json' -d "{\"url\": \"http://localhost:$ORIGIN_PORT/one-gib.mp4\"}" \
  "http://127.0.0.1:$MEDIA/jobs" | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
UPLOAD_FROM=""
for _ in $(seq 3000); do
  BODY=$(curl -sf -H "X-API-KEY: $TOKEN" "http://127.0.0.1:$MEDIA/jobs/$JOB")
  case $BODY in
    *'"status":"Completed"'*) break ;;
    *'"status":"Failed"'*) echo "the 1 GiB bucket job failed: $BODY" >&2; exit 1 ;;
    *'"step":"uploading"'*) [ -n "$UPLOAD_FROM" ] || UPLOAD_FROM=$(now) ;;
  esac
  sleep 0.2
done
UPLOAD_SECONDS=$(elapsed "${UPLOAD_FROM:-$(now)}" "$(now)")
case $BODY in *'"s3_url":"http'*) ;; *) echo "the 1 GiB job has no s3_url: $BODY" >&2; exit 1 ;; esac
WORKER_KB=$(awk '/VmHWM/ {print $2}' "/proc/$WORKER_PID/status")
rm -f "$RUN/origin/one-gib.mp4"
python3 -c "import sys; s = float(sys.argv[1]); print(f'1 GiB job to the account bucket (moto, multipart): probe + upload {s:.1f} s, {1024 / s:.0f} MiB/s; worker peak RSS {int(sys.argv[2]) // 1024} MiB (goal < 64 MiB)')" \
  "$UPLOAD_SECONDS" "$WORKER_KB"

# ------------------------------------------------------------------ the queue's claim rate on PostgreSQL
# Order emails into an outbox are the cheapest real job (no network: one small file each). A worker
# node here is the `worker` process `serve` runs (nothing else of a node claims jobs) with the
# node's defaults, its own data and outbox, on a fresh database of the same cluster: the queue is
# filled in one transaction, the nodes nudged as a dialect does after a write, and timed until
# every email is in an outbox. CPU is read from /proc: what postgres and the workers used.
CLAIM_JOBS=${BENCH_CLAIM_JOBS:-3000}
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
echo "queue claim rate on PostgreSQL ($CLAIM_JOBS order emails into an outbox; CPU in cores, from /proc):"
for run in "1 1" "2 1" "2 4"; do
  read -r nodes threads <<<"$run"
  claim_rate "$nodes" "$threads"
  read -r rate pg_cores worker_cores <<<"$CLAIMED"
  printf '  %s worker node(s), %s short-lane thread(s) each: %5s jobs/s  (postgres %s cores, workers %s)\n' \
    "$nodes" "$threads" "$rate" "$pg_cores" "$worker_cores"
done
