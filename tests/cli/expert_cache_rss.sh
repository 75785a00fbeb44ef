#!/usr/bin/env bash
# The expert cache's memory ceiling: on a 107 MiB model (102 MiB of experts, from gen-model) decoded with fresh
# tokens, a 12 MiB cache keeps the peak RSS under the budget + the non-expert weights + a margin of 24 MiB (the
# binary, KV cache, scratch: about 9 MiB measured), where the mapped run touches most of the experts (> 80 MiB).
# Usage: expert_cache_rss.sh SWITCHYARD SHARED_DIR
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

libs=$(ldd "$bin" 2>/dev/null || true)
if [[ $libs == *libasan* ]]; then
  echo "expert_cache_rss: skipped: AddressSanitizer's shadow memory and quarantine make RSS no measure of the cache"
  exit 0
fi
model=$tmp/rss.gguf
"$bin" gen-model -a qwen3moe --set embedding_length=512 --set expert_feed_forward_length=1024 --set expert_count=16 \
  --set block_count=4 -t q8_0 --vocab 4096 -q -o "$model" >/dev/null
peak() {  # peak RSS in bytes of a 16-token decode with fresh token ids
  "$bin" bench -m "$model" -p 0 -n 16 -r 1 -t 2 --fresh-tokens --probe-mib 8 --json "$@" 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["peak_rss_bytes"])'
}
non_expert=$("$bin" inspect "$model" --json | python3 -c '
import json, sys
b = json.load(sys.stdin)["bytes"]
print(b["non_expert"])' 2>/dev/null || echo "")
[ -n "$non_expert" ] || fail "inspect --json has no byte totals"
budget=$((12 * 1024 * 1024))
margin=$((24 * 1024 * 1024))
mapped=$(peak --expert-cache off)
cached=$(peak --expert-cache $budget)
echo "peak RSS: mapped $mapped, cached $cached (budget $budget + non-expert $non_expert + margin $margin)"
((mapped > 80 * 1024 * 1024)) || fail "the mapped run peaked at $mapped bytes: the test model no longer shows the difference"
((cached <= budget + non_expert + margin)) || fail "with a $budget-byte cache the peak RSS was $cached bytes"
echo "expert_cache_rss.sh: ok"
