#!/usr/bin/env bash
# The layer check (DESIGN.md, "Layers of the code"): every #include "x/..." in src/<folder>/ must name the folder
# itself or one the table below lets it use; anything else fails, naming file:line. scripts/test.sh runs it before
# the build. Usage: scripts/check-includes.sh [--strict] [SRC_DIR]   (SRC_DIR defaults to this checkout's src/)
#   --strict  also fail on the known violations listed below (what the list will be once they are fixed)
set -euo pipefail

# The allowed graph, one row per folder of src/: the folder, then the folders it may include (besides itself).
# It follows the DEPS of src/CMakeLists.txt, minus what DESIGN.md's "knows nothing of" column rules out
# (cli/ and server/: kernels, file formats). A new folder of src/ must get a row here, or the check fails.
# cli/ -> model/ and cli/ -> moe/ are allowed for now: cli/ still builds models and routing policies itself;
# once runtime/ offers that, drop them from the cli row.
allowed_graph='
cli        server coe runtime tokenizer modelgen model moe core
server     coe runtime tokenizer model moe core
coe        runtime tokenizer model moe core
runtime    tokenizer model moe kernels format core
modelgen   model kernels format core
tokenizer  format core
model      moe kernels format core
moe        kernels format core
kernels    core
format     core
core
'

# Violations already in the tree, tolerated until they are fixed: "<folder>/<file> <included folder>". Each must
# still occur (a fixed one fails the check until its line is deleted here), so the list only ever shrinks.
known_violations='
'

strict=0
if [ "${1:-}" = "--strict" ]; then strict=1; shift; fi
if [ $# -eq 0 ]; then cd "$(dirname "$0")/.." && src=src; else src=${1%/}; fi
[ -d "$src" ] || { echo "check-includes: no such directory: $src" >&2; exit 2; }
[ "$strict" = 1 ] && known_violations=''

folders=()
for d in "$src"/*/; do folders+=("$(basename "$d")"); done

# path:line:text for every #include line below src/<folder>/ (text files only).
grep -rnIE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "${folders[@]/#/$src/}" 2>/dev/null |
  SY_ALLOWED="$allowed_graph" SY_KNOWN="$known_violations" SY_FOLDERS="${folders[*]}" \
  awk -v src="$src" '
    BEGIN {
      n = split(ENVIRON["SY_ALLOWED"], rows, "\n")
      for (i = 1; i <= n; ++i) {
        m = split(rows[i], f, " ")
        if (m == 0) continue
        in_table[f[1]] = 1
        list[f[1]] = ""
        for (j = 2; j <= m; ++j) { may[f[1], f[j]] = 1; list[f[1]] = list[f[1]] " " f[j] "/" }
      }
      n = split(ENVIRON["SY_KNOWN"], rows, "\n")
      for (i = 1; i <= n; ++i)
        if (split(rows[i], f, " ") == 2) { known[f[1], f[2]] = 1; known_order[++n_known] = f[1] SUBSEP f[2] }
      n = split(ENVIRON["SY_FOLDERS"], f, " ")
      for (i = 1; i <= n; ++i) {
        is_folder[f[i]] = 1
        if (!(f[i] in in_table)) {
          printf "%s/%s/: folder not in the allowed graph of scripts/check-includes.sh; add its row\n", src, f[i]
          bad = 1
        }
      }
    }
    {
      # $0 = SRC/<folder>/<file>:<line>:<text>; the path holds no ":".
      split($0, p, ":")
      path = p[1]; line = p[2]
      rel = substr(path, length(src) + 2)          # <folder>/<file>
      folder = rel; sub(/\/.*/, "", folder)
      text = substr($0, length(path) + length(line) + 3)
      if (!match(text, /include[ \t]*[<"][^>"]*/)) next
      target = substr(text, RSTART, RLENGTH); sub(/^include[ \t]*[<"]/, "", target)
      if (index(target, "../")) {
        printf "%s:%s: relative include \"%s\" leaves %s/; name the folder instead\n", path, line, target, folder
        bad = 1; next
      }
      if (!index(target, "/")) next                 # a file beside this one
      dep = target; sub(/\/.*/, "", dep)
      if (dep == folder || !((dep in is_folder) || (dep in in_table))) next   # itself, or not ours (fmt/, CLI/…)
      if ((folder, dep) in may) next
      if ((rel, dep) in known) { seen[rel, dep] = 1; next }
      printf "%s:%s: %s/ includes %s/ (\"%s\"); %s/ may include only:%s\n", path, line, folder, dep, target, folder,
             list[folder] == "" ? " nothing else" : list[folder]
      bad = 1
    }
    END {
      for (i = 1; i <= n_known; ++i)
        if (!(known_order[i] in seen)) {
          split(known_order[i], k, SUBSEP)
          printf "%s/%s: no longer includes %s/; delete its line from known_violations in scripts/check-includes.sh\n",
                 src, k[1], k[2]
          bad = 1
        }
      exit bad
    }' || { echo "check-includes: layer violations (see DESIGN.md, \"Layers of the code\")" >&2; exit 1; }
echo "check-includes: ok (${#folders[@]} folders of $src)"
