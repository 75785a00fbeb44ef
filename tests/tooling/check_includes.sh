#!/usr/bin/env bash
# Self-test of scripts/check-includes.sh: on small trees it must pass a clean one and fail each kind of
# violation, naming file:line; and the real src/ must pass (test.sh checks it too, before the build).
# Usage: check_includes.sh SCRIPTS_CHECK_INCLUDES SRC_DIR
set -uo pipefail
check=$1
real_src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A clean tree: every folder of the allowed graph, each including one below it (and an outside library).
make_tree() {
  rm -rf "$tmp/src" && mkdir -p "$tmp/src"/{cli,runtime,tokenizer,modelgen,model,moe,kernels/quant,format,core}
  echo '#pragma once' > "$tmp/src/core/error.h"
  printf '#include "core/error.h"\n' > "$tmp/src/format/gguf_reader.h"
  printf '#include "core/error.h"\n#include "quant.h"\n' > "$tmp/src/kernels/quant/q8_0.cpp"
  printf '#include "kernels/quant/quant.h"\n#include "format/gguf_reader.h"\n' > "$tmp/src/moe/router.cpp"
  printf '#include "moe/router.h"\n#include <fmt/format.h>\n' > "$tmp/src/model/model.cpp"
  printf '#include "model/model.h"\n' > "$tmp/src/modelgen/generator.cpp"
  printf '#include "format/gguf_reader.h"\n' > "$tmp/src/tokenizer/vocab.cpp"
  printf '#include "model/model.h"\n#include "tokenizer/vocab.h"\n' > "$tmp/src/runtime/session.cpp"
  printf '#include <CLI/CLI.hpp>\n#include "runtime/session.h"\n#include "cli/commands.h"\n' > "$tmp/src/cli/run.cpp"
}

# expect_fail NAME PATTERN: the check must exit non-zero and print PATTERN.
expect_fail() {
  local out rc
  out=$("$check" --strict "$tmp/src" 2>&1); rc=$?
  [ "$rc" -ne 0 ] || fail "$1: check passed; output: $out"
  grep -qF -- "$2" <<<"$out" || fail "$1: output lacks '$2': $out"
}

make_tree
out=$("$check" --strict "$tmp/src" 2>&1) || fail "clean tree rejected: $out"

make_tree
printf '// first line\n#include "format/gguf_reader.h"\n' > "$tmp/src/cli/inspect.cpp"
expect_fail "cli includes format" "$tmp/src/cli/inspect.cpp:2: cli/ includes format/"

make_tree
printf '#include "kernels/quant/quant.h"\n' > "$tmp/src/cli/bench.cpp"
expect_fail "cli includes kernels" "$tmp/src/cli/bench.cpp:1: cli/ includes kernels/"

make_tree
printf '  #  include <model/model.h>\n' > "$tmp/src/core/log.h"
expect_fail "core includes upward (angle brackets, spaces)" "$tmp/src/core/log.h:1: core/ includes model/"

make_tree
printf '#include "runtime/session.h"\n' > "$tmp/src/kernels/quant/q4_0.cpp"
expect_fail "kernels (subfolder) includes runtime" "$tmp/src/kernels/quant/q4_0.cpp:1: kernels/ includes runtime/"

make_tree
printf '#include "../format/gguf_reader.h"\n' > "$tmp/src/cli/x.cpp"
expect_fail "relative include" "$tmp/src/cli/x.cpp:1: relative include"

make_tree
mkdir -p "$tmp/src/plugins" && printf '#include "core/error.h"\n' > "$tmp/src/plugins/p.cpp"
expect_fail "folder missing from the table" "$tmp/src/plugins/: folder not in the allowed graph"

# The list of known violations is empty since cli/ stopped including format/: a clean tree passes as it is.
make_tree
out=$("$check" "$tmp/src" 2>&1) || fail "a clean tree fails the check: $out"

# The real tree.
out=$("$check" "$real_src" 2>&1) || fail "the real tree $real_src fails the check: $out"

[ "$failures" -eq 0 ] && echo "check_includes: all cases behaved" || { echo "$failures failure(s)"; exit 1; }
