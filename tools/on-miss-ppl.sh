#!/usr/bin/env bash
# The quality cost of --on-miss (docs/expert-cache.md): perplexity of the bundled model, scored one token per step
# (-b 1, as decoding sees its experts), resident and with a cache of a quarter of its expert bytes for each miss
# mode. The text is the first CHARS characters of every validation split, concatenated (default 1500: about
# 5k tokens, minutes on 2 cores). Usage: tools/on-miss-ppl.sh [CHARS] [SWITCHYARD]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
chars=${1:-1500}
bin=${2:-$here/build/switchyard}
model=$here/models/switchyard-moe-mini.q8_0.gguf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$here/models/switchyard-moe-mini.valid" "$chars" >"$tmp/text.txt" <<'PY'
import pathlib, sys
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.txt")):
    sys.stdout.write(f.read_text(encoding="utf-8")[: int(sys.argv[2])] + "\n")
PY
for t in q2_k q3_k q4_0; do "$bin" make-shadow -m "$model" -t $t -o "$tmp/shadow.$t.gguf" -q 2>/dev/null; done
# A quarter of the expert bytes (inspect --json knows them).
expert_bytes=$("$bin" inspect "$model" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"]["routed_experts"])')
cache=$((expert_bytes / 4))
common=(-m "$model" -f "$tmp/text.txt" -c 128 -b 1 -t 2 --json)
row() {  # name, options...
  local name=$1; shift
  "$bin" perplexity "${common[@]}" "$@" 2>/dev/null >"$tmp/out.json"
  python3 - "$name" "$tmp/out.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
c = r.get("expert_cache")
acq = c["hits"] + c["misses"] + c["skipped"] + c["shadow_uses"] if c else 0
frac = lambda n: f"{100 * n / acq:.1f} %" if acq else "–"
print(f"| {sys.argv[1]} | {r['ppl']:.4f} | {r['ppl_stderr']:.4f} | {r['tokens']} | "
      f"{frac(c['misses']) if c else '–'} | {frac(c['skipped']) if c else '–'} | {frac(c['shadow_uses']) if c else '–'} |")
PY
}
echo "cache: $cache bytes (a quarter of $expert_bytes)"
echo "| mode | PPL | ± | tokens | misses (waited) | skipped | from the shadow |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
row "resident (no cache)" --expert-cache off
row "wait" --expert-cache "$cache" --on-miss wait
row "skip:0.1" --expert-cache "$cache" --on-miss skip:0.1
row "skip:0.3" --expert-cache "$cache" --on-miss skip:0.3
for t in q2_k q3_k q4_0; do row "low-bit, $t shadow" --expert-cache "$cache" --on-miss low-bit --shadow "$tmp/shadow.$t.gguf"; done
