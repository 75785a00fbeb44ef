#!/usr/bin/env bash
# `switchyard inspect` on every conformance model (text and JSON, the JSON checked against the file by an
# independent parser), on a file of an unknown architecture, and on bad input.
set -euo pipefail
bin=$1
shared=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in "$shared"/conformance/models/*.gguf; do
  "$bin" inspect "$f" > "$tmp/out.txt"
  for section in "hyper-parameters" "routing" "tokenizer" "parameters" "per expert" "memory" "tensors ("; do
    grep -q "$section" "$tmp/out.txt" || { echo "inspect $f: no '$section' in the text" >&2; exit 1; }
  done
  "$bin" inspect --json "$f" > "$tmp/out.json"
  python3 "$here/inspect_check.py" check "$tmp/out.json" "$f" || { echo "inspect --json $f" >&2; exit 1; }
done

# Vocabulary-only files (no tensors; one of an architecture switchyard does not run).
for f in "$shared"/conformance/tokenizer/*.gguf; do
  "$bin" inspect "$f" > "$tmp/out.txt"
  grep -q "no tensors" "$tmp/out.txt" || { echo "inspect $f: no note about the missing tensors" >&2; exit 1; }
  "$bin" inspect --json "$f" > "$tmp/out.json"
  python3 "$here/inspect_check.py" check "$tmp/out.json" "$f" || { echo "inspect --json $f" >&2; exit 1; }
done

# Unknown architecture: metadata and tensors with a note, exit status 0.
python3 "$here/inspect_check.py" write-unknown "$tmp/mystery.gguf"
"$bin" inspect "$tmp/mystery.gguf" > "$tmp/out.txt"
grep -q "not supported" "$tmp/out.txt"
grep -q "mystery.weight" "$tmp/out.txt"
"$bin" inspect --json "$tmp/mystery.gguf" > "$tmp/out.json"
python3 "$here/inspect_check.py" check "$tmp/out.json" "$tmp/mystery.gguf"

# Bad input: a clear error naming the file, non-zero status, no crash.
head -c 100 "$shared/conformance/models/olmoe-tiny.f32.gguf" > "$tmp/truncated.gguf"
if "$bin" inspect "$tmp/truncated.gguf" 2> "$tmp/err.txt"; then echo "truncated file accepted" >&2; exit 1; fi
grep -q "truncated.gguf" "$tmp/err.txt"
if "$bin" inspect "$tmp/does-not-exist.gguf" 2> "$tmp/err.txt"; then echo "missing file accepted" >&2; exit 1; fi
grep -q "does-not-exist" "$tmp/err.txt"
echo "inspect: ok"
