#!/usr/bin/env bash
# run, chat and perplexity on a conformance model (a real 512-token byte-level BPE vocabulary), checked
# against independent computations: greedy `run` text = the decoded ids of `switchyard generate`; perplexity
# = exp(mean NLL) of `switchyard logits` over the same windows (tests/cli/text_reference.py, standard
# library only); a chat driven through a pipe. Usage: text_commands.sh SWITCHYARD SHARED_DIR
set -euo pipefail
bin=$1
shared=$2
here=$(cd "$(dirname "$0")" && pwd)
ref() { python3 "$here/text_reference.py" "$@"; }
model=$shared/conformance/models/qwen3moe-tiny.q8_0.gguf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --- run: greedy text equals the decoded ids of `generate` on the same prompt tokens; a timing line.
prompt="The quick brown fox jumps over the lazy dog"
ids=$("$bin" tokenize -m "$model" -p "$prompt" --ids)
gen=$("$bin" generate -m "$model" --tokens "$ids" -n 24 --greedy)
ref decode "$model" "$gen" >"$tmp/want.txt"
"$bin" run -m "$model" -p "$prompt" -n 24 --temp 0 --ignore-eos -t 2 >"$tmp/got.txt" 2>"$tmp/run.err"
cmp -s "$tmp/got.txt" "$tmp/want.txt" || { echo "run text differs from decoded generate ids ($gen):"; od -c "$tmp/got.txt" | head; od -c "$tmp/want.txt" | head; exit 1; }
grep -Eq '^prompt: [0-9]+ tokens, .* tokens/s \| generation: 24 tokens, .* tokens/s' "$tmp/run.err" \
  || { cat "$tmp/run.err"; fail "no timing line"; }
# The same from a prompt file, deterministic across runs and thread counts.
printf '%s' "$prompt" >"$tmp/prompt.txt"
"$bin" run -m "$model" -f "$tmp/prompt.txt" -n 24 --temp 0 --ignore-eos -t 1 >"$tmp/got2.txt" 2>/dev/null
cmp -s "$tmp/got.txt" "$tmp/got2.txt" || fail "run -f differs from run -p"
# Without --ignore-eos the text stops at the first end-of-generation token (<|endoftext|> 509, <|im_end|> 511).
stop_ids=$(echo "$gen" | tr ',' '\n' | awk '$1 == 509 || $1 == 511 { exit } { print }' | paste -sd, -)
ref decode "$model" "$stop_ids" >"$tmp/want_stop.txt"
"$bin" run -m "$model" -p "$prompt" -n 24 --temp 0 >"$tmp/got_stop.txt" 2>/dev/null
cmp -s "$tmp/got_stop.txt" "$tmp/want_stop.txt" || fail "run does not stop at the first EOS/EOT"
# Seeded sampling is reproducible; --verbose-prompt lists the prompt tokens on stderr.
a=$("$bin" run -m "$model" -p "$prompt" -n 16 --temp 0.9 --seed 3 2>/dev/null)
b=$("$bin" run -m "$model" -p "$prompt" -n 16 --temp 0.9 --seed 3 2>/dev/null)
[ "$a" = "$b" ] || fail "seeded sampling differs"
"$bin" run -m "$model" -p "$prompt" -n 1 --verbose-prompt 2>"$tmp/vp.err" >/dev/null
grep -q "prompt: $(echo "$ids" | tr ',' '\n' | wc -l) tokens" "$tmp/vp.err" || { cat "$tmp/vp.err"; fail "--verbose-prompt"; }

# --- perplexity: equals exp(mean NLL) of `logits` over [BOS] + chunks of ctx-1 tokens.
for i in 1 2 3 4 5 6; do echo "Line $i: the cat sat on the mat, and then it went home for dinner."; done >"$tmp/text.txt"
ctx=32
toks=$("$bin" tokenize -m "$model" --text-file "$tmp/text.txt" --ids --no-bos)
bos=$(ref bos "$model")
IFS=, read -r -a all <<<"$toks"
windows=()
for ((start = 0; start < ${#all[@]}; start += ctx - 1)); do
  chunk=$(IFS=,; echo "${all[*]:start:ctx-1}")
  w="$bos,$chunk"
  "$bin" logits -m "$model" --tokens "$w" --out "$tmp/w$start.bin"
  windows+=("$tmp/w$start.bin:$w")
done
read -r want_ppl want_err want_n < <(ref ppl 512 "${windows[@]}")
"$bin" perplexity -m "$model" -f "$tmp/text.txt" --ctx $ctx --json >"$tmp/ppl.json" 2>"$tmp/ppl.err"
python3 - "$tmp/ppl.json" "$want_ppl" "$want_err" "$want_n" "${#windows[@]}" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))
ppl, err, n, w = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
assert got["tokens"] == n and got["windows"] == w, (got, n, w)
assert abs(got["ppl"] - ppl) <= 1e-5 * ppl, (got["ppl"], ppl)
assert abs(got["ppl_stderr"] - err) <= 1e-4 * err + 1e-9, (got["ppl_stderr"], err)
PY
grep -q "${#windows[@]}/${#windows[@]} windows" "$tmp/ppl.err" || { cat "$tmp/ppl.err"; fail "no progress bar"; }
"$bin" perplexity -m "$model" -f "$tmp/text.txt" --ctx $ctx 2>/dev/null | grep -Eq '^PPL = [0-9.]+ ± [0-9.]+' \
  || fail "no 'PPL = x ± y' line"

# The bundled model: perplexity reproduces the training script's own figure (eval.json, same rule) within 1 %.
bundled=$here/../../models/switchyard-moe-mini
if [ -f "$bundled.q8_0.gguf" ]; then
  "$bin" perplexity -m "$bundled.q8_0.gguf" -f "$bundled.valid/es.txt" --json 2>/dev/null >"$tmp/es.json"
  python3 - "$tmp/es.json" "$bundled.eval.json" <<'PY'
import json, sys
got, want = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["valid"]["q8_0"]["es"]
assert got["tokens"] == want["tokens"], (got, want)
assert abs(got["ppl"] - want["ppl"]) <= 0.01 * want["ppl"], (got["ppl"], want["ppl"])
PY
fi

# --- chat through a pipe: /reset forgets, EOF leaves; replies equal `run` on the rendered conversation.
cat >"$tmp/chatml.jinja" <<'J'
{% for m in messages %}<|im_start|>{{ m.role }}
{{ m.content }}<|im_end|>
{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant
{% endif %}
J
chat() { "$bin" chat -m "$model" --chat-template-file "$tmp/chatml.jinja" --temp 0 -n 12 "$@"; }
printf 'hello there\n/reset\nhow are you\n' | chat >"$tmp/chat.out" 2>"$tmp/chat.err" || { cat "$tmp/chat.err"; fail "chat exit status"; }
grep -q "conversation reset" "$tmp/chat.err" || fail "no reset notice"
# Replies may hold newlines themselves; chat ends each with one.
printf '<|im_start|>user\nhello there<|im_end|>\n<|im_start|>assistant\n' >"$tmp/turn1.txt"
"$bin" run -m "$model" -f "$tmp/turn1.txt" --parse-special --temp 0 -n 12 >"$tmp/want.out" 2>/dev/null
echo >>"$tmp/want.out"
printf 'how are you\n' | chat >>"$tmp/want.out" 2>/dev/null  # after /reset: as a fresh chat
cmp -s "$tmp/chat.out" "$tmp/want.out" || { od -c "$tmp/chat.out" | head; od -c "$tmp/want.out" | head; fail "chat replies differ from run / a fresh chat"; }
# A second turn continues the conversation and a system message is accepted.
printf 'one\ntwo\n' | chat --system "Be brief." >"$tmp/two.out" 2>"$tmp/two.err" || { cat "$tmp/two.err"; fail "two-turn chat"; }
[ -s "$tmp/two.out" ] || fail "two-turn chat printed nothing"

# --- bad input: clear errors, no crash.
expect_error() {  # expect_error PATTERN ARGS...
  local pattern=$1; shift
  if "$bin" "$@" </dev/null >/dev/null 2>"$tmp/err"; then fail "expected failure: $*"; fi
  grep -q "$pattern" "$tmp/err" || { cat "$tmp/err"; fail "wrong error for $*"; }
}
expect_error "cannot open\|No such file" run -m "$tmp/missing.gguf" -p hi
expect_error "prompt is empty" run -m "$model" -p ""
expect_error "give a prompt" run -m "$model"
expect_error "cannot open text file" run -m "$model" -f "$tmp/missing.txt"
expect_error "cannot open text file" perplexity -m "$model" -f "$tmp/missing.txt"
expect_error "too small" perplexity -m "$model" -f "$tmp/text.txt" --ctx 1
expect_error "exceeds the model's training context" perplexity -m "$model" -f "$tmp/text.txt" --ctx 100000
expect_error "more than the context" run -m "$model" -p "$prompt" -c 4
expect_error "no chat template" chat -m "$model"
echo ok
