#!/usr/bin/env bash
# The test command: installs what is missing, checks the layers' includes and the formatting, builds the
# release and the sanitizer (ASan+UBSan) trees, and runs every test in both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "== layers (scripts/check-includes.sh: no #include points up DESIGN.md's list)"
scripts/check-includes.sh
echo "== format (clang-format over the folders scripts/format.sh lists)"
scripts/format.sh --check
scripts/build.sh release
scripts/build.sh asan
echo "== tests (release)"
ctest --test-dir build --output-on-failure -j 2
echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j 2
