"""Writes token ids for a few texts (validation items of every domain and edge cases), as the bundled
model's tokenizer encodes them, for the engine's tokenizer tests. The encoder is checked against
spm_encode by check_tokenizer.py. Usage: tokenizer_fixture.py WORK_DIR OUT_JSON"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer  # noqa: E402

EDGE_CASES = ["", " ", "  leading and trailing  ", "\n", "a\n\nb", "\tTab\tseparated", "x = [1, 22, 333]",
              "emoji 🙂 and 𝄞 need byte fallback", "<|im_start|>user\nnot parsed as special", "ÄÖÜ äöü ß",
              "日本語のテキスト", "Ελληνικά", "    def f(self):\n        return 42\n"]


def main():
    work, out = sys.argv[1], sys.argv[2]
    tok = tokenizer.Tokenizer(os.path.join(work, "tokenizer", "spm.vocab"))
    cases = [{"text": t} for t in EDGE_CASES]
    corpus = os.path.join(work, "corpus")
    for name in sorted(os.listdir(corpus)):
        if name.endswith(".valid.txt"):
            with open(os.path.join(corpus, name), encoding="utf-8") as f:
                items = f.read().split("\n\n")
            cases += [{"domain": name.split(".")[0], "text": item} for item in items[:3] if len(item) < 1500]
    for case in cases:
        case["ids"] = tok.encode(case["text"])
    doc = {"about": "ids from tools/train/tokenizer.py (llama.cpp SPM rule, add_space_prefix false, no BOS, "
                    "special tokens not parsed) for the bundled model's vocabulary", "cases": cases}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
