#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, and runs the bundled model.
# Extra arguments go to `switchyard run` (e.g. -p "Ein Sprichwort:" -n 80).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release >/dev/null
model=models/switchyard-moe-mini.q8_0.gguf
echo "== switchyard inspect --brief $model"
build/switchyard inspect --brief "$model"
if [ $# -eq 0 ]; then set -- -p "The best thing about" -n 60 --temp 0.7 --seed 42; fi
echo "== switchyard run $*"
build/switchyard run "$@"
echo
