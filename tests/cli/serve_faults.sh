#!/usr/bin/env bash
# `switchyard serve` under faults (tests/cli/serve/faults.py): bad bodies, a 100 MB body, unknown routes, dropped
# connections, a disconnect mid-stream, slow readers, a full queue; the server must answer afterwards with every
# slot free. Then SIGTERM with requests in flight: they finish (or end cleanly) and the server exits 0.
# Usage: serve_faults.sh SWITCHYARD [SHARED_DIR]
set -euo pipefail
sy=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/serve/common.sh"
out=$(mktemp -d)
trap 'stop_server >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
status=0

start_server "$out/main.log" --parallel 2 -t 1
timeout 300 python3 "$here/serve/faults.py" "$port" main || status=1
stop_server || status=1
[ $status -eq 0 ] || { echo "--- server log"; cat "$out/main.log"; }

start_server "$out/busy.log" --parallel 1 --queue 0 -t 1
timeout 120 python3 "$here/serve/faults.py" "$port" busy || status=1
stop_server || status=1

# SIGTERM with a stream and a plain request in flight: both complete, then the server exits 0.
# --drain 200: the ASan build on a busy machine may need long for the 160 tokens.
start_server "$out/term.log" --parallel 2 -t 1 --drain 200
url=http://127.0.0.1:$port/v1/completions
curl -sN --max-time 250 "$url" -d '{"prompt":"A","max_tokens":160,"ignore_eos":true,"stream":true}' >"$out/stream" &
c1=$!
curl -s --max-time 250 "$url" -d '{"prompt":"B","max_tokens":160,"ignore_eos":true}' >"$out/plain" &
c2=$!
# Both must be running (not queued, not yet arriving) when the signal comes: at most 30 s.
for _ in $(seq 1 600); do
  curl -s "http://127.0.0.1:$port/health" | grep -q '"slots_processing":2' && break
  kill -0 $c1 2>/dev/null && kill -0 $c2 2>/dev/null || break  # already done (a fast machine)
  sleep 0.05
done
stop_server || status=1
wait $c1 || { echo "FAIL: the streaming client failed"; status=1; }
wait $c2 || { echo "FAIL: the plain client failed"; status=1; }
if ! tail -c 200 "$out/stream" | grep -q 'data: \[DONE\]'; then
  echo "FAIL: the stream in flight at SIGTERM did not end with [DONE]"; tail -c 300 "$out/stream"; status=1
fi
if ! python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["usage"]["completion_tokens"]==160' "$out/plain"; then
  echo "FAIL: the plain request in flight at SIGTERM did not finish"; cat "$out/plain"; status=1
fi
grep -q '^serve: stopped' "$out/term.log" || { echo "FAIL: no 'serve: stopped'"; cat "$out/term.log"; status=1; }
[ $status -eq 0 ] && echo "faults: all passed"
exit $status
