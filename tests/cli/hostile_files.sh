#!/usr/bin/env bash
# Files a careless or hostile user may hand us (issue 13): an output path that is one of the inputs (same
# inode: the path itself, a symlink, a hard link) is refused before anything is opened for writing, and the
# input stays byte-identical; directories, FIFOs and devices are refused as inputs (without blocking on a FIFO)
# and as outputs. Usage: hostile_files.sh SWITCHYARD SHARED_DIR
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

model=$tmp/m.gguf
cp "$here/../../models/switchyard-moe-mini.q8_0.gguf" "$model"
ln -s "$model" "$tmp/m-symlink.gguf"
ln "$model" "$tmp/m-hardlink.gguf"
sum() { sha256sum "$1" | cut -d' ' -f1; }
model_sum=$(sum "$model")

# refused NEEDLE FILE CMD...: the command fails within 20 s (a FIFO must not block), says NEEDLE, and FILE
# keeps its bytes.
refused() {
  local needle=$1 file=$2 before rc=0
  shift 2
  before=$(sum "$file")
  timeout 20 "$bin" "$@" >"$tmp/out.txt" 2>"$tmp/err.txt" </dev/null || rc=$?
  [ "$rc" -ne 0 ] || fail "accepted: $*"
  [ "$rc" -ne 124 ] || fail "hung: $*"
  [ "$rc" -lt 128 ] || fail "died of signal $((rc - 128)): $* ($(cat "$tmp/err.txt"))"
  grep -q -- "$needle" "$tmp/err.txt" || fail "$*: no '$needle' in: $(cat "$tmp/err.txt")"
  [ "$(sum "$file")" = "$before" ] || fail "$*: changed $file"
}

# --- 1. an output that is an input
for out in "$model" "$tmp/m-symlink.gguf" "$tmp/m-hardlink.gguf"; do
  refused "is the input file" "$model" run -m "$model" -p hi -n 1 --trace "$out"
  refused "is the input file" "$model" logits -m "$model" --tokens 1 --out "$out"
done
printf '0: 1\n' >"$tmp/mask.txt"
refused "is the input file" "$tmp/mask.txt" generate -m "$model" --tokens 1 -n 1 --expert-mask "$tmp/mask.txt" \
  --trace "$tmp/mask.txt"
[ "$(sum "$model")" = "$model_sum" ] || fail "the model changed"

"$bin" generate -m "$model" --tokens 1,2,3 -n 2 --trace "$tmp/t.trace" >/dev/null
refused "is the input file" "$tmp/t.trace" trace export "$tmp/t.trace" --jsonl -o "$tmp/t.trace"
mkdir "$tmp/report"
ln "$tmp/t.trace" "$tmp/report/report.html"
refused "is the input file" "$tmp/t.trace" routes report "$tmp/t.trace" -o "$tmp/report"
# The routing tools of issue 18: symlinks and hard links to an input are refused like the input itself.
mkdir "$tmp/diff"
ln "$tmp/t.trace" "$tmp/diff/diff.json"
refused "is the input file" "$tmp/t.trace" routes diff "$tmp/t.trace" "$tmp/t.trace" -o "$tmp/diff"
refused "is the input file" "$tmp/t.trace" routes prune "$tmp/t.trace" --keep 4 -o "$tmp/diff/diff.json"
printf '*: 0 1 2 3\n' >"$tmp/prune.mask"
for out in "$model" "$tmp/m-symlink.gguf" "$tmp/m-hardlink.gguf" "$tmp/prune.mask"; do
  refused "is the input file" "$model" prune -m "$model" --mask "$tmp/prune.mask" -o "$out"
done
refused "directory" "$model" prune -m "$model" --mask "$tmp" -o "$tmp/p.gguf"
refused "directory" "$model" prune -m "$tmp" --mask "$tmp/prune.mask" -o "$tmp/p.gguf"
refused "directory" "$model" prune -m "$model" --mask "$tmp/prune.mask" -o "$tmp"
refused "directory" "$tmp/t.trace" routes diff "$tmp/t.trace" "$tmp" -o "$tmp/d2"

# A byte-level BPE tokenizer.json: the 256 byte symbols (GPT-2's byte-to-unicode map) and one merge.
mkdir "$tmp/hf"
python3 - "$tmp/hf/tokenizer.json" <<'PY'
import json, sys
bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
cs = bs[:]
n = 0
for b in range(256):
    if b not in bs:
        bs.append(b); cs.append(256 + n); n += 1
vocab = {chr(c): b for b, c in zip(bs, cs)}
vocab["ab"] = 256
json.dump({"model": {"type": "BPE", "vocab": vocab, "merges": ["a b"]},
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False}}, open(sys.argv[1], "w"))
PY
"$bin" convert-tokenizer "$tmp/hf" -o "$tmp/vocab.gguf" >/dev/null || fail "the test tokenizer does not convert"
refused "is the input file" "$tmp/hf/tokenizer.json" convert-tokenizer "$tmp/hf" -o "$tmp/hf/tokenizer.json"

# --- outputs that are not regular files
mkfifo "$tmp/fifo"
mkdir "$tmp/dir"
refused "is a directory" "$model" logits -m "$model" --tokens 1 --out "$tmp/dir"
refused "is a FIFO" "$model" logits -m "$model" --tokens 1 --out "$tmp/fifo"
refused "is a character device" "$model" run -m "$model" -p hi -n 1 --trace /dev/zero
refused "is a directory" "$model" gen-model -p qwen2moe-tiny -t q8_0 -q -o "$tmp/dir"
refused "is a directory" "$tmp/t.trace" trace export "$tmp/t.trace" --csv -o "$tmp/dir"

# --- 3. inputs that are not regular files: refused by name, a FIFO without blocking
for bad in dir fifo; do
  refused "$tmp/$bad" "$model" run -m "$tmp/$bad" -p hi -n 1
  refused "not a regular file" "$model" inspect "$tmp/$bad"
  refused "not a regular file" "$model" run -m "$model" -f "$tmp/$bad" -n 1
  refused "not a regular file" "$model" perplexity -m "$model" -f "$tmp/$bad"
  refused "not a regular file" "$model" generate -m "$model" --tokens 1 -n 1 --expert-mask "$tmp/$bad"
  refused "not a regular file" "$model" generate -m "$model" --tokens 1 -n 1 --route-bias "$tmp/$bad"
  refused "not a regular file" "$model" trace export "$tmp/$bad" --jsonl
done
[ "$(sum "$model")" = "$model_sum" ] || fail "the model changed"
echo "hostile_files: ok"
