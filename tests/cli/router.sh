#!/usr/bin/env bash
# `switchyard router train` and `router eval` end to end on tiny inputs: a classifier from a few examples,
# the accuracy and the confusion matrix of a small composition (the bundled model behind every name, so no
# expert files are needed), --json, exit codes, and bad inputs: a missing file, a malformed JSONL line named by
# its number, an unknown category, an output path equal to an input, a broken classifier file.
# Usage: router.sh SWITCHYARD SHARED_DIR. Small on purpose: the ASan tree runs it too.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
models=$(realpath "$here/../../models")
model="$models/switchyard-moe-mini.q8_0.gguf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Runs a command that must exit with status $1 and print a message containing $2.
refused() {
  local code=$1 want=$2; shift 2
  local rc=0
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ "$rc" = "$code" ] || { cat "$tmp/err"; fail "exit $rc, expected $code: $*"; }
  grep -q -- "$want" "$tmp/err" || { cat "$tmp/err"; fail "'$want' not in the error of: $*"; }
}

# Three paragraphs per domain from the held-out texts for eval; a few training-split examples for train.
mkdir -p "$tmp/valid"
for d in code de ru; do
  python3 - "$models/switchyard-moe-mini.valid/$d.txt" "$tmp/valid/$d.txt" <<'PY'
import sys
paras = [p.strip("\n") for p in open(sys.argv[1], encoding="utf-8").read().split("\n\n") if len(p.strip("\n")) >= 32]
open(sys.argv[2], "w", encoding="utf-8").write("\n\n".join(p[:400] for p in paras[:3]) + "\n")
PY
done
python3 - "$models/composition/router-examples.jsonl" "$tmp/examples.jsonl" <<'PY'
import json, sys
seen = {}
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in open(sys.argv[1], encoding="utf-8"):
        e = json.loads(line)
        if e["category"] in ("code", "de", "ru") and seen.get(e["category"], 0) < 4:
            seen[e["category"]] = seen.get(e["category"], 0) + 1
            e["text"] = e["text"][:300]
            out.write(json.dumps(e, ensure_ascii=False) + "\n")
PY
[ "$(wc -l <"$tmp/examples.jsonl")" = 12 ] || fail "examples"

cat >"$tmp/comp.toml" <<EOF2
default = "generalist"
[models.generalist]
path = "$model"
categories = ["en"]
[models.code]
path = "$model"
description = "Python code."
categories = ["code"]
[models.german]
path = "$model"
categories = ["de"]
[models.russian]
path = "$model"
categories = ["ru"]
[router]
kind = "embedding"
embedder = "generalist"
classifier = "router.json"
threshold = 0.0
EOF2

for method in centroid logistic; do
  "$bin" router train --embedder "$model" --examples "$tmp/examples.jsonl" -o "$tmp/router.json" --method "$method" \
    --models "$tmp/comp.toml" -t 2 >"$tmp/out" || fail "router train --method $method"
  grep -q "$method classifier over 3 categories, 12 examples, 256 dims; training accuracy" "$tmp/out" ||
    { cat "$tmp/out"; fail "train summary"; }
done

"$bin" router eval --models "$tmp/comp.toml" -f "$tmp/valid" -t 2 >"$tmp/eval.txt" || fail "router eval"
grep -q "category accuracy" "$tmp/eval.txt" || { cat "$tmp/eval.txt"; fail "no accuracy line"; }
grep -q "^| code | code | 3 |" "$tmp/eval.txt" || { cat "$tmp/eval.txt"; fail "no code row"; }
grep -q "routed / oracle" "$tmp/eval.txt" || { cat "$tmp/eval.txt"; fail "no perplexity table"; }

"$bin" router eval --models "$tmp/comp.toml" -f "$tmp/valid" -t 2 --json >"$tmp/eval.json" || fail "router eval --json"
python3 - "$tmp/eval.json" <<'PY' || fail "eval JSON"
import json, math, sys
r = json.load(open(sys.argv[1]))
assert r["router"] == "embedding", r["router"]
assert [d["domain"] for d in r["domains"]] == ["code", "de", "ru"]
assert len(r["confusion"]) == 3 and all(len(row) == len(r["categories"]) for row in r["confusion"])
assert sum(map(sum, r["confusion"])) == 9
assert 0 <= r["category_accuracy"] <= 1 and 0 <= r["expert_model_accuracy"] <= 1
for d in r["domains"]:
    # Every name is the same file: every perplexity is the same, and routing cannot change it.
    ppl = list(d["ppl"].values())
    assert len(ppl) == 4 and max(ppl) - min(ppl) < 1e-9 * max(ppl), ppl
    assert math.isclose(d["routed_ppl"], d["oracle_ppl"], rel_tol=1e-9)
PY
# The same perplexity as `switchyard perplexity` on the same file.
"$bin" perplexity -m "$model" -f "$tmp/valid/de.txt" -t 2 --json 2>/dev/null >"$tmp/ppl.json"
python3 - "$tmp/eval.json" "$tmp/ppl.json" <<'PY' || fail "eval's perplexity differs from switchyard perplexity"
import json, math, sys
r = json.load(open(sys.argv[1])); p = json.load(open(sys.argv[2]))
de = [d for d in r["domains"] if d["domain"] == "de"][0]
assert de["tokens"] == p["tokens"], (de["tokens"], p["tokens"])
assert math.isclose(de["ppl"]["generalist"], p["ppl"], rel_tol=1e-6), (de["ppl"], p["ppl"])
PY

# Bad inputs: each names the file (and the line or field), with exit status 1; usage errors exit 2.
refused 1 "no-such.jsonl" router train --embedder "$model" --examples "$tmp/no-such.jsonl" -o "$tmp/r.json"
printf '{"text": "a", "category": "de"}\n\n{"text": "b" "category": "de"}\n' >"$tmp/bad.jsonl"
refused 1 "bad.jsonl:3: not valid JSON" router train --embedder "$model" --examples "$tmp/bad.jsonl" -o "$tmp/r.json"
printf '{"text": "a", "category": 7}\n' >"$tmp/bad2.jsonl"
refused 1 "bad2.jsonl:1: 'category' must be a string" router train --embedder "$model" --examples "$tmp/bad2.jsonl" \
  -o "$tmp/r.json"
printf '{"text": "ein Satz", "category": "de"}\n{"text": "une phrase", "category": "fr"}\n' >"$tmp/fr.jsonl"
refused 1 "example 2: unknown category 'fr'" router train --embedder "$model" --examples "$tmp/fr.jsonl" \
  -o "$tmp/r.json" --models "$tmp/comp.toml"
refused 1 "is the input file" router train --embedder "$model" --examples "$tmp/examples.jsonl" \
  -o "$tmp/examples.jsonl"
[ "$(wc -l <"$tmp/examples.jsonl")" = 12 ] || fail "the refused command touched its input"
refused 2 "method" router train --embedder "$model" --examples "$tmp/examples.jsonl" -o "$tmp/r.json" --method knn
refused 2 "required" router eval --models "$tmp/comp.toml"
refused 1 "no-such-dir" router eval --models "$tmp/comp.toml" -f "$tmp/no-such-dir"
refused 1 "no-such.toml" router eval --models "$tmp/no-such.toml" -f "$tmp/valid"
# A classifier file with a huge number, and one trained on another embedder.
python3 - "$tmp/router.json" "$tmp/huge.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["mean"][5] = 1e300
json.dump(r, open(sys.argv[2], "w"))
PY
sed 's/classifier = "router.json"/classifier = "huge.json"/' "$tmp/comp.toml" >"$tmp/huge.toml"
refused 1 "huge.json: 'mean\[5\]'" router eval --models "$tmp/huge.toml" -f "$tmp/valid" --no-perplexity
python3 - "$tmp/router.json" "$tmp/other.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["embedder"]["bytes"] += 1
json.dump(r, open(sys.argv[2], "w"))
PY
sed 's/classifier = "router.json"/classifier = "other.json"/' "$tmp/comp.toml" >"$tmp/other.toml"
refused 1 "'embedder.bytes'" router eval --models "$tmp/other.toml" -f "$tmp/valid" --no-perplexity
echo "router: ok"
