#!/usr/bin/env bash
# --expert-cache end to end (docs/expert-cache.md): with the smallest cache the threads allow, every policy
# gives llama.cpp's greedy continuation; `run` reports the cache's traffic and `bench --json` its fields;
# a budget below the minimum names the minimum; bad sizes and policies are usage errors before the model loads.
# Usage: expert_cache.sh SWITCHYARD SHARED_DIR
set -euo pipefail
bin=$1
shared=$2
model=$shared/conformance/models/qwen3moe-tiny.f32.gguf  # 3 MoE layers, 16 experts, k 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prompt=509,498,497,502,193,87,469,53
want=278,306,383,143,501,217,353,167,278,339,55,339,55,339,55,339  # llama.cpp's greedy continuation

fail() { echo "FAIL: $*"; exit 1; }

# Too small: the error names the minimum, which is then enough.
if "$bin" generate -m "$model" --tokens $prompt -n 2 --greedy -t 2 --expert-cache 1K 2>"$tmp/small.txt" >/dev/null; then
  fail "a 1 KiB cache was accepted"
fi
minimum=$(sed -n 's/.*needs at least \([0-9]*\) bytes.*/\1/p' "$tmp/small.txt")
[ -n "$minimum" ] || fail "no minimum in: $(cat "$tmp/small.txt")"
for policy in lru lfu score; do
  got=$("$bin" generate -m "$model" --tokens $prompt -n 16 --greedy -t 2 --expert-cache "$minimum" --expert-cache-policy $policy)
  [ "$got" = "$want" ] || fail "--expert-cache $minimum --expert-cache-policy $policy: got $got"
done
# Prefetch by the next layer's gate: one slot more for the reader, the same continuation.
got=$("$bin" generate -m "$model" --tokens $prompt -n 16 --greedy -t 2 --expert-cache 400K --prefetch gate)
[ "$got" = "$want" ] || fail "--prefetch gate: got $got"
if "$bin" generate -m "$model" --tokens $prompt -n 2 --greedy --expert-cache off --prefetch gate 2>"$tmp/pf.txt" >/dev/null; then
  fail "--prefetch gate without a cache was accepted"
fi
grep -q -- "--prefetch gate loads experts into the cache" "$tmp/pf.txt" || fail "prefetch error: $(cat "$tmp/pf.txt")"
got=$("$bin" generate -m "$model" --tokens $prompt -n 16 --greedy --expert-cache off)
[ "$got" = "$want" ] || fail "--expert-cache off: got $got"

# Every way of reading (O_DIRECT, buffered + dropped, buffered) with 0, 1 or 8 reader threads, at the smallest
# budget each allows: the same continuation.
for reads in direct dontneed buffered; do
  for readers in 0 1 8; do
    opts=(--expert-reads $reads --expert-readers $readers)
    "$bin" generate -m "$model" --tokens $prompt -n 1 -t 2 --expert-cache 1K "${opts[@]}" 2>"$tmp/small.txt" >/dev/null &&
      fail "a 1 KiB cache was accepted with ${opts[*]}"
    minimum=$(sed -n 's/.*needs at least \([0-9]*\) bytes.*/\1/p' "$tmp/small.txt")
    [ -n "$minimum" ] || fail "no minimum with ${opts[*]} in: $(cat "$tmp/small.txt")"
    got=$("$bin" generate -m "$model" --tokens $prompt -n 16 --greedy -t 2 --expert-cache "$minimum" "${opts[@]}")
    [ "$got" = "$want" ] || fail "--expert-cache $minimum ${opts[*]}: got $got"
  done
done
if "$bin" generate -m "$model" --tokens $prompt -n 2 --expert-cache 1M --expert-readers 0 --prefetch gate \
    2>"$tmp/pf0.txt" >/dev/null; then
  fail "--prefetch gate without readers was accepted"
fi
grep -q -- "--prefetch gate needs reader threads" "$tmp/pf0.txt" || fail "readers 0 + gate: $(cat "$tmp/pf0.txt")"

# run's timing line: hits + misses = acquires; a 64 KiB cache (one slot of this model) on one thread misses.
"$bin" run -m "$model" -p "hello world" -n 4 -t 1 --expert-cache 64KiB --expert-readers 0 >/dev/null 2>"$tmp/run.txt" || fail "run: $(cat "$tmp/run.txt")"
grep -Eq '\| experts: hits [0-9]+, misses [1-9][0-9]*, [0-9.]+ MiB read$' "$tmp/run.txt" || fail "run timing line: $(cat "$tmp/run.txt")"
"$bin" run -m "$model" -p "hello world" -n 4 >/dev/null 2>"$tmp/run_off.txt"
grep -q 'experts:' "$tmp/run_off.txt" && fail "cache fields without a cache: $(cat "$tmp/run_off.txt")"
"$bin" run -m "$model" -p "hello world" -n 8 -t 1 --expert-cache 400K --prefetch gate >/dev/null 2>"$tmp/run_pf.txt"
# (whether the reader thread got to run in these few milliseconds is up to the scheduler: the count may be absent)
grep -Eq '\| experts: hits [0-9]+, misses [0-9]+, [0-9.]+ MiB read(, [0-9]+ prefetched \([0-9]+ used\))?$' "$tmp/run_pf.txt" ||
  fail "run with prefetch: $(cat "$tmp/run_pf.txt")"
# The default is auto: this tiny model fits, so nothing is said and nothing is cached.
"$bin" run -m "$model" -p "hello" -n 1 >/dev/null 2>"$tmp/default.txt"
grep -q 'expert cache' "$tmp/default.txt" && fail "the default spoke: $(cat "$tmp/default.txt")"
# Asked for, auto explains itself on one line (this tiny model always fits).
"$bin" run -m "$model" -p "hello" -n 1 --expert-cache auto >/dev/null 2>"$tmp/auto.txt"
grep -q '^expert cache: off (auto): ' "$tmp/auto.txt" || fail "auto: $(cat "$tmp/auto.txt")"

# bench --json: cache fields per test when on, none when off.
"$bin" bench -m "$model" -p 8 -n 4 -t 1 -r 1 --probe-mib 8 --json --expert-cache 400K --expert-cache-policy lfu >"$tmp/bench.json"
python3 - "$tmp/bench.json" <<'PY' || fail "bench --json expert_cache"
import json, sys
results = json.load(open(sys.argv[1]))
assert len(results) == 2, results
for r in results:
    c = r["expert_cache"]
    assert c["policy"] == "lfu", c
    assert c["hits"] + c["misses"] > 0, c
    assert c["bytes_read"] >= 0 and c["read_seconds"] >= 0, c
    assert c["prefetch"] == "off" and c["prefetches"] == 0, c
PY
"$bin" bench -m "$model" -p 8 -n 0 -t 1 -r 1 --probe-mib 8 --json | grep -q expert_cache && fail "bench without a cache"

# Usage errors, before the model is read: the option, the text and why.
for bad in 12XB -1 NaN 0 1.2.3G; do
  if "$bin" generate -m /nonexistent.gguf --tokens 1 -n 1 --expert-cache="$bad" 2>"$tmp/bad.txt"; then
    fail "--expert-cache $bad accepted"
  fi
  grep -q -- "--expert-cache: '$bad' is not a size" "$tmp/bad.txt" || fail "--expert-cache $bad: $(cat "$tmp/bad.txt")"
done
if "$bin" generate -m "$model" --tokens 1 -n 1 --expert-cache-policy fifo 2>"$tmp/bad.txt"; then fail "policy fifo accepted"; fi
grep -q -- "--expert-cache-policy" "$tmp/bad.txt" || fail "policy error: $(cat "$tmp/bad.txt")"
for bad in "--expert-readers -1" "--expert-readers 65" "--expert-readers x" "--expert-reads mmap" "--prefetch gate:0" \
  "--prefetch gate:x" "--prefetch gate:65" "--prefetch gate:"; do
  # shellcheck disable=SC2086  # an option and its value
  if "$bin" generate -m /nonexistent.gguf --tokens 1 -n 1 $bad 2>"$tmp/bad.txt"; then fail "$bad accepted"; fi
  grep -q -- "${bad%% *}" "$tmp/bad.txt" || fail "$bad: $(cat "$tmp/bad.txt")"
done
echo "expert_cache.sh: ok"
