#!/usr/bin/env bash
# Calibrated pruning on the bundled model, measured by switchyard itself (the table in docs/routing.md):
# each validation split is cut in two by lines; the first half of the code split (and of the German split)
# is the calibration text, the second halves of all nine splits are the evaluation texts. For each calibration
# domain: `routes prune --keep 4` (of 8) with --score freq and tcess, `prune` writes the smaller GGUF, and
# `perplexity` runs on every evaluation half — beside the full model and three random choices of 4 experts
# per layer (seeds 1–3). Prints a Markdown table.   tools/prune-by-domain.sh [MODEL [VALID_DIR]]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/switchyard-moe-mini.q8_0.gguf}
valid=${2:-models/switchyard-moe-mini.valid}
work=build/prune-by-domain
sy=build/switchyard
[ -x $sy ] || scripts/build.sh release switchyard >/dev/null
rm -rf "$work"
mkdir -p "$work/calib" "$work/eval"
domains=()
for text in "$valid"/*.txt; do
  d=$(basename "$text" .txt)
  domains+=("$d")
  n=$(wc -l <"$text")
  head -n $((n / 2)) "$text" >"$work/calib/$d.txt"
  tail -n +$((n / 2 + 1)) "$text" >"$work/eval/$d.txt"
done
n_layers=$($sy inspect "$model" | sed -n 's/.*MoE layers \([0-9]*\).*/\1/p')
models=("full:$model")
for calib in code de; do
  $sy perplexity -m "$model" -f "$work/calib/$calib.txt" -t 2 --json --trace "$work/$calib.trace" --trace-top 8 \
    >/dev/null 2>&1
  for score in freq tcess; do
    $sy routes prune "$work/$calib.trace" --keep 4 --score "$score" -o "$work/$calib-$score.mask" >/dev/null
    $sy prune -m "$model" --mask "$work/$calib-$score.mask" -o "$work/$calib-$score.gguf" >/dev/null
    models+=("$calib-$score:$work/$calib-$score.gguf")
  done
done
for seed in 1 2 3; do
  python3 - "$seed" "$n_layers" >"$work/random$seed.mask" <<'PY'
import random, sys
rng = random.Random(int(sys.argv[1]))
for layer in range(int(sys.argv[2])):
    print(f"{layer}: {' '.join(map(str, sorted(rng.sample(range(8), 4))))}")
PY
  $sy prune -m "$model" --mask "$work/random$seed.mask" -o "$work/random$seed.gguf" >/dev/null
  models+=("random$seed:$work/random$seed.gguf")
done
printf '| model | MiB |'; for d in "${domains[@]}"; do printf ' %s |' "$d"; done; echo
printf '| --- | ---: |'; for d in "${domains[@]}"; do printf ' ---: |'; done; echo
for entry in "${models[@]}"; do
  name=${entry%%:*}
  file=${entry#*:}
  printf '| %s | %.2f |' "$name" "$(echo "$(stat -c %s "$file") / 1048576" | bc -l)"
  for d in "${domains[@]}"; do
    ppl=$($sy perplexity -m "$file" -f "$work/eval/$d.txt" -t 2 --json 2>/dev/null |
          python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.1f ± %.1f" % (r["ppl"], r["ppl_stderr"]))')
    printf ' %s |' "$ppl"
  done
  echo
done
