#!/usr/bin/env bash
# Decode-time overhead of --trace: runs the same greedy generation with and without a trace, alternating,
# and prints the best and median CPU time of each (the writer thread's included). Not a test (timings depend on the machine).
# Usage: bench/trace_overhead.sh SWITCHYARD MODEL [N_PREDICT] [REPEATS] [extra trace options...]
set -euo pipefail
bin=$1
model=$2
n=${3:-512}
reps=${4:-7}
shift 4 2>/dev/null || shift $#
extra=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prompt=509,498,497,502,193,87,469,53
run() {  # prints the CPU seconds (user + system, all threads) of one run: steadier than wall time on a busy machine
  local TIMEFORMAT='%U %S' t
  t=$( { time "$bin" generate -m "$model" --tokens $prompt -n "$n" --greedy "$@" >/dev/null; } 2>&1 )
  echo "$t" | awk '{ printf "%.4f\n", $1 + $2 }'
}
: >"$tmp/off"
: >"$tmp/on"
# Load and prefill alone (one token generated, none decoded), to subtract from both.
: >"$tmp/base"
for _ in $(seq "$reps"); do
  run >>"$tmp/off"
  run --trace "$tmp/t.trace" "${extra[@]}" >>"$tmp/on"
  n_save=$n; n=1; run >>"$tmp/base"; n=$n_save
done
stats() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "best %.4f s  median %.4f s", a[1], a[int((NR + 1) / 2)] }'; }
echo "decode $n tokens, $reps runs each ($model)"
echo "  no trace: $(stats "$tmp/off")"
echo "  trace:    $(stats "$tmp/on")  (${extra[*]:-chosen experts and weights only})"
b_off=$(sort -n "$tmp/off" | head -1)
b_on=$(sort -n "$tmp/on" | head -1)
b_base=$(sort -n "$tmp/base" | head -1)
echo "  load + prefill: $(stats "$tmp/base")"
echo "  overhead on decode time (best runs): $(echo "scale=2; ($b_on - $b_off) * 100 / ($b_off - $b_base)" | bc) %"
echo "  records: $(( $(stat -c %s "$tmp/t.trace") ))  bytes of trace"
