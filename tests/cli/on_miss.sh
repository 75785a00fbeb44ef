#!/usr/bin/env bash
# --on-miss and make-shadow end to end (docs/expert-cache.md): make-shadow writes the routed experts of the
# bundled model at q4_0 (read back by `inspect` and by @huggingface/gguf, an independent reader); --on-miss wait
# and skip:0 give the resident greedy continuation; skip:1 and low-bit under a small cache run, and report their
# skips and shadow uses on run's timing line and in bench --json; another model's shadow, bad --on-miss values
# and bad output paths are refused with clear errors. Usage: on_miss.sh SWITCHYARD SHARED_DIR. The npm part
# skips (saying so) only when npm cannot reach its registry.
set -euo pipefail
bin=$(realpath "$1")
shared=$2
here=$(cd "$(dirname "$0")" && pwd)
model="$here/../../models/switchyard-moe-mini.q8_0.gguf"
other=$shared/conformance/models/qwen3moe-tiny.f32.gguf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Runs a command that must fail with a message containing $1 (and exit code $2 when given).
refused() {
  local want=$1; shift
  if "$bin" "$@" >"$tmp/out" 2>"$tmp/err"; then fail "accepted: $*"; fi
  grep -q -- "$want" "$tmp/err" || { cat "$tmp/err"; fail "'$want' not in the error of: $*"; }
}

"$bin" make-shadow -m "$model" -t q4_0 -o "$tmp/shadow.gguf" -q 2>"$tmp/make.txt" || fail "make-shadow: $(cat "$tmp/make.txt")"
grep -q "^wrote $tmp/shadow.gguf" "$tmp/make.txt" || fail "make-shadow output: $(cat "$tmp/make.txt")"
"$bin" inspect "$tmp/shadow.gguf" >"$tmp/inspect.txt" 2>&1 || true
grep -q "switchyard-shadow" "$tmp/inspect.txt" || fail "inspect: $(head -20 "$tmp/inspect.txt")"
grep -q "shadow.source.fingerprint" "$tmp/inspect.txt" || fail "inspect lacks the source: $(head -30 "$tmp/inspect.txt")"

# Output paths: the input itself, a directory, a FIFO.
refused "is the input" make-shadow -m "$model" -t q4_0 -o "$model"
refused "directory" make-shadow -m "$model" -t q4_0 -o "$tmp"
mkfifo "$tmp/fifo"
refused "FIFO" make-shadow -m "$model" -t q4_0 -o "$tmp/fifo"
refused "not in {q2_k,q3_k,q4_0" make-shadow -m "$model" -t q8_0 -o "$tmp/x.gguf"
[ ! -e "$tmp/x.gguf" ] || fail "a refused make-shadow left a file"

prompt="def fibonacci(n):"
want=$("$bin" run -m "$model" -p "$prompt" -n 12 --temp 0 -t 2 2>/dev/null)
for mode in wait skip:0; do
  got=$("$bin" run -m "$model" -p "$prompt" -n 12 --temp 0 -t 2 --expert-cache 3M --on-miss $mode 2>/dev/null)
  [ "$got" = "$want" ] || fail "--on-miss $mode differs from resident: '$got' vs '$want'"
done

# skip:1 under a small cache skips, and says so on run's timing line.
"$bin" run -m "$model" -p "$prompt" -n 12 --temp 0 -t 2 --expert-cache 3M --on-miss skip:1 >/dev/null 2>"$tmp/skip.txt" ||
  fail "skip:1: $(cat "$tmp/skip.txt")"
grep -Eq '\| experts: hits [0-9]+, misses [0-9]+, [0-9.]+ MiB read.*, [1-9][0-9]* skipped' "$tmp/skip.txt" ||
  fail "skip:1 timing line: $(cat "$tmp/skip.txt")"
"$bin" run -m "$model" -p "$prompt" -n 12 --temp 0 -t 2 --expert-cache 3M --on-miss low-bit --shadow "$tmp/shadow.gguf" \
  >/dev/null 2>"$tmp/low.txt" || fail "low-bit: $(cat "$tmp/low.txt")"
grep -Eq '\| experts: hits [0-9]+, misses [0-9]+, [0-9.]+ MiB read.*, [1-9][0-9]* from the shadow' "$tmp/low.txt" ||
  fail "low-bit timing line: $(cat "$tmp/low.txt")"

# bench --json counts them too.
"$bin" bench -m "$model" -p 8 -n 4 -t 1 -r 1 --probe-mib 8 --json --expert-cache 3M --on-miss low-bit \
  --shadow "$tmp/shadow.gguf" >"$tmp/bench.json" 2>/dev/null || fail "bench low-bit"
python3 - "$tmp/bench.json" <<'PY' || fail "bench --json on_miss fields"
import json, sys
for r in json.load(open(sys.argv[1])):
    c = r["expert_cache"]
    assert c["on_miss"] == "low-bit", c
    assert c["skipped"] == 0 and c["shadow_uses"] >= 0, c
PY

# Refusals: another model's shadow names both files; low-bit without a shadow; a shadow without low-bit; lossy
# modes without a cache or readers; bad values are usage errors (exit 2? CLI11's 106: not 0 and before loading).
refused "is the shadow of another model" run -m "$model" -p hi -n 1 --expert-cache 3M --on-miss low-bit --shadow \
  "$(
    "$bin" make-shadow -m "$other" -t q4_0 -o "$tmp/other.gguf" -q 2>/dev/null
    echo "$tmp/other.gguf"
  )"
grep -q "qwen3moe-tiny.f32.gguf" "$tmp/err" && grep -q "switchyard-moe-mini.q8_0.gguf" "$tmp/err" ||
  fail "the refusal does not name both models: $(cat "$tmp/err")"
refused "is not a low-bit shadow" run -m "$model" -p hi -n 1 --expert-cache 3M --on-miss low-bit --shadow "$other"
refused "needs --shadow" run -m "$model" -p hi -n 1 --expert-cache 3M --on-miss low-bit
refused "--shadow is used by --on-miss low-bit only" run -m "$model" -p hi -n 1 --expert-cache 3M --shadow "$tmp/shadow.gguf"
refused "give --expert-cache" run -m "$model" -p hi -n 1 --expert-cache off --on-miss skip:0.2
refused "needs reader threads" run -m "$model" -p hi -n 1 --expert-cache 3M --expert-readers 0 --on-miss skip:0.2
for bad in skip skip: skip:-1 skip:nan skip:inf skip:0.1x low_bit fast; do
  if "$bin" run -m "$model" -p hi -n 1 --on-miss "$bad" >/dev/null 2>"$tmp/bad.txt"; then fail "--on-miss $bad accepted"; fi
  grep -q -- "--on-miss" "$tmp/bad.txt" || fail "--on-miss $bad: $(cat "$tmp/bad.txt")"
  grep -qi "usage\|--help\|skip:W" "$tmp/bad.txt" || fail "--on-miss $bad is not a usage error: $(cat "$tmp/bad.txt")"
done
for cmd in generate logits perplexity chat serve bench; do
  # Not grep -q: it would stop reading at the first match and, under pipefail, fail the pipe with SIGPIPE.
  "$bin" $cmd --help 2>&1 | grep -- "--on-miss" >/dev/null || fail "$cmd has no --on-miss"
done

# An independent GGUF reader: @huggingface/gguf (installed into the build tree once, as prune.sh does).
cache=$(dirname "$bin")/gguf-js
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then fail "node and npm are needed"; fi
mkdir -p "$cache"
if [ ! -f "$cache/installed-0.4.6" ]; then
  if ! (cd "$cache" && npm install --no-audit --no-fund --silent --prefix "$cache" @huggingface/gguf@0.4.6 \
        >npm.log 2>&1); then
    if ! npm ping >/dev/null 2>&1; then echo "on_miss: ok (SKIP @huggingface/gguf: npm cannot reach its registry)"; exit 0; fi
    cat "$cache/npm.log"; fail "npm install failed"
  fi
  touch "$cache/installed-0.4.6"
fi
NODE_PATH="$cache/node_modules" node - "$tmp/shadow.gguf" "$model" <<'JS' || fail "@huggingface/gguf rejects the shadow"
const { gguf } = require("@huggingface/gguf");
(async () => {
  const [shadowFile, modelFile] = [process.argv[2], process.argv[3]];
  const s = await gguf(shadowFile, { allowLocalFile: true });
  const m = await gguf(modelFile, { allowLocalFile: true });
  if (s.metadata["general.architecture"] !== "switchyard-shadow") throw new Error("architecture");
  if (s.metadata["shadow.source.architecture"] !== m.metadata["general.architecture"]) throw new Error("source arch");
  const exps = m.tensorInfos.filter((t) => /_exps\.weight$/.test(t.name));
  if (s.tensorInfos.length !== exps.length) throw new Error(`${s.tensorInfos.length} tensors, want ${exps.length}`);
  for (const t of exps) {
    const u = s.tensorInfos.find((x) => x.name === t.name);
    if (!u) throw new Error(`no ${t.name}`);
    if (u.shape.map(Number).join() !== t.shape.map(Number).join()) throw new Error(`${t.name}: shape ${u.shape}`);
    if (Number(u.dtype) !== 2) throw new Error(`${t.name}: type ${u.dtype}, not Q4_0`);
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
JS
echo "on_miss: ok"
