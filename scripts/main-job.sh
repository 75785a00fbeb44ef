#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, and shows switchyard at work.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release >/dev/null
model=../shared/conformance/models/qwen3moe-tiny.q8_0.gguf
echo "== switchyard inspect $model"
build/switchyard inspect "$model"
