#!/usr/bin/env bash
# --route cache-aware:B (docs/expert-cache.md, "Routing that knows the memory"): with a small expert cache and no
# reader threads (so the run is deterministic), a bonus for cached experts reads fewer experts from the file than
# the native rule; without a cache (every expert resident) it changes nothing; malformed bonuses are usage errors.
# Usage: cache_aware_routing.sh SWITCHYARD SHARED_DIR
set -euo pipefail
bin=$1
model=$(dirname "$0")/../../models/switchyard-moe-mini.q8_0.gguf  # 4 MoE layers, 8 experts, k 2: learned routing
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cache=(--expert-cache 3MiB --expert-readers 0 --prefetch off)

misses() {  # misses in run's timing line for a 96-token greedy continuation
  "$bin" run -m "$model" -p "The meaning of life is" -n 96 --temp 0 -t 1 "$@" 2>"$tmp/err" >"$tmp/out" ||
    fail "run $*: $(cat "$tmp/err")"
  sed -n 's/.*| experts: hits [0-9]*, misses \([0-9]*\),.*/\1/p' "$tmp/err"
}
native=$(misses "${cache[@]}")
aware=$(misses "${cache[@]}" --route cache-aware:0.2)
[ -n "$native" ] && [ -n "$aware" ] || fail "no cache line"
echo "misses: native $native, cache-aware:0.2 $aware"
((aware * 4 < native * 3)) || fail "cache-aware:0.2 missed $aware times, native $native (want at least 25 % fewer)"
# The same run twice gives the same text (no readers: the cache's state follows the tokens alone).
misses "${cache[@]}" --route cache-aware:0.2 >/dev/null
cp "$tmp/out" "$tmp/aware1"
misses "${cache[@]}" --route cache-aware:0.2 >/dev/null
cmp -s "$tmp/out" "$tmp/aware1" || fail "two identical cache-aware runs differ"

# Every expert resident: the bonus goes to all of them and the choice is the native one.
"$bin" run -m "$model" -p "The meaning of life is" -n 48 --temp 0 -t 1 --expert-cache off >"$tmp/native.txt" 2>/dev/null
"$bin" run -m "$model" -p "The meaning of life is" -n 48 --temp 0 -t 1 --expert-cache off --route cache-aware:0.5 \
  >"$tmp/resident.txt" 2>/dev/null
cmp -s "$tmp/native.txt" "$tmp/resident.txt" || fail "cache-aware without a cache changed the text"

for bad in cache-aware cache-aware:-1 cache-aware:abc cache-aware:nan "cache-aware:0.1,cache-aware:0.2"; do
  if "$bin" run -m "$model" -p x -n 1 --route "$bad" >/dev/null 2>"$tmp/bad.txt"; then fail "--route $bad accepted"; fi
  grep -q "cache-aware" "$tmp/bad.txt" || fail "--route $bad: $(cat "$tmp/bad.txt")"
done
echo "ok"
