#!/usr/bin/env bash
# The shipped composition (models/composition.toml: the generalist, the code, German and Russian experts, the
# embedding router) behind `serve --models`: the official `openai` npm client asks `auto` with held-out
# paragraphs of the validation texts (tests/data/composition_heldout.jsonl: never in the router's training
# examples) and gets the expected model in the response's `model` and `routing.model`.
# Usage: serve_composition_heldout.sh SWITCHYARD [SHARED_DIR]
set -euo pipefail
sy=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/serve/common.sh"
cache=$(dirname "$sy")/npm-cache/serve-openai
npm_install "$cache" openai@6.30.1
out=$(mktemp -d)
trap 'stop_server >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; [ -f "$out/server.log" ] && { echo "--- server log"; cat "$out/server.log"; }; exit 1; }
composition=$(realpath "$here/../../models/composition.toml")
cases=$(realpath "$here/../data/composition_heldout.jsonl")
start_server "$out/server.log" --models "$composition" --parallel 2 -t 1 -c 256
timeout 300 node "$here/serve/composition_client.mjs" "$cache/node_modules" "http://127.0.0.1:$port/v1" "$cases" 1 ||
  fail "the openai client against the shipped composition"
stop_server || fail "stopping the server"
echo "serve_composition_heldout: ok"
