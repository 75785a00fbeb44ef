#!/usr/bin/env bash
# Formats the C++ sources with clang-format (.clang-format: Google style, 120 columns).
# Usage: scripts/format.sh [--check] [PATH...]
#   --check  change nothing; list the files that are not formatted and fail if there are any (scripts/test.sh).
# Without paths it covers the folders below, which are kept formatted. The aim is the whole tree: add a folder
# here in the same commit that formats it (formatting a folder someone else is changing makes merge conflicts).
set -euo pipefail
cd "$(dirname "$0")/.."
formatted=(src tests bench)
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
paths=("$@")
((${#paths[@]})) || paths=("${formatted[@]}")
tool=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$tool" ] || { echo "format: clang-format not found (scripts/install-deps.sh installs clang-format-14)" >&2; exit 2; }
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- "${paths[@]}" | grep -E '\.(cpp|h)$' || true)
((${#files[@]})) || exit 0
if ((check)); then
  bad=()
  for f in "${files[@]}"; do "$tool" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f"); done
  if ((${#bad[@]})); then
    echo "format: not clang-formatted (run scripts/format.sh): ${bad[*]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files formatted"
else
  "$tool" -i "${files[@]}"
fi
