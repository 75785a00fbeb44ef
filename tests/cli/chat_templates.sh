#!/usr/bin/env bash
# Byte-for-byte conformance of our chat-template rendering with @huggingface/jinja, the implementation
# transformers.js uses. The reference renders tests/chat/cases.json with the real MoE templates in
# tests/data/chat_templates/; `switchyard chat-template` must print exactly the same bytes, and fail where
# the reference fails (raise_exception) with the same message.
# Usage: chat_templates.sh SWITCHYARD_BINARY [SHARED_DIR]
set -euo pipefail
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$(dirname "$bin")
jinja_version=0.5.11
cache="$build_dir/npm-cache/huggingface-jinja-$jinja_version"
pkg="$cache/node_modules/@huggingface/jinja"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "FAIL: node and npm are needed for the reference renderer (scripts/install-deps.sh installs them)" >&2
  exit 1
fi
if [ ! -f "$pkg/package.json" ]; then
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "@huggingface/jinja@$jinja_version" >/dev/null
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# strftime_now() prints local time: pin the zone so both sides agree.
export TZ=UTC
node "$root/tests/chat/render_reference.mjs" "$pkg" "$root/tests/chat/cases.json" "$root/tests/data/chat_templates" "$out/ref"

passed=0
failed=0
for input in "$out"/ref/*.input.json; do
  name=$(basename "$input" .input.json)
  template=$(sed -n 's/^ "template": "\(.*\)",$/\1/p' "$input")
  status=0
  "$bin" chat-template --template "$root/tests/data/chat_templates/$template" --input "$input" \
    >"$out/$name.got" 2>"$out/$name.err" || status=$?
  if [ -f "$out/ref/$name.expected" ]; then
    if [ $status -eq 0 ] && cmp -s "$out/ref/$name.expected" "$out/$name.got"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAIL $name (exit $status): output differs from @huggingface/jinja" >&2
      cat "$out/$name.err" >&2
      diff <(cat -A "$out/ref/$name.expected") <(cat -A "$out/$name.got") | head -20 >&2 || true
    fi
  else
    expected_error=$(cat "$out/ref/$name.error")
    if [ $status -ne 0 ] && grep -qF -- "$expected_error" "$out/$name.err"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAIL $name (exit $status): expected an error containing: $expected_error" >&2
      cat "$out/$name.err" >&2
    fi
  fi
done
echo "chat templates: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
