#!/usr/bin/env bash
# Calibrated pruning end to end on the bundled model: `routes prune` chooses 4 of 8 experts per layer from a
# calibration trace, `prune` writes the smaller GGUF; inspect, run and perplexity accept it, its logits equal
# the full model's with the same experts masked, @huggingface/gguf (an independent reader) reads it, and
# hostile inputs get clear errors. Usage: prune.sh SWITCHYARD SHARED_DIR. The npm part skips (saying so) only
# when npm cannot reach its registry.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
model="$here/../../models/switchyard-moe-mini.q8_0.gguf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Runs a command that must fail with a message containing $1.
refused() {
  local want=$1; shift
  if "$bin" "$@" >"$tmp/out" 2>"$tmp/err"; then fail "accepted: $*"; fi
  grep -q -- "$want" "$tmp/err" || { cat "$tmp/err"; fail "'$want' not in the error of: $*"; }
}

# Small on purpose: the ASan tree runs this too.
head -c 1200 "$here/../../models/switchyard-moe-mini.valid/code.txt" >"$tmp/calib.txt"
"$bin" perplexity -m "$model" -f "$tmp/calib.txt" -c 64 -t 2 --json --trace "$tmp/calib.trace" --trace-top 8 \
  >/dev/null 2>&1 || fail "calibration trace"
"$bin" generate -m "$model" --tokens 1,2,3 -n 1 --trace "$tmp/plain.trace" >/dev/null 2>&1

for score in freq mass tcess; do
  "$bin" routes prune "$tmp/calib.trace" --keep 4 --score "$score" -o "$tmp/$score.mask" >/dev/null ||
    fail "routes prune --score $score"
  [ "$(grep -cv '^#' "$tmp/$score.mask")" = 4 ] || { cat "$tmp/$score.mask"; fail "$score: not 4 layer lines"; }
  grep -v '^#' "$tmp/$score.mask" | awk '{ if (NF != 5) exit 1 }' || fail "$score: not 4 pruned experts per layer"
done
"$bin" routes prune "$tmp/calib.trace" --keep 0.5 -o "$tmp/half.mask" >/dev/null
cmp -s <(grep -v '^#' "$tmp/half.mask") <(grep -v '^#' "$tmp/freq.mask") || fail "--keep 0.5 differs from --keep 4"

"$bin" prune -m "$model" --mask "$tmp/freq.mask" -o "$tmp/small.gguf" >"$tmp/out" || fail "prune"
grep -q "8 → 4 experts" "$tmp/out" || { cat "$tmp/out"; fail "prune summary"; }
full=$(stat -c %s "$model")
small=$(stat -c %s "$tmp/small.gguf")
[ "$small" -lt $((full * 3 / 4)) ] || fail "pruned file is $small bytes of $full"
"$bin" inspect "$tmp/small.gguf" >"$tmp/inspect" || fail "inspect"
grep -q "experts 4, used per token 2" "$tmp/inspect" || fail "inspect does not show 4 experts"
"$bin" inspect "$model" >"$tmp/inspect_full"
total() { sed -n 's/^  total \([0-9.]*\) MiB.*/\1/p' "$1"; }
awk -v a="$(total "$tmp/inspect")" -v b="$(total "$tmp/inspect_full")" 'BEGIN { exit !(a < b) }' ||
  fail "inspect's total bytes did not shrink"
"$bin" run -m "$tmp/small.gguf" -p "def main():" -n 2 -t 2 >/dev/null 2>&1 || fail "run"
"$bin" perplexity -m "$tmp/small.gguf" -f "$tmp/calib.txt" -c 64 -t 2 --json >"$tmp/ppl.json" 2>/dev/null ||
  fail "perplexity"
grep -q '"ppl"' "$tmp/ppl.json" || fail "perplexity output"

# Same experts: the pruned model and the full model with the mask compute the same logits.
tokens=1,50,300,7,999,42,1234,5,77,640
"$bin" logits -m "$tmp/small.gguf" --tokens "$tokens" --out "$tmp/small.bin" -t 1 >/dev/null 2>&1
"$bin" logits -m "$model" --tokens "$tokens" --expert-mask "$tmp/freq.mask" --out "$tmp/masked.bin" -t 1 \
  >/dev/null 2>&1
python3 - "$tmp/small.bin" "$tmp/masked.bin" <<'PY' || fail "pruned logits differ from masked logits"
import array, sys
a, b = (array.array("f", open(p, "rb").read()) for p in sys.argv[1:3])
assert len(a) == len(b) and len(a) > 0, (len(a), len(b))
d = max(abs(x - y) for x, y in zip(a, b))
assert d <= 1e-5, d
PY

# Hostile input: clear errors, nothing written over the input.
refused "is the input" prune -m "$model" --mask "$tmp/freq.mask" -o "$model"
refused "is the input" prune -m "$model" --mask "$tmp/freq.mask" -o "$tmp/freq.mask"
refused "directory" prune -m "$model" --mask "$tmp" -o "$tmp/x.gguf"
printf '0: 1 2 3 4\n1: 1 2\n' >"$tmp/uneven.mask"
refused "same number of experts" prune -m "$model" --mask "$tmp/uneven.mask" -o "$tmp/x.gguf"
printf '*: 0 1 2 3 4 5 6\n' >"$tmp/seven.mask"
refused "routes each token to 2" prune -m "$model" --mask "$tmp/seven.mask" -o "$tmp/x.gguf"
printf '0: 99\n' >"$tmp/range.mask"
refused "99" prune -m "$model" --mask "$tmp/range.mask" -o "$tmp/x.gguf"
[ ! -e "$tmp/x.gguf" ] || fail "a refused prune left a file"
refused "keep at least that many" routes prune "$tmp/calib.trace" --keep 1 -o "$tmp/m"
refused "(0, 1]" routes prune "$tmp/calib.trace" --keep 1.5 -o "$tmp/m"
refused "not an expert count" routes prune "$tmp/calib.trace" --keep nan -o "$tmp/m"
refused "keep at least one" routes prune "$tmp/calib.trace" --keep 0 -o "$tmp/m"
refused "only 8 experts" routes prune "$tmp/calib.trace" --keep 9 -o "$tmp/m"
refused "--trace-top" routes prune "$tmp/plain.trace" --keep 4 --score tcess -o "$tmp/m"
refused "is the input" routes prune "$tmp/calib.trace" --keep 4 -o "$tmp/calib.trace"
refused "directory" routes prune "$tmp" --keep 4 -o "$tmp/m"

# An independent GGUF reader: Hugging Face's @huggingface/gguf (installed into the build tree once).
cache=$(dirname "$bin")/gguf-js
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then fail "node and npm are needed"; fi
mkdir -p "$cache"
if [ ! -f "$cache/installed-0.4.6" ]; then
  if ! (cd "$cache" && npm install --no-audit --no-fund --silent --prefix "$cache" @huggingface/gguf@0.4.6 \
        >npm.log 2>&1); then
    if ! npm ping >/dev/null 2>&1; then echo "prune: ok (SKIP @huggingface/gguf: npm cannot reach its registry)"; exit 0; fi
    cat "$cache/npm.log"; fail "npm install failed"
  fi
  touch "$cache/installed-0.4.6"
fi
NODE_PATH="$cache/node_modules" node - "$tmp/small.gguf" "$small" <<'JS' || fail "@huggingface/gguf rejects the pruned file"
const { gguf } = require("@huggingface/gguf");
(async () => {
  const [file, size] = [process.argv[2], Number(process.argv[3])];
  const { metadata, tensorInfos, tensorDataOffset } = await gguf(file, { allowLocalFile: true });
  const arch = metadata["general.architecture"];
  if (Number(metadata[`${arch}.expert_count`]) !== 4) throw new Error("expert_count is not 4");
  const exps = tensorInfos.filter((t) => /_exps\.weight$/.test(t.name));
  if (exps.length !== 12) throw new Error(`${exps.length} expert tensors`);
  for (const t of exps) if (Number(t.shape[2]) !== 4) throw new Error(`${t.name}: shape ${t.shape}`);
  const router = tensorInfos.find((t) => t.name === "blk.0.ffn_gate_inp.weight");
  if (Number(router.shape[1]) !== 4) throw new Error(`router shape ${router.shape}`);
  for (const t of tensorInfos)
    if (Number(tensorDataOffset) + Number(t.offset) >= size) throw new Error(`${t.name} starts past the end`);
})().catch((e) => { console.error(e.message); process.exit(1); });
JS
echo "prune: ok"
