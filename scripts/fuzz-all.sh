#!/usr/bin/env bash
# Fuzzes every target (tests/fuzz/*_fuzz.cpp) for MINUTES minutes each, JOBS at a time (default 1), through
# scripts/fuzz.sh, and prints one table: target, executions, coverage, corpus size, findings.
# Usage: scripts/fuzz-all.sh MINUTES [JOBS]
# Each run's log is build-fuzz/logs/TARGET.log; findings are the crash, leak, timeout and out-of-memory inputs the
# run added to build-fuzz/artifacts/TARGET/. Exits 1 when any run found something or failed to run.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:?usage: scripts/fuzz-all.sh MINUTES [JOBS]}
jobs=${2:-1}
[[ $minutes =~ ^[1-9][0-9]*$ && $jobs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 MINUTES [JOBS]" >&2; exit 2; }
targets=()
for f in tests/fuzz/*_fuzz.cpp; do
  t=$(basename "$f" _fuzz.cpp)
  targets+=("$t")
done

# Build everything once: parallel runs must not build into the same tree at the same time.
build=()
for t in "${targets[@]}"; do
  build+=("${t}_fuzz")
  [ -f "tests/fuzz/${t}_seed_corpus_main.cpp" ] && build+=("${t}_seed_corpus")
done
build+=(gguf_seed_corpus)
scripts/build.sh fuzz "${build[@]}"

. scripts/fuzz-limits.sh
logs=build-fuzz/logs
mkdir -p "$logs"
findings() {
  mkdir -p "build-fuzz/artifacts/$1"
  find "build-fuzz/artifacts/$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) |
    sort
}

run_one() {
  local t=$1
  rm -f "$logs/$t.log" "$logs/$t.status"
  findings "$t" >"$logs/$t.before"
  local status=0
  SY_FUZZ_NO_BUILD=1 scripts/fuzz.sh "$minutes" "$t" >"$logs/$t.log" 2>&1 || status=$?
  echo "$status" >"$logs/$t.status"
}

echo "== fuzzing ${#targets[@]} targets for $minutes minute(s) each, $jobs at a time (logs in $logs/)"
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=0
printf '\n| target | executions | coverage | corpus size | findings |\n| --- | ---: | ---: | ---: | --- |\n'
for t in "${targets[@]}"; do
  log=$logs/$t.log
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -n 1)
  # A run that stopped at a finding prints no final stats: its last status line's count then.
  [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')
  # The last status line libFuzzer printed: "#N ... cov: C ft: F corp: K/SIZE ...".
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[bKM]*b*' "$log" | tail -n 1 | awk '{print $2}')
  comm -13 "$logs/$t.before" <(findings "$t") >"$logs/$t.new"
  new=$(wc -l <"$logs/$t.new")
  status=$(cat "$logs/$t.status" 2>/dev/null || echo "none: it did not run")
  if ((new > 0)); then
    # Each finding once more, alone, under the same limits: a machine that stalls (shared, overloaded) can make
    # libFuzzer call a quick input a timeout, and the table should say so.
    fuzz_limits "$t"
    found="**$new**:"
    while read -r f; do
      again=reproduces
      timeout 300 "build-fuzz/fuzz/${t}_fuzz" -timeout="$timeout" -rss_limit_mb="$rss" "$f" >/dev/null 2>&1 &&
        again="does not reproduce alone"
      found+=" $(basename "$f") ($again)"
    done <"$logs/$t.new"
    failed=1
  elif [ "$status" != 0 ]; then
    found="**run failed (status $status), see $log**"
    failed=1
  else
    found=none
  fi
  printf '| %s | %s | %s | %s | %s |\n' "$t" "${execs:-?}" "${cov:-?}" "${corp:-?}" "$found"
done
exit "$failed"
