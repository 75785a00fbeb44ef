#!/usr/bin/env bash
# Routing policies, traces and reports end to end on a conformance model (docs/routing.md):
# native equals no option, other policies change the recorded routing as they should, a trace exports and
# reports, a cut-off trace still reads, and bad input gives clear errors. Usage: routing_trace.sh SWITCHYARD SHARED_DIR
set -euo pipefail
bin=$1
shared=$2
model=$shared/conformance/models/qwen3moe-tiny.f32.gguf  # 3 MoE layers, 16 experts, k 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prompt=509,498,497,502,193,87,469,53
want=278,306,383,143,501,217,353,167,278,339,55,339,55,339,55,339  # llama.cpp's greedy continuation

fail() { echo "FAIL: $*"; exit 1; }

# `native` is the model's own routing: the same continuation as with no option, traced or not.
got=$("$bin" generate -m "$model" --tokens $prompt -n 16 --greedy --route native)
[ "$got" = "$want" ] || fail "--route native: got $got"
got=$("$bin" generate -m "$model" --tokens $prompt -n 16 --greedy --route 0-2=native --trace "$tmp/native.trace" \
      --trace-top 6 --trace-hidden-norm --predict-next 2>"$tmp/predict.txt")
[ "$got" = "$want" ] || fail "traced native run: got $got"
grep -q "predict-next: layer 1 recall@4" "$tmp/predict.txt" || fail "no recall summary: $(cat "$tmp/predict.txt")"

# 8 prompt tokens + 15 decoded ones (the 16th is sampled, not run) on 3 layers.
"$bin" trace export "$tmp/native.trace" --jsonl -o "$tmp/native.jsonl"
n=$(wc -l <"$tmp/native.jsonl")
[ "$n" -eq $(((8 + 15) * 3)) ] || fail "native trace has $n records, want 69"
head -1 "$tmp/native.jsonl" | grep -q '"experts":\[[0-9]*,[0-9]*,[0-9]*,[0-9]*\]' || fail "first record: $(head -1 "$tmp/native.jsonl")"
grep -q '"hidden_norm"' "$tmp/native.jsonl" || fail "no hidden norm"
grep -q '"predicted":\[[0-9]' "$tmp/native.jsonl" || fail "no predictions"
"$bin" trace export "$tmp/native.trace" --csv -o "$tmp/native.csv"
[ "$(head -1 "$tmp/native.csv")" = "seq,pos,layer,experts,weights,top_experts,top_probs,hidden_norm,predicted" ] || fail "csv header"
[ "$(wc -l <"$tmp/native.csv")" -eq 70 ] || fail "csv lines"

# Fewer experts: every record has exactly one; top-p records vary in size but stay within MIN..MAX.
"$bin" generate -m "$model" --tokens $prompt -n 4 --greedy --experts-per-token 1 --trace "$tmp/k1.trace" >/dev/null
"$bin" trace export "$tmp/k1.trace" --jsonl | grep -vq '"experts":\[[0-9]*\],' && fail "top-k:1 record with more than one expert"
"$bin" generate -m "$model" --tokens $prompt -n 4 --greedy --route top-p:0.3:2:5 --trace "$tmp/tp.trace" >/dev/null
"$bin" trace export "$tmp/tp.trace" --csv | tail -n +2 | awk -F, '{ n = split($4, a, ";"); if (n < 2 || n > 5) bad = 1 } END { exit bad }' ||
  fail "top-p record outside 2..5 experts"
"$bin" generate -m "$model" --tokens $prompt -n 4 --route random:3 --trace "$tmp/rnd.trace" >/dev/null

# A mask removes experts: they never appear; the per-layer entry keeps layer 2 native.
printf '# prune\n0-1: 0 1 2 3 4 5 6 7\n' >"$tmp/mask.txt"
"$bin" generate -m "$model" --tokens $prompt -n 4 --expert-mask "$tmp/mask.txt" --trace "$tmp/mask.trace" >/dev/null
"$bin" trace export "$tmp/mask.trace" --csv | tail -n +2 | awk -F, '$3 < 2 { n = split($4, a, ";"); for (i = 1; i <= n; i++) if (a[i] < 8) bad = 1 } END { exit bad }' ||
  fail "a masked expert was chosen"

# The report: JSON with every layer and a self-contained page.
"$bin" routes report "$tmp/native.trace" -o "$tmp/report" >/dev/null
grep -q '"norm_entropy"' "$tmp/report/report.json" || fail "report.json lacks balance"
grep -q '"prediction_recall"' "$tmp/report/report.json" || fail "report.json lacks recall"
grep -q '<svg' "$tmp/report/report.html" || fail "report.html has no plots"
grep -qi 'src="http\|href="http\|<script' "$tmp/report/report.html" && fail "report.html is not self-contained"
python3 - "$tmp/report/report.json" <<'PY' || fail "report.json: SCH or affinity"
import json, sys
r = json.load(open(sys.argv[1]))
for l in r["layers"]:
    assert sorted(map(int, l["sch"]["L"])) == [4, 16, 64, 256], l["sch"]["L"].keys()
    for v in l["sch"]["L"].values():  # warm start: capacity = n_expert hits every use
        assert len(v) == l["n_expert"] and abs(v[-1] - 1) < 1e-12 and all(a <= b + 1e-12 for a, b in zip(v, v[1:]))
    if "affinity_to_next" in l:  # rows are distributions
        for row in l["affinity_to_next"]["prob"]:
            assert sum(row) == 0 or abs(sum(row) - 1) < 1e-9, row
assert r["model"]["sch"]["L"]["4"][-1] == 1
PY
grep -q 'colour\|rotate(90' "$tmp/report/report.html" || fail "report.html heat maps have no colour scale"
"$bin" routes report "$tmp/native.trace" -o "$tmp/report1" --sch-lookahead 1,2 >/dev/null
python3 -c 'import json,sys; assert sorted(json.load(open(sys.argv[1]))["layers"][0]["sch"]["L"]) == ["1", "2"]' \
  "$tmp/report1/report.json" || fail "--sch-lookahead"
if "$bin" routes report "$tmp/native.trace" -o "$tmp/report2" --sch-lookahead 0 2>/dev/null; then fail "L 0 accepted"; fi
"$bin" routes diff "$tmp/native.trace" "$tmp/tp.trace" -o "$tmp/diff" >/dev/null || fail "routes diff"
grep -q '"js_divergence"' "$tmp/diff/diff.json" || fail "diff.json lacks the divergence"
grep -q '<svg' "$tmp/diff/diff.html" || fail "diff.html has no plots"

# A trace cut mid-record reads up to the last whole record.
size=$(stat -c %s "$tmp/native.trace")
head -c $((size - 10)) "$tmp/native.trace" >"$tmp/cut.trace"
n=$("$bin" trace export "$tmp/cut.trace" --jsonl 2>"$tmp/err" | wc -l)
[ "$n" -eq 68 ] || fail "cut trace gave $n records"
grep -q "partial record" "$tmp/err" || fail "no note about the partial record"

expect_error() {  # expect_error PATTERN ARGS...
  local pattern=$1; shift
  if "$bin" "$@" 2>"$tmp/err" >/dev/null; then fail "expected failure: $*"; fi
  grep -q "$pattern" "$tmp/err" || { cat "$tmp/err"; fail "wrong error for $*"; }
}
expect_error "unknown policy 'top-q:1'" generate -m "$model" --tokens 1 -n 1 --route top-q:1
expect_error "layer range '5' is outside the model's 0-2" generate -m "$model" --tokens 1 -n 1 --route 5=native
expect_error "needs 17 experts" generate -m "$model" --tokens 1 -n 1 --route top-k:17
expect_error "cannot open" generate -m "$model" --tokens 1 -n 1 --expert-mask "$tmp/none.txt"
printf '1: 0 0 0\n' >"$tmp/bias.txt"
expect_error "bias.txt:1: layer 1 needs 16 bias values" generate -m "$model" --tokens 1 -n 1 --route-bias "$tmp/bias.txt"
expect_error "not a switchyard trace" trace export "$tmp/mask.txt" --csv
expect_error "exactly one of" trace export "$tmp/native.trace"
echo "routing_trace: ok"
