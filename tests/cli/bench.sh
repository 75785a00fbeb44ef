#!/usr/bin/env bash
# `switchyard bench` on a tiny conformance model: the JSON list has the tests asked for with positive finite
# speeds, and each tg's weight bytes per token lie between what every token reads without any routed expert
# and that plus every expert of every layer — both computed here from the GGUF tensor infos (read by
# inspect_check.py's parser). Never a timed assertion. Bad arguments fail with a message.
# Usage: bench.sh SWITCHYARD SHARED_DIR
set -euo pipefail
bin=$1
shared=$2
here=$(cd "$(dirname "$0")" && pwd)
model=$shared/conformance/models/qwen3moe-tiny.q8_0.gguf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" bench -m "$model" -p 8 -n 4 -t 1,2 -r 2 --probe-mib 8 --json >"$tmp/out.json" 2>"$tmp/err.txt" \
  || { cat "$tmp/err.txt"; fail "bench --json"; }
python3 - "$tmp/out.json" "$model" "$here" <<'PY' || fail "bench --json output"
import json, math, sys
sys.path.insert(0, sys.argv[3])
from inspect_check import read_gguf

results = json.load(open(sys.argv[1]))
_, tensors = read_gguf(sys.argv[2])
# (elements, bytes) per block of the types this model holds: F32, F16, Q8_0.
BLOCKS = {0: (1, 4), 1: (1, 2), 8: (32, 34)}
fixed = experts = 0
names = set()
for name, ne, t in tensors:
    names.add(name)
    be, bb = BLOCKS[t]
    rows = 1
    for d in ne[1:]:
        rows *= d
    size = ne[0] // be * bb * rows
    if name == 'token_embd.weight':
        fixed += size // ne[1]           # one row per token...
        embd = size
    elif '_exps.' in name:
        experts += size
    else:
        fixed += size
if 'output.weight' not in names:
    fixed += embd                        # ...and all of it when the output head is tied to it

assert isinstance(results, list), 'a list'
assert [(r['test'], r['threads']) for r in results] == [('pp8', 1), ('pp8', 2), ('tg4', 1), ('tg4', 2)], \
    [(r['test'], r['threads']) for r in results]
for r in results:
    for key in ('tokens_per_second', 'tokens_per_second_sd', 'memory_bandwidth_gbs', 'load_seconds'):
        assert isinstance(r[key], (int, float)) and math.isfinite(r[key]), (r['test'], key, r[key])
    assert r['tokens_per_second'] > 0 and r['memory_bandwidth_gbs'] > 0, r
    assert r['repetitions'] == 2 and len(r['samples_ts']) == 2, r
    assert r['peak_rss_bytes'] > 0 and r['model_n_params'] > 0 and r['model_size'] > 0, r
    assert r['model_type'].startswith('qwen3moe'), r['model_type']
    if r['test'].startswith('tg'):
        assert (r['n_prompt'], r['n_gen']) == (0, 4), r
        assert fixed < r['bytes_per_token'] < fixed + experts, (fixed, r['bytes_per_token'], fixed + experts)
        assert r['bandwidth_gbs'] > 0 and 0 < r['bandwidth_share'], r
    else:
        assert (r['n_prompt'], r['n_gen']) == (8, 0), r
        assert r['bytes_per_token'] is None and r['bandwidth_gbs'] is None and r['bandwidth_share'] is None, r
PY

# The table: a header, a rule, one row per test, and the lines for the whole run.
"$bin" bench -m "$model" -p 0 -n 2 -r 1 --probe-mib 4 >"$tmp/out.md" 2>/dev/null || fail "bench (table)"
grep -q '^| model ' "$tmp/out.md" || { cat "$tmp/out.md"; fail "no table header"; }
[ "$(grep -cE '\| +tg2 \|' "$tmp/out.md")" = 1 ] || { cat "$tmp/out.md"; fail "no tg2 row"; }
for line in "memory bandwidth:" "peak RSS:" "load:"; do
  grep -q "^$line" "$tmp/out.md" || { cat "$tmp/out.md"; fail "no '$line' line"; }
done
"$bin" bench -m "$model" -p 2 -n 0 -r 1 --probe-mib 4 -o jsonl >"$tmp/out.jsonl" 2>/dev/null || fail "bench -o jsonl"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$tmp/out.jsonl" || fail "jsonl"

# Several sequences decoded together: one tgNxS test per count, the bytes of a step are at least one token's and
# at most S tokens', the allowance follows from them, and the speed-up is measured against the one-sequence test.
"$bin" bench -m "$model" -p 0 -n 4 -t 2 --sequences 1,3 -r 1 --probe-mib 4 --json >"$tmp/seq.json" 2>"$tmp/err.txt" \
  || { cat "$tmp/err.txt"; fail "bench --sequences"; }
python3 - "$tmp/seq.json" <<'PY' || fail "bench --sequences output"
import json, sys
results = {r['test']: r for r in json.load(open(sys.argv[1]))}
assert set(results) == {'tg4', 'tg4x3'}, results.keys()
one, three = results['tg4'], results['tg4x3']
assert one['n_sequences'] == 1 and three['n_sequences'] == 3
assert abs(one['bytes_per_step'] - one['bytes_per_token']) < 1e-6 * one['bytes_per_token'], one
assert abs(one['speedup_allowed'] - 1.0) < 1e-9, one
assert three['bytes_per_token'] <= three['bytes_per_step'] <= 3 * three['bytes_per_token'], three
assert abs(three['speedup_allowed'] - 3 * three['bytes_per_token'] / three['bytes_per_step']) < 1e-9, three
assert three['speedup'] is not None and three['speedup'] > 0, three
assert abs(three['allowance_share'] - three['speedup'] / three['speedup_allowed']) < 1e-9, three
PY
"$bin" bench -m "$model" -p 0 -n 2 -t 2 --sequences 1,2 -r 1 --probe-mib 4 >"$tmp/seq.md" 2>/dev/null || fail "bench --sequences (table)"
grep -qE '\| +tg2x2 \|' "$tmp/seq.md" || { cat "$tmp/seq.md"; fail "no tg2x2 row"; }
grep -q "^tg2x2 (2 threads): 2 sequences, one step reads" "$tmp/seq.md" || { cat "$tmp/seq.md"; fail "no tg2x2 line"; }

# Bad arguments: non-zero status and a message naming the problem.
expect_error() {
  local pattern=$1
  shift
  if "$bin" bench "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"; then fail "bench $* succeeded"; fi
  grep -qi -- "$pattern" "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "bench $*: no '$pattern' in the error"; }
}
expect_error "'abc' is not a whole number" -m "$model" -p abc
expect_error "is not a whole number" -m "$model" -n 4,
expect_error "repetitions" -m "$model" -r 0
expect_error "threads" -m "$model" -t 0
expect_error "nothing to run" -m "$model" -p 0 -n 0
expect_error "sequences" -m "$model" -p 0 -n 2 --sequences 0
expect_error "does-not-exist" -m "$tmp/does-not-exist.gguf"
expect_error "context" -m "$model" -p 5000 -n 0
echo "bench: ok"
