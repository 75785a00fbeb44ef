#!/usr/bin/env bash
# The chat page at / in Debian's chromium, driven by puppeteer-core (npm, installed into the build tree; it
# downloads no browser): a message streams a reply with its routing strip (tests/cli/serve/page.mjs).
# Usage: serve_page.sh SWITCHYARD [SHARED_DIR]. Fails without chromium (scripts/install-deps.sh installs it).
set -euo pipefail
sy=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/serve/common.sh"
chromium=
for c in /usr/lib/chromium/chromium "$(command -v chromium || true)"; do
  [ -n "$c" ] && [ -x "$c" ] && { chromium=$c; break; }
done
[ -n "$chromium" ] || { echo "FAIL: chromium is needed (scripts/install-deps.sh installs it)"; exit 1; }
cache=$(dirname "$sy")/npm-cache/serve-page
PUPPETEER_SKIP_DOWNLOAD=1 npm_install "$cache" puppeteer-core@24.9.0
out=$(mktemp -d)
trap 'stop_server >/dev/null 2>&1 || true; rm -rf "$out"' EXIT

start_server "$out/server.log" --parallel 2 -t 1
status=0
timeout 300 node "$here/serve/page.mjs" "$cache/node_modules" "$chromium" "http://127.0.0.1:$port" || status=$?
stop_server || status=1
[ $status -eq 0 ] || { echo "--- server log"; cat "$out/server.log"; }
exit $status
