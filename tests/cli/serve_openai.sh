#!/usr/bin/env bash
# `switchyard serve` against the official `openai` npm client (installed into the build tree): chat plain and
# streamed, completions, models, logprobs, stop strings, routing, and the client's 400/401/404 error types.
# Usage: serve_openai.sh SWITCHYARD [SHARED_DIR]
set -euo pipefail
sy=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/serve/common.sh"
cache=$(dirname "$sy")/npm-cache/serve-openai
npm_install "$cache" openai@6.30.1
out=$(mktemp -d)
trap 'stop_server >/dev/null 2>&1 || true; rm -rf "$out"' EXIT

start_server "$out/server.log" --api-key test-key --parallel 2 -t 1
status=0
timeout 300 node "$here/serve/openai_client.mjs" "$cache/node_modules" "http://127.0.0.1:$port/v1" test-key \
  switchyard-moe-mini.q8_0 || status=$?
stop_server || status=1
[ $status -eq 0 ] || { echo "--- server log"; cat "$out/server.log"; }
exit $status
