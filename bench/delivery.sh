#!/usr/bin/env bash
# Delivery bench (issue 14, sections downloads, upload, limits), standalone:
#   FETCHGATE_BIN=$PWD/.build/release bench/delivery.sh
# It starts its own `fetchgate serve` in a temp run dir (with a static server block and C libfcgi
# hello-worlds of its own in conf.d) and stops everything on exit. Results are ROW lines on stdout:
#   ROW<TAB>section<TAB>measurement<TAB>figure<TAB>baseline<TAB>ratio<TAB>goal<TAB>verdict
# Other lines are log.
#   downloads  1 KiB, 1 MiB and 100 MiB, the same bytes, through each delivery path against nginx
#              static of that file: the Files signed link (/dl/, secure_link), the store's counted
#              /get/GUID and the Downloader's /api/download/ID/file (both X-Accel-Redirect), and on a
#              second stack whose storage is S3 (moto) the redirect a Files download answers.
#   limits     FastCGI connection reuse (upstream keepalive K + fastcgi_keep_conn): K against the
#              request threads T and nginx's W workers (T <= W*K starves), and the store read, the
#              /get 1 MiB download and the C hello-world without and with the pool.
#   upload     a 1 GiB upload through the Files API: files-api's RSS before and its peak, and the
#              time against nginx writing the same body to a file alone.
# Env: BENCH_SECONDS (wrk duration, 8), BENCH_CONNECTIONS (64), BENCH_QUICK=1 (2 s runs, no 1 GiB
# upload but 128 MiB, no S3 stack).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FETCHGATE_BIN:-$PWD/.build/release}
QUICK=${BENCH_QUICK:-0}
DURATION=${BENCH_SECONDS:-$([ "$QUICK" = 1 ] && echo 2 || echo 8)}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
RUN=$(mktemp -d /tmp/fetchgate-delivery.XXXXXX)
THREADS=${BENCH_THREADS:-$(( $(nproc) * 2 ))}
PIDS=()
SERVES=()

cleanup() {
  for pid in "${SERVES[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT

# ------------------------------------------------------------------ helpers
# row, free_port, now, elapsed, ratio and verdict are bench/lib.sh's; rps here also takes wrk options.
. bench/lib.sh
# wrk_raw URL [HEADER] [wrk options…]: wrk's whole report.
wrk_raw() {
  local url=$1; shift
  local header=()
  if [ $# -gt 0 ] && [ -n "$1" ]; then header=(-H "$1"); fi
  [ $# -gt 0 ] && shift
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "${header[@]}" "$@" "$url"
}
# rps URL [HEADER]: requests per second; exits on any non-2xx/3xx reply or socket error.
rps() {
  local out
  out=$(wrk_raw "$@")
  if echo "$out" | grep -q "Non-2xx\|Socket errors"; then echo "errors from $1:" >&2; echo "$out" >&2; exit 1; fi
  echo "$out" | awk '/Requests\/sec/ {printf ($2 < 100 ? "%.1f" : "%.0f"), $2}'
}
# rps_cpu RUN_DIR PID URL [HEADER]: "REQ/S CPU-µs-per-request" of nginx's workers and process PID together.
rps_cpu() {
  local dir=$1 pid=$2 out; shift 2
  cpu_ticks() { { for w in $(pgrep -P "$(cat "$dir/nginx.pid")"); do cat "/proc/$w/stat"; done; cat "/proc/$pid/stat"; } \
    | awk '{s += $14 + $15} END {print s}'; }
  local c0 c1
  c0=$(cpu_ticks); out=$(wrk_raw "$@"); c1=$(cpu_ticks)
  if echo "$out" | grep -q "Non-2xx\|Socket errors"; then echo "errors from $1:" >&2; echo "$out" >&2; exit 1; fi
  echo "$out" | awk -v ticks=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
    '/requests in/ {n = $1} /Requests\/sec/ {r = $2} END {printf "%.0f %.0f", r, ticks / hz / n * 1e6}'
}
wait_http() { # URL: until it answers (any status)
  for _ in $(seq 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "$1 does not answer" >&2; exit 1
}
# start_stack DIR STORE_PORT MEDIA_PORT THREADS [serve options…]: sets SERVE_PID
start_stack() {
  local dir=$1 store=$2 media=$3 threads=$4; shift 4
  mkdir -p "$dir/conf.d"
  "$BIN/fetchgate" serve --run-dir "$dir" --store-port "$store" --media-port "$media" --threads "$threads" "$@" \
    >"$dir/serve.out" 2>&1 & SERVE_PID=$!
  SERVES+=("$SERVE_PID")
  for _ in $(seq 300); do
    curl -s -o /dev/null "http://127.0.0.1:$store/api/account" && [ -f "$dir/demo-credentials" ] && return 0
    sleep 0.1
  done
  echo "fetchgate serve did not start:" >&2; cat "$dir/serve.out" >&2; exit 1
}
files_upload() { # TOKEN MEDIA_PORT FILE: the Files API id, once the file is ready
  local id
  id=$(curl -sf -H "X-API-KEY: $1" -F "file=@$3" "http://127.0.0.1:$2/files" | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
  for _ in $(seq 300); do
    curl -sf -H "X-API-KEY: $1" "http://127.0.0.1:$2/files/$id" | grep -q '"status":"ready"' && { echo "$id"; return 0; }
    sleep 0.1
  done
  echo "file $id not ready" >&2; exit 1
}
nginx_reload() { # DIR: new workers (their upstream pools empty), the old ones gone
  local master old
  master=$(cat "$1/nginx.pid")
  old=$(pgrep -P "$master" | sort)
  kill -HUP "$master"
  for _ in $(seq 100); do
    local alive=0
    for pid in $old; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && [ "$(pgrep -P "$master" | wc -l)" -ge 1 ] && return 0
    sleep 0.1
  done
}

# ------------------------------------------------------------------ the stack
STORE=$(free_port); MEDIA=$(free_port); BENCH=$(free_port)
start_stack "$RUN" "$STORE" "$MEDIA" "$THREADS"
# nginx's workers W and the pool K the product rendered for its dialects (T threads each).
WORKERS=$(awk '/^worker_processes/ {gsub(";", ""); print $2}' "$RUN/nginx.conf")
[ "$WORKERS" = auto ] && WORKERS=$(nproc)
POOL=$(awk '/upstream store_api/ {u = 1} u && /keepalive / {gsub(";", ""); print $2; exit}' "$RUN/nginx.conf")
POOL=${POOL:-0}
echo "nginx workers W=$WORKERS, FastCGI threads T=$THREADS per dialect, the product's upstream pool K=$POOL"
row limits "the product's pool: keepalive K per dialect upstream, from T threads and W workers" "K=$POOL (T=$THREADS, W=$WORKERS)" - - "W×K < T" \
  "$([ $((WORKERS * POOL)) -lt "$THREADS" ] && echo met || echo missed)"
AUTH="Authorization: Basic $(base64 -w0 < <(tr -d '\n' < "$RUN/demo-credentials"))"
TOKEN=$(cut -d: -f2 "$RUN/demo-credentials" | tr -d '\n')
KEY=(-H "X-API-KEY: $TOKEN")

# The C hello-world: one without a pool, and the limit experiment's (each its own T).
gcc -O2 -o "$RUN/hello" bench/hello.c -lfcgi -lpthread
"$RUN/hello" "$RUN/hello.sock" "$THREADS" & PIDS+=($!)
LIMIT_POOL=2
LIMIT_THREADS=$(python3 -c "import sys; w, k = int(sys.argv[1]), int(sys.argv[2]); print(' '.join(str(t) for t in sorted({max(1, w * k // 2), w * k, w * k + 1, 2 * w * k})))" "$WORKERS" "$LIMIT_POOL")
for t in $LIMIT_THREADS; do "$RUN/hello" "$RUN/hello-$t.sock" "$t" & PIDS+=($!); done

{
  cat <<CONF
upstream bench_hello { server unix:$RUN/hello.sock; }
CONF
  for t in $LIMIT_THREADS; do echo "upstream bench_limit_$t { server unix:$RUN/hello-$t.sock; keepalive $LIMIT_POOL; }"; done
  cat <<CONF
server {
    listen 127.0.0.1:$BENCH;
    location /static/ { alias $RUN/static/; }
    location = /hello { include $PWD/nginx/fastcgi.conf; fastcgi_pass bench_hello; }
    # nginx writing an upload body alone: the Files API upload location's buffering, passed to hello.
    location = /upload {
        client_max_body_size 2g;
        client_body_temp_path $RUN/data/tmp/body;
        client_body_in_file_only clean;
        fastcgi_pass_request_body off;
        include $PWD/nginx/fastcgi.conf;
        fastcgi_param REQUEST_BODY_FILE \$request_body_file;
        fastcgi_pass bench_hello;
    }
CONF
  for t in $LIMIT_THREADS; do
    echo "    location = /limit/$t { include $PWD/nginx/fastcgi.conf; fastcgi_keep_conn on; fastcgi_read_timeout 2s; fastcgi_pass bench_limit_$t; }"
  done
  echo "}"
} > "$RUN/conf.d/delivery.conf"
nginx_reload "$RUN"
wait_http "http://127.0.0.1:$BENCH/hello"

# ------------------------------------------------------------------ the files, each delivered four ways
mkdir -p "$RUN/static"
declare -A SIZE=([1KiB]=1024 [1MiB]=1048576 [100MiB]=104857600)
NAMES=(1KiB 1MiB 100MiB)
declare -A SIGNED GET DL
for name in "${NAMES[@]}"; do
  file="$RUN/static/$name.bin"
  head -c "${SIZE[$name]}" /dev/urandom > "$file"
  # Store: the file in the account's storage, an item, an order with (nearly) unlimited downloads.
  "$BIN/fetchgate" upload --run-dir "$RUN" --key demo "$file" >/dev/null
  curl -sf -H "$AUTH" -X POST "http://127.0.0.1:$STORE/api/items/create" -d "item[sku]=BENCH-$name&item[filename]=$name.bin" >/dev/null
  guid=$(curl -sf -H "$AUTH" -X POST "http://127.0.0.1:$STORE/api/orders/create" \
    -d "order[send_email]=false&order[order_items][][sku]=BENCH-$name&order[order_items][][downloads_remaining]=100000000" \
    | sed -n 's:.*<guid>\(.*\)</guid>.*:\1:p' | head -1)
  GET[$name]="/get/$guid"
  # Files API: upload, wait until ready, take the signed link.
  id=$(files_upload "$TOKEN" "$MEDIA" "$file")
  SIGNED[$name]=$(curl -s -o /dev/null -w '%{redirect_url}' "${KEY[@]}" "http://127.0.0.1:$MEDIA/files/$id/$name.bin")
  # Downloader: a completed download of the same stored object (the row written straight into the store).
  DL[$name]=$(python3 - "$RUN/fetchgate.sqlite" "$id" "$name" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=30)
account, key, size = con.execute("SELECT account_id, storage_key, size_bytes FROM media_files WHERE public_id = ?", (sys.argv[2],)).fetchone()
public = "bench-dl-" + sys.argv[3]
with con:
    con.execute("""INSERT INTO fetches (public_id, account_id, url, quality, status, step, title, filename, size_bytes,
                   content_type, storage_key, created_at, finished_at, origin, updated_at)
                   VALUES (?, ?, 'https://example.com/v', 'best', 'success', 'done', ?, ?, ?, 'application/octet-stream', ?, 1, 1, 'downloader', 1)""",
                (public, account, sys.argv[3], sys.argv[3] + ".bin", size, key))
print(public)
PY
)
  DL[$name]="/api/download/${DL[$name]}/file"
  cmp <(curl -sf "http://127.0.0.1:$STORE${GET[$name]}") "$file" || { echo "/get does not deliver $name" >&2; exit 1; }
  cmp <(curl -sf "${SIGNED[$name]}") "$file" || { echo "the signed link does not deliver $name" >&2; exit 1; }
  cmp <(curl -sf "${KEY[@]}" "http://127.0.0.1:$MEDIA${DL[$name]}") "$file" || { echo "the Downloader does not deliver $name" >&2; exit 1; }
done
echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s, $(nproc) cores, FastCGI threads: $THREADS"

# ------------------------------------------------------------------ downloads through the product (its pool)
declare -A STATIC
for name in "${NAMES[@]}"; do
  # 100 MiB replies: 8 connections (64 would each wait seconds for their share), a long timeout.
  opts=(); [ "$name" = 100MiB ] && opts=(-c8 --timeout 60s)
  goal=$([ "$name" = 100MiB ] && echo 0.98 || echo 0.9)
  # Each path against nginx static measured just before it: on a shared machine a baseline taken
  # minutes earlier is another machine.
  for path in signed get dl; do
    STATIC[$name]=$(rps "http://127.0.0.1:$BENCH/static/$name.bin" "" "${opts[@]}")
    case $path in
      signed) label="Files signed link /dl/"; r=$(rps "${SIGNED[$name]}" "" "${opts[@]}") ;;
      get) label="store counted /get/GUID"; r=$(rps "http://127.0.0.1:$STORE${GET[$name]}" "" "${opts[@]}") ;;
      dl) label="Downloader /api/download/ID/file"; r=$(rps "http://127.0.0.1:$MEDIA${DL[$name]}" "X-API-KEY: $TOKEN" "${opts[@]}") ;;
    esac
    q=$(ratio "$r" "${STATIC[$name]}")
    if [ "$name" = 1KiB ]; then
      row downloads "$label $name" "$r req/s" "nginx static ${STATIC[$name]} req/s" "$q" - -
    else
      row downloads "$label $name" "$r req/s" "nginx static ${STATIC[$name]} req/s" "$q" ">= $goal" "$(verdict "$q" ">=" "$goal")"
    fi
  done
done

# ------------------------------------------------------------------ the lever: FastCGI connection reuse
# lever T: a stack of its own with T threads per dialect (so the pool the product derives from
# them); the store read, /get 1 MiB and the C hello-world (T threads too) through a server block
# without a pool (a new unix-socket connection per request, as before) and then through the
# product's pooled upstream (hello: a pool of the same K). nginx is reloaded first: no thread is
# parked on an idle pooled connection while the pool-less block is measured.
lever() {
  local t=$1 dir="$RUN/lever-$1" store media plain k auth guid pool_conf
  store=$(free_port); media=$(free_port); plain=$(free_port)
  start_stack "$dir" "$store" "$media" "$t"
  k=$(awk '/upstream store_api/ {u = 1} u && /keepalive / {gsub(";", ""); print $2; exit}' "$dir/nginx.conf")
  k=${k:-0}
  auth="Authorization: Basic $(base64 -w0 < <(tr -d '\n' < "$dir/demo-credentials"))"
  "$BIN/fetchgate" upload --run-dir "$dir" --key demo "$RUN/static/1MiB.bin" >/dev/null
  curl -sf -H "$auth" -X POST "http://127.0.0.1:$store/api/items/create" -d "item[sku]=LEVER&item[filename]=1MiB.bin" >/dev/null
  guid=$(curl -sf -H "$auth" -X POST "http://127.0.0.1:$store/api/orders/create" \
    -d "order[send_email]=false&order[order_items][][sku]=LEVER&order[order_items][][downloads_remaining]=100000000" \
    | sed -n 's:.*<guid>\(.*\)</guid>.*:\1:p' | head -1)
  "$RUN/hello" "$dir/hello.sock" "$t" & PIDS+=($!)
  pool_conf=$([ "$k" -gt 0 ] && echo "keepalive $k;" || true)
  cat > "$dir/conf.d/lever.conf" <<CONF
upstream lever_hello_pool { server unix:$dir/hello.sock; $pool_conf }
server {
    listen 127.0.0.1:$plain;
    location ^~ /api/ { include $PWD/nginx/fastcgi.conf; fastcgi_pass unix:$dir/store.sock; }
    location ^~ /get/ { include $PWD/nginx/fastcgi.conf; fastcgi_pass unix:$dir/store.sock; }
    location ^~ /_files/ { internal; alias $dir/data/files/; }
    location = /hello { include $PWD/nginx/fastcgi.conf; fastcgi_pass unix:$dir/hello.sock; }
    location = /hello-pool { include $PWD/nginx/fastcgi.conf; fastcgi_keep_conn on; fastcgi_pass lever_hello_pool; }
}
CONF
  nginx_reload "$dir"
  wait_http "http://127.0.0.1:$plain/hello"
  cmp <(curl -sf "http://127.0.0.1:$plain/get/$guid") "$RUN/static/1MiB.bin" || { echo "the pool-less /get does not deliver" >&2; exit 1; }
  # Each pair back to back, the pool-less one after a reload (the pooled run before it parked
  # threads). Besides req/s, the CPU nginx and the FastCGI process spent per request: on a shared
  # machine the steadier of the two.
  local store_pid hello_pid
  store_pid=$(pgrep -f "store-api --socket $dir/store.sock")
  hello_pid=${PIDS[-1]}
  local read0 get0 hello0 read1 get1 hello1
  nginx_reload "$dir"; read0=$(rps_cpu "$dir" "$store_pid" "http://127.0.0.1:$plain/api/items/BILL-WAX.xml" "$auth")
  read1=$(rps_cpu "$dir" "$store_pid" "http://127.0.0.1:$store/api/items/BILL-WAX.xml" "$auth")
  nginx_reload "$dir"; get0=$(rps_cpu "$dir" "$store_pid" "http://127.0.0.1:$plain/get/$guid")
  get1=$(rps_cpu "$dir" "$store_pid" "http://127.0.0.1:$store/get/$guid")
  nginx_reload "$dir"; hello0=$(rps_cpu "$dir" "$hello_pid" "http://127.0.0.1:$plain/hello")
  hello1=$(rps_cpu "$dir" "$hello_pid" "http://127.0.0.1:$plain/hello-pool")
  local what="T=$t, W=$WORKERS, K=$k"
  pair() { # MEASUREMENT POOLED PLAIN: "rps cpu" each
    row limits "$1 with the pool ($what)" "${2% *} req/s, ${2#* } µs CPU/req" "no pool ${3% *} req/s, ${3#* } µs CPU/req" \
      "$(ratio "${2% *}" "${3% *}")" - -
  }
  pair "store read" "$read1" "$read0"
  pair "/get 1 MiB" "$get1" "$get0"
  pair "C hello-world" "$hello1" "$hello0"
  row limits "store read / C hello-world, both pooled ($what)" "${read1% *} req/s" "C hello ${hello1% *} req/s" \
    "$(ratio "${read1% *}" "${hello1% *}")" ">= 0.8" "$(verdict "$(ratio "${read1% *}" "${hello1% *}")" ">=" 0.8)"
  row limits "store read / C hello-world, neither pooled ($what)" "${read0% *} req/s" "C hello ${hello0% *} req/s" \
    "$(ratio "${read0% *}" "${hello0% *}")" ">= 0.8" "$(verdict "$(ratio "${read0% *}" "${hello0% *}")" ">=" 0.8)"
  kill -TERM "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
}
# The product's default threads (2 per core: K=1 on 2 cores), and enough threads for a pool that
# covers wrk's connections (C/W per worker: T = C + 1).
lever "$THREADS"
[ "$QUICK" = 1 ] || lever $((CONNECTIONS + 1))

# The limit: hello-worlds of T threads behind a pool of K=$LIMIT_POOL per worker (W×K parked at most),
# each location giving up after 2 s (a request whose new connection waits for a thread that never
# comes answers 504), measured over at least 6 s so that such a wait ends inside the run.
WK=$((WORKERS * LIMIT_POOL))
LIMIT_SECONDS=$(( DURATION > 6 ? DURATION : 6 ))
for t in $LIMIT_THREADS; do
  out=$(wrk_raw "http://127.0.0.1:$BENCH/limit/$t" "" -d"${LIMIT_SECONDS}s" --timeout 5s)
  r=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  total=$(echo "$out" | awk '/requests in/ {print $1}')
  bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}'); bad=${bad:-0}
  timeouts=$(echo "$out" | awk '/Socket errors/ {print $NF}'); timeouts=${timeouts:-0}
  if [ "$bad" = 0 ] && [ "$timeouts" = 0 ]; then
    figure="$r req/s, all $total answered 200"
  else
    figure="$r req/s, $bad of $total answered 504 after 2 s, $timeouts client timeouts"
  fi
  # T <= W×K can starve (whether it does in a run depends on which worker holds idle connections
  # when another needs a new one); T > W×K must never.
  if [ "$t" -le "$WK" ]; then
    row limits "hello T=$t <= W×K=$WK (W=$WORKERS, K=$LIMIT_POOL): can starve" "$figure" - - - -
  else
    row limits "hello T=$t > W×K=$WK (W=$WORKERS, K=$LIMIT_POOL)" "$figure" - - "no 504" \
      "$([ "$bad" = 0 ] && [ "$timeouts" = 0 ] && echo met || echo missed)"
  fi
done

# ------------------------------------------------------------------ a 1 GiB upload
FILES_PID=$(pgrep -f "files-api --socket $RUN/files.sock")
UPLOAD_SIZE=$([ "$QUICK" = 1 ] && echo 128M || echo 1G)
truncate -s "$UPLOAD_SIZE" "$RUN/upload.bin"
UPLOAD_MIB=$(( $(stat -c %s "$RUN/upload.bin") / 1048576 ))
RSS_BEFORE=$(awk '/VmRSS/ {print $2}' "/proc/$FILES_PID/status")
HWM_BEFORE=$(awk '/VmHWM/ {print $2}' "/proc/$FILES_PID/status")
# Twice each way, alternated, the faster of each (the page cache's writeback weighs on whichever
# comes after a gigabyte of dirty pages).
ALONE=""; OURS=""
for _ in 1 2; do
  T0=$(now); curl -sf -o /dev/null -F "file=@$RUN/upload.bin" "http://127.0.0.1:$BENCH/upload"; a=$(elapsed "$T0" "$(now)")
  T0=$(now); curl -sf -o /dev/null "${KEY[@]}" -F "file=@$RUN/upload.bin" "http://127.0.0.1:$MEDIA/files"; o=$(elapsed "$T0" "$(now)")
  ALONE=$(python3 -c "import sys; print(min(float(x) for x in sys.argv[1:] if x))" "$a" "$ALONE")
  OURS=$(python3 -c "import sys; print(min(float(x) for x in sys.argv[1:] if x))" "$o" "$OURS")
done
HWM_AFTER=$(awk '/VmHWM/ {print $2}' "/proc/$FILES_PID/status")
# What the resident pages are: the process's own (anonymous) and the shared libraries' code it
# touched (file-backed, shared with every other dialect process); PSS splits the shared ones.
ANON=$(awk '/RssAnon/ {print $2}' "/proc/$FILES_PID/status")
FILE_BACKED=$(awk '/RssFile/ {print $2}' "/proc/$FILES_PID/status")
PSS=$(awk '/^Pss:/ {print $2}' "/proc/$FILES_PID/smaps_rollup")
rm -f "$RUN/upload.bin"
mib() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1024:.1f} MiB')" "$1"; }
row upload "files-api peak RSS (VmHWM) over a $UPLOAD_MIB MiB upload" "$(mib "$HWM_AFTER")" "before: RSS $(mib "$RSS_BEFORE"), peak $(mib "$HWM_BEFORE")" - "< 32 MiB" \
  "$([ "$HWM_AFTER" -lt 32768 ] && echo met || echo missed)"
row upload "files-api resident after the upload: own and shared" "anonymous $(mib "$ANON"), PSS $(mib "$PSS")" \
  "file-backed (shared libraries) $(mib "$FILE_BACKED")" - - -
row upload "$UPLOAD_MIB MiB upload through POST /files (best of 2)" \
  "$(python3 -c "import sys; print(f'{float(sys.argv[1]):.2f} s, {int(sys.argv[2]) / float(sys.argv[1]):.0f} MiB/s')" "$OURS" "$UPLOAD_MIB")" \
  "nginx writing the body alone $(python3 -c "import sys; print(f'{float(sys.argv[1]):.2f} s')" "$ALONE")" "$(ratio "$ALONE" "$OURS")" - -

# ------------------------------------------------------------------ object storage (S3 on moto): the redirect
if [ "$QUICK" != 1 ]; then
  MOTO_PORT=$(free_port)
  "$PWD/.venv/bin/python" -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >/dev/null 2>&1 & PIDS+=($!)
  wait_http "http://127.0.0.1:$MOTO_PORT/"
  curl -sf -o /dev/null -X PUT "http://127.0.0.1:$MOTO_PORT/bench"
  printf 'key=AKIABENCH\nsecret=bench-secret\n' > "$RUN/s3-keys"; chmod 600 "$RUN/s3-keys"
  S3_STORE=$(free_port); S3_MEDIA=$(free_port)
  start_stack "$RUN/s3" "$S3_STORE" "$S3_MEDIA" "$THREADS" --storage-url "s3://bench/d?endpoint=http://127.0.0.1:$MOTO_PORT" \
    --storage-credentials-file "$RUN/s3-keys"
  S3_TOKEN=$(cut -d: -f2 "$RUN/s3/demo-credentials" | tr -d '\n')
  for name in 1MiB 100MiB; do
    id=$(files_upload "$S3_TOKEN" "$S3_MEDIA" "$RUN/static/$name.bin")
    url="http://127.0.0.1:$S3_MEDIA/files/$id/$name.bin"
    location=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H "X-API-KEY: $S3_TOKEN" "$url")
    case $location in "302 http://127.0.0.1:$MOTO_PORT/"*) ;; *) echo "the S3 download is no redirect to moto: $location" >&2; exit 1 ;; esac
    cmp <(curl -sfL -H "X-API-KEY: $S3_TOKEN" "$url") "$RUN/static/$name.bin" || { echo "the S3 redirect does not deliver $name" >&2; exit 1; }
    # The 302 alone (no bytes: only what Fetchgate does), against nginx sending the file.
    r=$(rps "$url" "X-API-KEY: $S3_TOKEN")  # 3xx is no error for wrk
    row downloads "S3 redirect $name: the 302 alone (Fetchgate's part, no bytes)" "$r req/s" - - - -
    # Followed through to moto (Python, not nginx): one curl per download both ways, 20 / 3 downloads.
    n=$([ "$name" = 1MiB ] && echo 20 || echo 3)
    T0=$(now); for _ in $(seq "$n"); do curl -sfL -o /dev/null -H "X-API-KEY: $S3_TOKEN" "$url"; done; FOLLOW=$(elapsed "$T0" "$(now)")
    T0=$(now); for _ in $(seq "$n"); do curl -sf -o /dev/null "http://127.0.0.1:$BENCH/static/$name.bin"; done; PLAIN=$(elapsed "$T0" "$(now)")
    row downloads "S3 redirect $name followed to moto (curl, $n in a row)" \
      "$(python3 -c "import sys; print(f'{float(sys.argv[1]) / int(sys.argv[2]) * 1000:.1f} ms each')" "$FOLLOW" "$n")" \
      "nginx static $(python3 -c "import sys; print(f'{float(sys.argv[1]) / int(sys.argv[2]) * 1000:.1f} ms each')" "$PLAIN" "$n")" \
      "$(ratio "$PLAIN" "$FOLLOW")" - -
  done
fi
