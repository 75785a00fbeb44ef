#!/usr/bin/env bash
# Runs `switchyard bench` under a cgroup memory limit, from a cold page cache, once per row of options, and prints
# one table: tokens/s, expert-cache hit rate, bytes read per token, the disk bound those bytes imply, and peak
# memory of the cgroup. With --disk it first measures what the disk gives for random 1 and 4 MiB reads at queue
# depth 1, 8 and 32 (fio, O_DIRECT, on the model file itself), so every figure can be set against it.
# Needs root (cgroups, drop_caches). cgroup v2 (memory.max) or v1 (memory.limit_in_bytes). By hand, not in CI.
#
#   bench/memcap.sh -m /models/qwen3-30b-a3b.q4_k_m.gguf -l 8G --disk \
#       --row "--expert-cache off" --row "--expert-cache auto" --row "--expert-cache auto --prefetch gate"
#
# Options: -m MODEL (required), -l LIMIT (bytes or K/M/G suffix, default 8G), -n N generated tokens per
# repetition (default 16), -p P prompt tokens (default 0: decode only), -r R repetitions (default 1), -t T
# threads (default 2), --row "OPTS" (repeatable; default: off, auto, auto + gate), --timeout S per row (default
# 1800), --disk, --switchyard BIN (default build/switchyard beside this script), --json-dir DIR (keep each row's
# bench JSON there).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/switchyard
model="" limit=8G n_gen=16 n_prompt=0 reps=1 threads=2 timeout_s=1800 disk=0 json_dir=""
rows=()
while (($#)); do
  case "$1" in
    -m) model=$2; shift 2 ;;
    -l) limit=$2; shift 2 ;;
    -n) n_gen=$2; shift 2 ;;
    -p) n_prompt=$2; shift 2 ;;
    -r) reps=$2; shift 2 ;;
    -t) threads=$2; shift 2 ;;
    --row) rows+=("$2"); shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --disk) disk=1; shift ;;
    --switchyard) bin=$2; shift 2 ;;
    --json-dir) json_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "memcap: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$model" ] || { echo "memcap: give the model with -m" >&2; exit 2; }
[ -f "$model" ] || { echo "memcap: '$model' is not a regular file" >&2; exit 2; }
[ -x "$bin" ] || { echo "memcap: no switchyard binary at '$bin' (build it, or give --switchyard)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "memcap: needs root (cgroups and drop_caches)" >&2; exit 2; }
((${#rows[@]})) || rows=("--expert-cache off" "--expert-cache auto" "--expert-cache auto --prefetch gate")

to_bytes() {
  local v=${1^^}
  case "$v" in
    *KIB|*K) echo $((${v%%K*} * 1024)) ;;
    *MIB|*M) echo $((${v%%M*} * 1024 * 1024)) ;;
    *GIB|*G) echo $((${v%%G*} * 1024 * 1024 * 1024)) ;;
    *) echo "$v" ;;
  esac
}
limit_bytes=$(to_bytes "$limit")

# One cgroup for the whole script; the limit applies to the bench process and its page cache.
if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
  cg=/sys/fs/cgroup/sy-memcap.$$
  mkdir "$cg"
  echo "$limit_bytes" > "$cg/memory.max"
  [ -f "$cg/memory.swap.max" ] && echo 0 > "$cg/memory.swap.max"
  peak_file=$cg/memory.peak
  cg_version=v2
elif [ -d /sys/fs/cgroup/memory ]; then
  cg=/sys/fs/cgroup/memory/sy-memcap.$$
  mkdir "$cg"
  echo "$limit_bytes" > "$cg/memory.limit_in_bytes"
  [ -f "$cg/memory.memsw.limit_in_bytes" ] && echo "$limit_bytes" > "$cg/memory.memsw.limit_in_bytes" 2>/dev/null || true
  peak_file=$cg/memory.max_usage_in_bytes
  cg_version=v1
else
  echo "memcap: no cgroup memory controller under /sys/fs/cgroup" >&2
  exit 1
fi
cleanup() { rmdir "$cg" 2>/dev/null || true; }
trap cleanup EXIT

drop_cache() { sync; echo 3 > /proc/sys/vm/drop_caches; }

echo "memcap: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; cgroup $cg_version limit $limit ($limit_bytes bytes)"
echo "memcap: model $model ($(stat -c %s "$model") bytes); tg$n_gen${n_prompt:+ pp$n_prompt} x $reps, $threads threads"

disk_gbs=""
if ((disk)); then
  command -v fio >/dev/null || { echo "memcap: --disk needs fio (apt-get install fio)" >&2; exit 2; }
  echo
  echo "| random read | QD 1 | QD 8 | QD 32 |"
  echo "| --- | --- | --- | --- |"
  for bs in 1M 4M; do
    line="| $bs |"
    for qd in 1 8 32; do
      drop_cache
      bw=$(fio --name=probe --filename="$model" --readonly --rw=randread --bs=$bs --iodepth=$qd --direct=1 \
               --ioengine=libaio --time_based --runtime=8 --output-format=json 2>/dev/null |
           python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["read"]["bw_bytes"])')
      line+=" $(python3 -c "print(f'{$bw/1e9:.2f} GB/s')") |"
      [ "$bs" = 4M ] && [ "$qd" = 1 ] && disk_gbs=$(python3 -c "print($bw/1e9)")
    done
    echo "$line"
  done
  echo "(the disk bound below uses 4 MiB at QD 1: one expert slab after another, as the cache reads on a miss)"
fi

echo
echo "| options | tok/s | hit rate | MiB read / token | disk bound tok/s | share of bound | cgroup peak GiB | bench peak RSS GiB |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
i=0
for row in "${rows[@]}"; do
  i=$((i + 1))
  out=$(mktemp)
  err=$(mktemp)
  drop_cache
  [ "$cg_version" = v1 ] && echo 0 > "$peak_file" 2>/dev/null || true
  # shellcheck disable=SC2086  # a row is a list of options
  if timeout "$timeout_s" sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' sh "$cg" \
      "$bin" bench -m "$model" -p "$n_prompt" -n "$n_gen" -r "$reps" -t "$threads" --fresh-tokens --json $row >"$out" 2>"$err"; then
    [ -n "$json_dir" ] && mkdir -p "$json_dir" && cp "$out" "$json_dir/row$i.json"
    peak=$(cat "$peak_file" 2>/dev/null || echo 0)
    python3 - "$out" "$row" "$peak" "${disk_gbs:-0}" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
opts, peak, disk = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
for r in rows:
    if r["n_gen"] == 0:
        continue
    tokens = r["n_gen"] * r["repetitions"] * r.get("n_sequences", 1)
    c = r.get("expert_cache")
    if c:
        looked = c["hits"] + c["misses"]
        hit = f'{100.0 * c["hits"] / looked:.1f} %' if looked else "–"
        per_token = c["bytes_read"] / tokens
        read = f"{per_token / 2**20:.0f}"
        bound = disk * 1e9 / per_token if disk and per_token else 0
    else:
        hit, read, bound = "(mapped)", "–", 0
    tps = r["tokens_per_second"]
    bound_s = f"{bound:.2f}" if bound else "–"
    share = f"{100.0 * tps / bound:.0f} %" if bound else "–"
    print(f"| `{opts}` | {tps:.2f} | {hit} | {read} | {bound_s} | {share} | {peak / 2**30:.2f} | {r['peak_rss_bytes'] / 2**30:.2f} |")
EOF
  else
    rc=$?
    why="exit $rc"
    ((rc == 124)) && why="timed out after ${timeout_s}s"
    ((rc == 137)) && why="killed (out of memory?)"
    echo "| \`$row\` | $why: $(tail -1 "$err" | cut -c1-120) | | | | | | |"
  fi
  grep -m1 '^expert cache' "$err" >&2 || true
  rm -f "$out" "$err"
done
