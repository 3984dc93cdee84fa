#!/usr/bin/env bash
# The HTTP suite once per backend named, all at once: run-backends.sh BIN_DIR PYTHON BACKEND…
# (BACKEND: sqlite | postgres-s3, see support/backends.py). Each run's output lines are prefixed
# with its backend; the exit status is non-zero when any run failed, and the summary says which.
# INTEGRATION_TESTS names other test paths (default: the whole suite, and on sqlite the short
# reliability suite too, tests/reliability with FETCHGATE_RELIABILITY=short: it overlaps the longer
# postgres-s3 run).
set -uo pipefail
trap 'trap - INT TERM; kill 0' INT TERM
bin=$1 py=$2; shift 2
cd "$(dirname "$0")/../.."
pids=() names=()
for backend in "$@"; do
    paths=${INTEGRATION_TESTS:-tests/integration}
    if [ -z "${INTEGRATION_TESTS:-}" ] && [ "$backend" = sqlite ]; then paths="$paths tests/reliability"; fi
    (FETCHGATE_TEST_BACKEND=$backend FETCHGATE_BIN=$bin "$py" -u -m pytest -q -p no:cacheprovider $paths 2>&1 \
        | sed -u "s/^/[$backend] /"; exit "${PIPESTATUS[0]}") &
    pids+=($!) names+=("$backend")
done
status=0
for i in "${!pids[@]}"; do
    wait "${pids[$i]}"; code=$?
    if [ "$code" != 0 ]; then status=1; echo "integration on ${names[$i]}: FAILED (exit $code)"; else echo "integration on ${names[$i]}: passed"; fi
done
exit $status
