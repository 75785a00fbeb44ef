#!/usr/bin/env bash
# `switchyard chat` in a real terminal (tmux): Ctrl-C stops a long reply without leaving the chat, the next
# turn is answered, and Ctrl-D leaves with status 0. Skipped when tmux is missing.
# Usage: chat_interrupt.sh SWITCHYARD SHARED_DIR
set -euo pipefail
bin=$(realpath "$1")
shared=$2
command -v tmux >/dev/null || { echo "skipped: no tmux"; exit 0; }
model=$(realpath "$shared/conformance/models/qwen3moe-tiny.q8_0.gguf")
tmp=$(mktemp -d)
session=sy-chat-$$
export TMUX_TMPDIR=$tmp  # a private tmux server, ended with the test
trap 'tmux kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT
cat >"$tmp/chatml.jinja" <<'J'
{% for m in messages %}<|im_start|>{{ m.role }}
{{ m.content }}<|im_end|>
{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant
{% endif %}
J
# Greedy, "one" gets a reply that runs to the 1500-token limit (~0.4 s in release, seconds under ASan): long
# enough to interrupt. The limit bounds the second reply too, which Ctrl-D has to wait for: unbounded, it ran
# to the full 4096-token context, past the test's timeout on a loaded machine under ASan.
tmux new-session -d -s "$session" -x 200 -y 50 \
  "'$bin' chat -m '$model' --chat-template-file '$tmp/chatml.jinja' --temp 0 -c 4096 -n 1500 -t 1 >'$tmp/out' 2>'$tmp/err'; echo \$? >'$tmp/rc'"
wait_for() {  # wait_for FILE PATTERN SECONDS
  for ((i = 0; i < $3 * 10; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1"; cat "$tmp/out" "$tmp/err" 2>/dev/null; exit 1
}
wait_for "$tmp/out" "> " 30
tmux send-keys -t "$session" "one" Enter
# Interrupt as soon as the reply streams (it runs about a second on an idle machine).
for ((i = 0; i < 300; i++)); do [ "$(stat -c %s "$tmp/out")" -gt 40 ] && break; sleep 0.02; done
tmux send-keys -t "$session" C-c
wait_for "$tmp/err" "reply stopped" 30
tmux send-keys -t "$session" "hello there" Enter
sleep 1
tmux send-keys -t "$session" C-d
wait_for "$tmp/rc" "." 60
[ "$(cat "$tmp/rc")" = 0 ] || { cat "$tmp/err"; echo "chat exited with $(cat "$tmp/rc")"; exit 1; }
[ "$(grep -ao '> ' "$tmp/out" | wc -l)" -ge 3 ] || { echo "want three prompts"; exit 1; }
echo ok
