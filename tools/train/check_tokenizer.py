"""Checks tokenizer.py's encoder (the llama.cpp SPM algorithm) against SentencePiece's own spm_encode on
every non-empty line of the validation splits (spm_encode works line by line, so newlines are left out;
tokenizer.py emits them as the byte token <0x0A>). Usage: check_tokenizer.py WORK_DIR"""
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer  # noqa: E402


def check(work):
    tok = tokenizer.Tokenizer(os.path.join(work, "tokenizer", "spm.vocab"))
    lines = []
    for path in sorted(glob.glob(os.path.join(work, "corpus", "*.valid.txt"))):
        with open(path, encoding="utf-8") as f:
            lines += [line for line in f.read().split("\n") if line]
    out = subprocess.run(["spm_encode", "--model=" + os.path.join(work, "tokenizer", "spm.model"),
                          "--output_format=id"], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=True).stdout.split("\n")
    bad = [i for i, line in enumerate(lines) if tok.encode(line) != [int(v) for v in out[i].split()]]
    for i in bad[:5]:
        print(f"check_tokenizer: mismatch on {lines[i][:60]!r}", file=sys.stderr)
    print(f"check_tokenizer: {len(lines) - len(bad)} of {len(lines)} lines encode as spm_encode does")
    return not bad


if __name__ == "__main__":
    sys.exit(0 if check(sys.argv[1]) else 1)
