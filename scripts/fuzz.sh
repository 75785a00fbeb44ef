#!/usr/bin/env bash
# Fuzzes one parser with libFuzzer for MINUTES minutes, one job, at low priority.
# Usage: scripts/fuzz.sh MINUTES [TARGET]   (TARGET defaults to gguf_reader; see tests/fuzz/*_fuzz.cpp)
# Builds TARGET_fuzz in build-fuzz (clang, libFuzzer + ASan + UBSan), writes its seed corpus to
# build-fuzz/seeds/TARGET (from a TARGET_seed_corpus builder when one exists, the files committed in
# tests/fuzz/seeds/TARGET/ and the kept regressions), grows the corpus in corpus/TARGET (git-ignored, kept between
# runs) and puts crash, leak, timeout and out-of-memory inputs in build-fuzz/artifacts/TARGET/. Keep each finding
# in tests/fuzz/regressions/TARGET/ once fixed: the unit tests replay that folder in every build.
# SY_FUZZ_NO_BUILD=1 skips the build (scripts/fuzz-all.sh builds every target first).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:?usage: scripts/fuzz.sh MINUTES [TARGET]}
target=${2:-gguf_reader}
shared=${SY_SHARED_DIR:-../shared}
builders=()
[ -f "tests/fuzz/${target}_seed_corpus_main.cpp" ] && builders=("${target}_seed_corpus")
# The seed builder for gguf_reader is named after the format it writes.
[ "$target" = gguf_reader ] && builders=(gguf_seed_corpus)
[ "${SY_FUZZ_NO_BUILD:-0}" = 1 ] || scripts/build.sh fuzz "${target}_fuzz" "${builders[@]}"

seeds=build-fuzz/seeds/$target
corpus=corpus/$target
artifacts=build-fuzz/artifacts/$target
mkdir -p "$seeds" "$corpus" "$artifacts"
for b in "${builders[@]}"; do "build-fuzz/fuzz/$b" "$seeds" "$shared"; done
# The chat_template target starts from the real templates the conformance test renders.
[ "$target" = chat_template ] && cp tests/data/chat_templates/*.jinja "$seeds/"
for dir in "tests/fuzz/seeds/$target" "tests/fuzz/regressions/$target"; do
  [ -d "$dir" ] && find "$dir" -maxdepth 1 -type f ! -name README.md -exec cp {} "$seeds/" \;
done
dict=()
[ -f "tests/fuzz/$target.dict" ] && dict=(-dict="tests/fuzz/$target.dict")
# -timeout: a parse that takes seconds is a hang; -rss_limit_mb: a forged count must not balloon memory.
. scripts/fuzz-limits.sh
fuzz_limits "$target"

echo "== fuzzing $target for $minutes minutes (corpus $corpus, findings in $artifacts/)"
exec nice -n 10 "build-fuzz/fuzz/${target}_fuzz" "$corpus" "$seeds" "${dict[@]}" \
  -max_total_time=$((minutes * 60)) -max_len=65536 -timeout="$timeout" -rss_limit_mb="$rss" \
  -print_final_stats=1 -artifact_prefix="$artifacts/"
