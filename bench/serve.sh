#!/usr/bin/env bash
# Serving speed, by hand (not in CI): starts `switchyard serve`, sends streamed greedy completions at each
# concurrency and reports aggregate tokens/s, time to first token and inter-token latency (p50/p99). With
# --compare it also runs `switchyard bench` on the same model and threads and prints the server's share of the
# engine's tg tokens/s (single stream vs --sequences 1, concurrency 4 vs --sequences 4).
#
# Usage: bench/serve.sh [-m MODEL] [-t THREADS] [-n TOKENS] [-c "1 2 4 8"] [-r REQUESTS_PER_STREAM]
#                       [-p PROMPT_WORDS] [--compare] [--json FILE] [--serve-args "ARGS"]
#   e.g. build/switchyard gen-model -p olmoe-1b-7b -t q4_k_m -o /tmp/olmoe.gguf
#        bench/serve.sh -m /tmp/olmoe.gguf -t 2 --compare
# Without -m: the bundled model. The binary is build/switchyard (SWITCHYARD=... to change).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sy=${SWITCHYARD:-$root/build/switchyard}
model=$root/models/switchyard-moe-mini.q8_0.gguf
threads=2
tokens=64
levels="1 2 4 8"
per_stream=4
words=24
compare=0
json_out=
serve_args=
while [ $# -gt 0 ]; do
  case "$1" in
    -m) model=$2; shift 2 ;;
    -t) threads=$2; shift 2 ;;
    -n) tokens=$2; shift 2 ;;
    -c) levels=$2; shift 2 ;;
    -r) per_stream=$2; shift 2 ;;
    -p) words=$2; shift 2 ;;
    --compare) compare=1; shift ;;
    --json) json_out=$2; shift 2 ;;
    --serve-args) serve_args=$2; shift 2 ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
done
[ -x "$sy" ] || { echo "serve.sh: $sy not found (scripts/build.sh release switchyard)"; exit 2; }
max_level=$(tr ' ' '\n' <<<"$levels" | sort -n | tail -1)
log=$(mktemp)
results=$(mktemp)
"$sy" serve -m "$model" --port 0 -t "$threads" --parallel "$max_level" --queue 1024 --timeout 0 $serve_args 2>"$log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log" "$results"' EXIT
port=
for _ in $(seq 1 600); do
  port=$(sed -n 's|^serve: listening on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$log")
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$log"; echo "serve.sh: the server did not start"; exit 1; }
head -1 "$log"
# One warm-up request (page faults, first allocations).
python3 "$root/bench/serve/load.py" "$port" 1 1 8 "$words" >/dev/null
printf '%-12s %10s %10s %12s %12s %12s %12s\n' concurrency tokens/s decode "TTFT p50" "TTFT p99" "ITL p50" "ITL p99"
for c in $levels; do
  line=$(python3 "$root/bench/serve/load.py" "$port" "$c" $((c * per_stream)) "$tokens" "$words")
  echo "$line" >>"$results"
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%-12d %10.2f %10.2f %10.1f ms %9.1f ms %9.1f ms %9.1f ms" % (r["concurrency"], r["tokens_per_second"], r["decode_tokens_per_second"], r["ttft_p50_ms"], r["ttft_p99_ms"], r["itl_p50_ms"], r["itl_p99_ms"]))' "$line"
done
if [ $compare = 1 ]; then
  kill -TERM $pid; wait $pid 2>/dev/null || true
  bench=$("$sy" bench -m "$model" -t "$threads" -p 16 -n "$tokens" --sequences 1,4 -r 3 --json 2>/dev/null)
  python3 - "$bench" "$results" <<'PY'
import json, sys
bench = {(b["n_sequences"]): b["tokens_per_second"] for b in json.loads(sys.argv[1]) if b["n_gen"] > 0}
# bench's tg has no prompt in it: set it against the server's decode speed (tokens after the first of each stream),
# and show the whole-request figure (prompt and first token included) beside it.
rows = [json.loads(l) for l in open(sys.argv[2])]
served = {r["concurrency"]: r for r in rows}
for seqs, goal in ((1, 0.95), (4, 0.90)):
    if seqs in bench and seqs in served:
        r = served[seqs]
        share = r["decode_tokens_per_second"] / bench[seqs]
        print(f"concurrency {seqs}: server decode {r['decode_tokens_per_second']:.2f} tok/s "
              f"(whole requests {r['tokens_per_second']:.2f}), bench --sequences {seqs} {bench[seqs]:.2f} tok/s: "
              f"{100 * share:.1f}% (goal >= {100 * goal:.0f}%)")
PY
fi
[ -z "$json_out" ] || python3 -c 'import json,sys; json.dump([json.loads(l) for l in open(sys.argv[1])], open(sys.argv[2], "w"), indent=1)' "$results" "$json_out"
