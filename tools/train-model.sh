#!/usr/bin/env bash
# Reproduces switchyard's bundled model from Debian packages alone, on the CPU:
#   tools/train-model.sh [--install] [train.py options...]
# Installs what it needs with apt, builds the corpus (fortunes in eight languages + the Python 3.11
# standard library), trains the SentencePiece tokenizer and the Qwen3-MoE model, evaluates it and writes
# build/train-model/out/{NAME.f32.gguf, NAME.q8_0.gguf, eval.json, samples.txt, train.log}.
# --install then copies the Q8_0 model, its eval.json, samples and the validation texts into models/,
# adds tokenizer test ids and per-domain routing measured by switchyard (tools/routing-by-domain.sh), and
# regenerates docs/bundled-model.md.
# --packages-only installs the packages and stops (tools/train-experts.sh uses it).
# Deterministic for a seed and thread count (defaults: --seed 1234 --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."

install=0 packages_only=0
if [ "${1:-}" = "--install" ]; then install=1; shift; fi
if [ "${1:-}" = "--packages-only" ]; then packages_only=1; shift; fi

# fortunes-fr is not in Debian 12; libopenblas0-openmp replaces the reference BLAS python3-torch would
# otherwise call (about 40x slower matrix products).
packages=(fortunes fortunes-min fortunes-de fortunes-es fortunes-it fortunes-ru fortunes-zh fortunes-pl
          fortunes-cs libpython3.11-stdlib sentencepiece python3-torch python3-numpy libopenblas0-openmp)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "train-model: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

((packages_only)) && exit 0

# Debian's interpreter, whatever python3 is first on PATH: python3-torch lives in its dist-packages.
python=/usr/bin/python3
# Idle OpenMP threads sleep instead of spinning, which matters on a shared machine.
export OMP_WAIT_POLICY=PASSIVE

if [ -f ../shared/conformance/models/qwen3moe-tiny.f32.gguf ]; then
  echo "train-model: checking the PyTorch model against llama.cpp's qwen3moe reference logits"
  "$python" tools/train/check_reference.py ../shared
fi

out=build/train-model/out
"$python" tools/train/train.py --work build/train-model --out "$out" "$@"

if ((install)); then
  name=$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['model'])" "$out/eval.json")
  mkdir -p "models/$name.valid"
  cp "$out/$name.q8_0.gguf" models/
  cp "$out/eval.json" "models/$name.eval.json"
  cp "$out/samples.txt" "models/$name.samples.txt"
  for f in build/train-model/corpus/*.valid.txt; do
    cp "$f" "models/$name.valid/$(basename "$f" .valid.txt).txt"
  done
  "$python" tools/train/tokenizer_fixture.py build/train-model "models/$name.tokens.json"
  # Per-domain routing as the engine traces it (builds switchyard first if needed).
  tools/routing-by-domain.sh "models/$name.q8_0.gguf" "models/$name.valid" "models/$name.routing.json" \
    "docs/img/$name-routing.svg"
  "$python" tools/train/report.py "models/$name.eval.json" docs/bundled-model.md --routing "models/$name.routing.json"
  echo "train-model: installed models/$name.q8_0.gguf"
fi
