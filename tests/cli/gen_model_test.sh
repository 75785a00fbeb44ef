#!/usr/bin/env bash
# `switchyard gen-model`: tiny presets and dimension overrides produce files inspect reads back with the
# requested shapes; one seed gives one file; bad arguments fail with a message that names the problem.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" gen-model --list | grep -q "qwen3-30b-a3b"

"$bin" gen-model -p qwen2moe-tiny -t q8_0 -s 5 -o "$tmp/a.gguf" -q 2> /dev/null
"$bin" gen-model -p qwen2moe-tiny -t q8_0 -s 5 -j 1 -o "$tmp/b.gguf" -q 2> /dev/null
cmp "$tmp/a.gguf" "$tmp/b.gguf"
"$bin" inspect --json "$tmp/a.gguf" > "$tmp/a.json"
python3 "$here/inspect_check.py" check "$tmp/a.json" "$tmp/a.gguf"

# Given dimensions: an architecture's tiny shape with overrides.
"$bin" gen-model -a qwen3moe --set block_count=2 --set expert_count=8 --set expert_used_count=2 \
  --set embedding_length=256 --vocab 300 -t q4_k_m -o "$tmp/c.gguf" -q 2> /dev/null
"$bin" inspect --json "$tmp/c.gguf" > "$tmp/c.json"
python3 "$here/inspect_check.py" check "$tmp/c.json" "$tmp/c.gguf"
python3 - "$tmp/c.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r['hparams']['n_layer'] == 2 and r["hparams"]["n_embd"] == 256, r['hparams']
assert r['routing']['n_expert'] == 8 and r['routing']['n_expert_used'] == 2, r['routing']
assert r['tokenizer']['n_vocab'] == 300
types = {t['name']: t['type'] for t in r['tensors']}
assert types['output.weight'] == 'q6_K' and types['blk.0.ffn_gate_inp.weight'] == 'f32', types
assert types['blk.0.attn_k.weight'] == 'q8_0'  # 8 experts: llama-quantize's Q8_0 rule
PY

expect_error() {  # expect_error NEEDLE ARGS...: fails unless the command fails and stderr contains NEEDLE
  local needle=$1
  shift
  if "$bin" gen-model "$@" -o "$tmp/bad.gguf" 2> "$tmp/err.txt"; then echo "accepted: $*" >&2; exit 1; fi
  grep -q -- "$needle" "$tmp/err.txt" || { echo "'$*': expected '$needle' in:" >&2; cat "$tmp/err.txt" >&2; exit 1; }
  [ ! -e "$tmp/bad.gguf" ] || { echo "'$*' left a file behind" >&2; exit 1; }
}
expect_error "unknown preset 'nope'" -p nope
expect_error "unknown architecture 'bert'" -a bert
expect_error "exactly one of" -p olmoe-tiny -a olmoe
expect_error "exactly one of"
expect_error "unknown tensor type 'q9_9'" -p olmoe-tiny -t q9_9
expect_error "expected KEY=VALUE" -p olmoe-tiny --set block_count
expect_error "unsigned 32-bit integer" -p olmoe-tiny --set block_count=-3
expect_error "expert_used_count" -p olmoe-tiny --set expert_used_count=99
# A mistyped key is refused, naming it and the keys that exist.
expect_error "olmoe has no key 'olmoe.block_cont' (keys: " -p olmoe-tiny --set block_cont=2
grep -q "block_count, " "$tmp/err.txt" || { cat "$tmp/err.txt" >&2; exit 1; }
expect_error "below the minimum" -p olmoe-tiny --vocab 10
if "$bin" gen-model -p olmoe-tiny -q 2> "$tmp/err.txt"; then echo "no output accepted" >&2; exit 1; fi
grep -q -- "--output" "$tmp/err.txt"
echo "gen-model: ok"
