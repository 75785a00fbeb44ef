#!/usr/bin/env bash
# Reproduces the domain experts of docs/composition.md: each is the bundled generalist
# models/switchyard-moe-mini.q8_0.gguf fine-tuned on one domain's training split of the bundled corpus (same
# corpus, same tokenizer: perplexities compare token for token), exported as Q8_0.
#   tools/train-experts.sh [--install] [DOMAIN...]        (default domains: code de ru)
# Writes build/train-experts/DOMAIN/{switchyard-moe-mini-DOMAIN.q8_0.gguf, eval.json, samples.txt, train.log};
# --install copies the model and its eval.json to models/experts/. Needs tools/train-model.sh's packages
# (it installs them) and corpus (build/train-model/corpus, built on first use). Runs at nice 5: the machine is
# shared. Deterministic for the seed and thread count, like train-model.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

install=0
if [ "${1:-}" = "--install" ]; then install=1; shift; fi
domains=("$@")
((${#domains[@]})) || domains=(code de ru)

generalist=models/switchyard-moe-mini.q8_0.gguf
steps=${EXPERT_STEPS:-120}
batch=${EXPERT_BATCH:-8}
python=/usr/bin/python3
export OMP_WAIT_POLICY=PASSIVE

# One package list: train-model.sh's (python3-torch, the fortunes, the Python stdlib, ...).
tools/train-model.sh --packages-only

for d in "${domains[@]}"; do
  out=build/train-experts/$d
  name=switchyard-moe-mini-$d
  # Lower peak learning rate than the generalist's 0.003, a short warm-up and few steps (120 of 8 x 256 tokens
  # by default: EXPERT_STEPS, EXPERT_BATCH): the model is already trained, these steps only shift it towards one
  # domain. Its own domain is evaluated here; `switchyard router eval` scores every model on every domain.
  nice -n 5 "$python" tools/train/train.py --work build/train-model --out "$out" --name "$name" \
    --init "$generalist" --domains "$d" --steps "$steps" --batch "$batch" --lr 1e-3 --warmup 10 \
    --chat-turns 3000 --log-every 10 --checkpoint-every 0 --eval-domains "$d"
  if ((install)); then
    mkdir -p models/experts
    cp "$out/$name.q8_0.gguf" models/experts/
    cp "$out/eval.json" "models/experts/$name.eval.json"
    echo "train-experts: installed models/experts/$name.q8_0.gguf"
  fi
done
