#!/usr/bin/env bash
# `switchyard tokenize` output format (outside checks parse it) and its errors. Usage: tokenize.sh SWITCHYARD SHARED
set -euo pipefail
sy=$1
vocabs=$2/conformance/tokenizer
tiny=$2/conformance/models/qwen3moe-tiny.q8_0.gguf
fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect NAME ACTUAL EXPECTED
  [ "$2" == "$3" ] || fail "$1: got [$2], want [$3]"
}

# --ids: one line, ids separated by commas; GPT-2's well-known ids for "Hello world".
expect "gpt-2 ids" "$("$sy" tokenize -m "$vocabs/ggml-vocab-gpt-2.gguf" -p "Hello world" --ids)" "15496,995"
expect "empty text" "$("$sy" tokenize -m "$vocabs/ggml-vocab-gpt-2.gguf" -p "" --ids)" ""
# SentencePiece adds BOS by default; --no-bos drops it.
expect "spm with bos" "$("$sy" tokenize -m "$vocabs/ggml-vocab-llama-spm.gguf" -p "Hello world" --ids)" "1,15043,3186"
expect "spm no bos" "$("$sy" tokenize -m "$vocabs/ggml-vocab-llama-spm.gguf" -p "Hello world" --ids --no-bos)" \
  "15043,3186"
# Default output: the id line, then one "id<TAB>piece-as-JSON-string" line per token.
out=$("$sy" tokenize -m "$vocabs/ggml-vocab-gpt-2.gguf" -p $'Hi "x"\n')
expected=$(printf '%s\n' '17250,366,87,1,198' $'17250\t"Hi"' $'366\t" \\""' $'87\t"x"' $'1\t"\\""' $'198\t"\\n"')
expect "pieces" "$out" "$expected"
# Special-token text: control tokens only with --parse-special.
expect "parse special" "$("$sy" tokenize -m "$tiny" -p "<|im_start|>hi" --ids --parse-special)" "510,325"
[ "$("$sy" tokenize -m "$tiny" -p "<|im_start|>hi" --ids)" != "510,325" ] || fail "control token parsed unasked"
# --text-file reads bytes as they are.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'Hello world' > "$tmp/t.txt"
expect "text file" "$("$sy" tokenize -m "$vocabs/ggml-vocab-gpt-2.gguf" --text-file "$tmp/t.txt" --ids)" "15496,995"
"$sy" tokenize -m "$vocabs/ggml-vocab-gpt-2.gguf" --text-file "$tmp/t.txt" --bench | grep -q '^bytes=11 tokens=2 ' ||
  fail "--bench line"

# Errors: a clear message and a non-zero exit, never a crash.
expect_error() {  # expect_error NEEDLE CMD...
  local needle=$1; shift
  local msg rc=0
  msg=$("$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -ne 0 ] || fail "'$*' succeeded"
  [ "$rc" -lt 128 ] || fail "'$*' crashed (exit $rc)"
  [[ "$msg" == *"$needle"* ]] || fail "'$*': message [$msg] lacks [$needle]"
}
expect_error "missing.gguf" "$sy" tokenize -m "$tmp/missing.gguf" -p x
expect_error "not a GGUF" "$sy" tokenize -m "$tmp/t.txt" -p x
expect_error "nope.txt" "$sy" tokenize -m "$tiny" --text-file "$tmp/nope.txt"
expect_error "excludes" "$sy" tokenize -m "$tiny" -p x --text-file "$tmp/t.txt"
expect_error "tokenizer.json" "$sy" convert-tokenizer "$tmp" -o "$tmp/v.gguf"
echo '{"model": {"type": "Unigram"}}' > "$tmp/tokenizer.json"
expect_error "Unigram" "$sy" convert-tokenizer "$tmp" -o "$tmp/v.gguf"
[ ! -e "$tmp/v.gguf" ] || fail "a failed conversion left a file"
echo "tokenize: all checks passed"
