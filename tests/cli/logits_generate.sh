#!/usr/bin/env bash
# The logits/generate machine interface on a conformance model: output shape, the greedy continuation
# llama.cpp recorded, and clear errors for bad input. Usage: logits_generate.sh SWITCHYARD SHARED_DIR
set -euo pipefail
bin=$1
shared=$2
model=$shared/conformance/models/qwen3moe-tiny.f32.gguf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" logits -m "$model" --tokens 509,498,497,502,193,87,469,53 --out "$tmp/l.bin"
size=$(stat -c %s "$tmp/l.bin")
[ "$size" -eq $((8 * 512 * 4)) ] || { echo "logits file has $size bytes, want $((8 * 512 * 4))"; exit 1; }

# Free-running greedy decoding reproduces llama.cpp's recorded continuation (refs/.../s8.json "greedy").
got=$("$bin" generate -m "$model" --tokens 509,498,497,502,193,87,469,53 -n 16 --greedy)
want=278,306,383,143,501,217,353,167,278,339,55,339,55,339,55,339
[ "$got" = "$want" ] || { echo "greedy: got $got, want $want"; exit 1; }

# llama.cpp's -t spelling of --threads; the thread count never changes the numbers.
t2=$("$bin" generate -m "$model" --tokens 509,498,497,502,193,87,469,53 -n 16 --greedy -t 2)
[ "$t2" = "$want" ] || { echo "greedy with -t 2: got $t2, want $want"; exit 1; }
"$bin" logits -m "$model" --tokens 509,498,497,502,193,87,469,53 -t 2 --out "$tmp/l2.bin"
cmp -s "$tmp/l.bin" "$tmp/l2.bin" || { echo "logits with -t 2 differ from one thread"; exit 1; }

# Sampling is reproducible for a seed.
a=$("$bin" generate -m "$model" --tokens 1,2,3 -n 8 --temp 0.9 --top-k 20 --top-p 0.9 --seed 7)
b=$("$bin" generate -m "$model" --tokens 1,2,3 -n 8 --temp 0.9 --top-k 20 --top-p 0.9 --seed 7)
[ "$a" = "$b" ] || { echo "seeded sampling differs: $a vs $b"; exit 1; }

expect_error() {  # expect_error PATTERN ARGS...: fails unless the command fails with PATTERN on stderr
  local pattern=$1; shift
  if "$bin" "$@" 2>"$tmp/err" >/dev/null; then echo "expected failure: $*"; exit 1; fi
  grep -q "$pattern" "$tmp/err" || { echo "wrong error for $*:"; cat "$tmp/err"; exit 1; }
}
expect_error "outside the vocabulary" logits -m "$model" --tokens 1,99999 --out "$tmp/x.bin"
expect_error "not a non-negative token id" logits -m "$model" --tokens 1,,2 --out "$tmp/x.bin"
expect_error "not a non-negative token id" generate -m "$model" --tokens 1,-2 -n 2 --greedy
expect_error "cannot open\|No such file\|error" logits -m "$tmp/missing.gguf" --tokens 1 --out "$tmp/x.bin"
echo ok
