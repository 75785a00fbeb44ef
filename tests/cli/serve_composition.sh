#!/usr/bin/env bash
# `switchyard serve --models` (a composition of experts, issue 16; docs/server.md, "Compositions"):
#  1. the `openai` npm client asks `auto` for prompts of each rule and gets the expected model (the response's
#     `model` and `routing.model`), names models directly, gets 404 for an unknown one;
#  2. a budget that holds one model at a time answers requests for all of them in turn (loads and unloads in
#     /metrics, loaded bytes within the budget, RSS not growing), and concurrent requests for two models;
#  3. start-up errors that name the culprit: a missing, truncated or directory model file, a malformed
#     composition file; the server exits non-zero before listening.
# Part 1 can run on another composition and held-out prompts (the embedding router's, once it lands):
#   SY_COE_COMPOSITION=FILE SY_COE_CASES=FILE (JSON lines {"prompt", "model"}) [SY_COE_MIN_ACCURACY=0.9]
# Usage: serve_composition.sh SWITCHYARD [SHARED_DIR]
set -euo pipefail
sy=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
shared=${2:-$here/../../../shared}
source "$here/serve/common.sh"
cache=$(dirname "$sy")/npm-cache/serve-openai
npm_install "$cache" openai@6.30.1
out=$(mktemp -d)
trap 'stop_server >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; [ -f "$out/server.log" ] && { echo "--- server log"; cat "$out/server.log"; }; exit 1; }

tiny=$(realpath "$shared/conformance/models")
mini=$(realpath "$here/../../models/switchyard-moe-mini.q8_0.gguf")
for f in "$tiny/qwen3moe-tiny.q8_0.gguf" "$tiny/mixtral-tiny.q8_0.gguf" "$mini"; do
  [ -f "$f" ] || fail "missing test model $f"
done

# --- 1. auto routes each prompt to its model ---------------------------------------------------------------
cat >"$out/rules.toml" <<EOF
default = "mini"
[models.mini]
path = "$mini"
description = "General text in eight languages and Python code."
categories = ["en"]
[models.coder]
path = "$tiny/qwen3moe-tiny.q8_0.gguf"
description = "Python"
categories = ["code"]
[models.poet]
path = "$tiny/mixtral-tiny.q8_0.gguf"
description = "Poems"
[router]
kind = "rules"
[[router.rules]]
pattern = '(?m)^\\s*(def|class|import) '
category = "code"
[[router.rules]]
pattern = '(?i)\\b(poem|verse|rhyme)\\b'
model = "poet"
EOF
cat >"$out/rules.cases" <<'EOF'
{"prompt": "def parse(path):\n    return open(path).read()", "model": "coder"}
{"prompt": "import numpy as np", "model": "coder"}
{"prompt": "Write a short poem about the sea.", "model": "poet"}
{"prompt": "Can you make this verse rhyme?", "model": "poet"}
{"prompt": "Tell me about the old lighthouse.", "model": "mini"}
{"prompt": "Quel temps fait-il demain ?", "model": "mini"}
EOF
composition=${SY_COE_COMPOSITION:-$out/rules.toml}
cases=${SY_COE_CASES:-$out/rules.cases}
start_server "$out/server.log" --models "$composition" --parallel 2 -t 1 -c 128
timeout 300 node "$here/serve/composition_client.mjs" "$cache/node_modules" "http://127.0.0.1:$port/v1" "$cases" \
  "${SY_COE_MIN_ACCURACY:-1}" || fail "the openai client against the composition"
stop_server || fail "stopping the server"

# --- 2. a budget of one model at a time --------------------------------------------------------------------------
# Three models of about the same size (any two together exceed the largest): the budget is the largest footprint.
write_budget() {  # write_budget BUDGET > FILE
  echo "budget = $1"
  echo 'default = "a"'
  printf '[models.a]\npath = "%s"\n' "$tiny/qwen3moe-tiny.f32.gguf"
  printf '[models.b]\npath = "%s"\n' "$tiny/olmoe-tiny.f32.gguf"
  printf '[models.c]\npath = "%s"\n' "$tiny/qwen2moe-tiny.f32.gguf"
  printf '[router]\nkind = "rules"\n[[router.rules]]\npattern = "^b"\nmodel = "b"\n'
}
write_budget 0 >"$out/budget.toml"
start_server "$out/server.log" --models "$out/budget.toml" --parallel 1 -t 1 -c 64
footprints=$(curl -s "http://127.0.0.1:$port/v1/models" |
  python3 -c 'import json,sys; print(" ".join(str(m["meta"]["footprint_bytes"]) for m in json.load(sys.stdin)["data"] if m["id"] != "auto"))')
stop_server || fail "stopping the server"
read -r -a fp <<<"$footprints"
sorted=($(printf '%s\n' "${fp[@]}" | sort -n))
budget=${sorted[2]}
((sorted[0] + sorted[1] > budget)) || fail "test models too unequal for a one-model budget: $footprints"
write_budget "$budget" >"$out/budget.toml"
start_server "$out/server.log" --models "$out/budget.toml" --parallel 1 -t 1 -c 64
url=http://127.0.0.1:$port
ask() {  # ask MODEL [MAX_TOKENS]: a completion from MODEL, which must answer it
  local body status=0
  # --max-time is wall time: long, as a shared machine may pause the test and the server for minutes.
  body=$(curl -sS --max-time 900 "$url/v1/completions" \
    -d "{\"model\":\"$1\",\"prompt\":\"Once\",\"max_tokens\":${2:-2},\"temperature\":0,\"ignore_eos\":true}" 2>&1) ||
    status=$?
  [[ $status -eq 0 && $body == *"\"model\":\"$1\""* && $body == *'"finish_reason":"length"'* ]] ||
    fail "request for $1 (curl status $status): $body"
}
metric() { curl -s "$url/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
rss() { awk '/^VmRSS/ {print $2 * 1024}' "/proc/$server_pid/status"; }
rounds=5
for r in $(seq 1 $rounds); do
  for m in a b c; do ask $m; done
  loaded=$(metric switchyard_model_loaded_bytes)
  ((loaded <= budget)) || fail "loaded bytes $loaded over the budget $budget"
  [ "$r" -eq 1 ] && rss_first=$(rss)
done
rss_last=$(rss)
loads=0
for m in a b c; do loads=$((loads + $(metric "switchyard_model_loads_total{model=\"$m\"}"))); done
unloads=0
for m in a b c; do unloads=$((unloads + $(metric "switchyard_model_unloads_total{model=\"$m\"}"))); done
echo "budget $budget: $loads loads, $unloads unloads; RSS $rss_first after round 1, $rss_last after round $rounds"
((loads == 3 * rounds && unloads == 3 * rounds - 1)) || fail "expected $((3 * rounds)) loads and $((3 * rounds - 1)) unloads"
# A model left mapped or a KV cache kept per load would add megabytes each time (15 loads).
if [[ $(ldd "$sy" 2>/dev/null || true) != *libasan* ]]; then
  ((rss_last - rss_first < 6 * 1024 * 1024)) || fail "RSS grew from $rss_first to $rss_last bytes over $rounds rounds"
fi
# Two models at once under the one-model budget: the second waits for the first to finish, then both answer.
ask b 24 &
p1=$!
ask c 24 &
p2=$!
wait $p1 || fail "the concurrent request for b"
wait $p2 || fail "the concurrent request for c"
stop_server || fail "stopping the server"
echo "ok   budget of one model: every model answered in turn, and two at once"

# --- 3. start-up errors ----------------------------------------------------------------------------------------
expect_startup_error() {  # expect_startup_error WHAT FILE NEEDLE...: exits non-zero before listening, naming each NEEDLE
  local what=$1 file=$2 status=0
  shift 2
  timeout 120 "$sy" serve --models "$file" --port 0 -t 1 >"$out/err.log" 2>&1 || status=$?
  [ $status -ne 0 ] && [ $status -ne 124 ] || { cat "$out/err.log"; fail "$what: exit status $status"; }
  ! grep -q "listening" "$out/err.log" || fail "$what: it listened"
  for needle in "$@"; do
    grep -qF -- "$needle" "$out/err.log" || { cat "$out/err.log"; fail "$what: the error does not say '$needle'"; }
  done
  echo "ok   $what: $(tail -1 "$out/err.log")"
}
with_path() {  # with_path PATH: the rules composition with coder's file replaced
  sed "s|^path = \"$tiny/qwen3moe-tiny.q8_0.gguf\"|path = \"$1\"|" "$out/rules.toml" >"$out/broken.toml"
  grep -qF "\"$1\"" "$out/broken.toml" || fail "could not write the broken composition"
}
with_path "$out/no-such.gguf"
expect_startup_error "missing model file" "$out/broken.toml" "model 'coder'" "$out/no-such.gguf" "no such file"
head -c 4000 "$tiny/qwen3moe-tiny.q8_0.gguf" >"$out/truncated.gguf"
with_path "$out/truncated.gguf"
expect_startup_error "truncated model file" "$out/broken.toml" "model 'coder'" "$out/truncated.gguf"
mkdir "$out/a-directory.gguf"
with_path "$out/a-directory.gguf"
expect_startup_error "directory as a model file" "$out/broken.toml" "model 'coder'" "is a directory"
sed 's/^description = "Poems"/descripton = "Poems"/' "$out/rules.toml" >"$out/typo.toml"
expect_startup_error "unknown key" "$out/typo.toml" "typo.toml" "unknown key 'descripton'" "[models.poet]"
printf 'budget = "lots"\n' | cat - "$out/rules.toml" | grep -v '^default' >"$out/budget-typo.toml"
expect_startup_error "malformed budget" "$out/budget-typo.toml" "'budget'"
write_budget 1000 >"$out/small.toml"
expect_startup_error "model over the budget" "$out/small.toml" "model 'a'" "more than the whole budget of 1000 bytes"
timeout 30 "$sy" serve --models "$out/rules.toml" -m "$mini" --port 0 >"$out/err.log" 2>&1 && fail "--models with -m was accepted"
grep -q "excludes" "$out/err.log" || { cat "$out/err.log"; fail "--models with -m: no usage error"; }
echo "serve_composition: all passed"
