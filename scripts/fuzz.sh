#!/usr/bin/env bash
# Fuzzes one parser with libFuzzer for MINUTES minutes, one job, at low priority.
# Usage: scripts/fuzz.sh MINUTES [TARGET]   (TARGET defaults to gguf_reader; see tests/fuzz/*_fuzz.cpp)
# Builds TARGET_fuzz in build-fuzz (clang, libFuzzer + ASan + UBSan), writes its seed corpus (when a
# TARGET_seed_corpus builder exists) to build-fuzz/seeds/TARGET, grows the corpus in corpus/TARGET (git-ignored,
# kept between runs) and puts crash, leak and timeout inputs in build-fuzz/artifacts/TARGET/. Keep each finding
# in tests/fuzz/regressions/TARGET/ once fixed: the unit tests replay that folder in every build.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:?usage: scripts/fuzz.sh MINUTES [TARGET]}
target=${2:-gguf_reader}
shared=${SY_SHARED_DIR:-../shared}
builders=()
[ -f "tests/fuzz/${target}_seed_corpus_main.cpp" ] && builders=("${target}_seed_corpus")
# The seed builder for gguf_reader is named after the format it writes.
[ "$target" = gguf_reader ] && builders=(gguf_seed_corpus)
scripts/build.sh fuzz "${target}_fuzz" "${builders[@]}"

seeds=build-fuzz/seeds/$target
corpus=corpus/$target
artifacts=build-fuzz/artifacts/$target
mkdir -p "$seeds" "$corpus" "$artifacts"
for b in "${builders[@]}"; do "build-fuzz/fuzz/$b" "$seeds" "$shared"; done
# The chat_template target starts from the real templates the conformance test renders.
[ "$target" = chat_template ] && cp tests/data/chat_templates/*.jinja "$seeds/"
dict=()
[ -f "tests/fuzz/$target.dict" ] && dict=(-dict="tests/fuzz/$target.dict")

echo "== fuzzing $target for $minutes minutes (corpus $corpus, findings in $artifacts/)"
# -timeout: a parse that takes seconds is a hang; -rss_limit_mb: a forged count must not balloon memory.
exec nice -n 10 "build-fuzz/fuzz/${target}_fuzz" "$corpus" "$seeds" "${dict[@]}" \
  -max_total_time=$((minutes * 60)) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$artifacts/"
