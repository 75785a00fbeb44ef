#!/usr/bin/env bash
# Continuous batching under load: 64 greedy requests at concurrency 8 against `switchyard serve --parallel 4`;
# each reply must equal `switchyard generate --greedy` for its prompt alone (tests/cli/serve/load.py).
# Usage: serve_load.sh SWITCHYARD [SHARED_DIR]
set -euo pipefail
sy=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/serve/common.sh"
model=$root/models/switchyard-moe-mini.q8_0.gguf
out=$(mktemp -d)
trap 'stop_server >/dev/null 2>&1 || true; rm -rf "$out"' EXIT

start_server "$out/server.log" -m "$model" --parallel 4 -t 2
status=0
timeout 600 python3 "$here/serve/load.py" "$sy" "$model" "$port" || status=$?
# Afterwards every slot is free and nothing waits.
metrics=$(curl -sf "http://127.0.0.1:$port/metrics")
grep -qx 'switchyard_active_sequences 0' <<<"$metrics" || { echo "FAIL: sequences still active"; status=1; }
grep -qx 'switchyard_queue_depth 0' <<<"$metrics" || { echo "FAIL: requests still queued"; status=1; }
grep '^switchyard_batch_sequences_bucket' <<<"$metrics" | head -4
stop_server || status=1
[ $status -eq 0 ] || { echo "--- server log"; cat "$out/server.log"; }
exit $status
