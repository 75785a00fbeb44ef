"""Writes the embedding router's training examples (models/composition/router-examples.jsonl): paragraphs of the
bundled corpus's TRAINING split only, N per domain, as JSON lines {"text": ..., "category": DOMAIN}.

    /usr/bin/python3 tools/make-router-examples.py [--corpus build/train-model/corpus] [--per-domain 150]
        [--valid models/switchyard-moe-mini.valid] [-o models/composition/router-examples.jsonl]

Paragraphs are cut at blank lines exactly as `switchyard router eval` cuts the validation texts, and kept when
they are 32 to 1500 characters long; a paragraph that also occurs in a validation text is dropped (the
evaluation set stays unseen). The choice is a seeded shuffle: the same corpus gives the same file.
"""
import argparse
import glob
import json
import os
import random


def paragraphs(text, min_chars=32):
    out = []
    for p in text.split("\n\n"):
        p = p.strip("\n")
        if len(p) >= min_chars:
            out.append(p)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="build/train-model/corpus")
    ap.add_argument("--valid", default="models/switchyard-moe-mini.valid")
    ap.add_argument("--per-domain", type=int, default=150)
    ap.add_argument("--max-chars", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("-o", "--out", default="models/composition/router-examples.jsonl")
    args = ap.parse_args()

    held_out = set()
    for path in glob.glob(os.path.join(args.valid, "*.txt")):
        with open(path, encoding="utf-8") as f:
            held_out.update(paragraphs(f.read(), 1))
    files = sorted(glob.glob(os.path.join(args.corpus, "*.train.txt")))
    if not files:
        raise SystemExit(f"make-router-examples: no *.train.txt in {args.corpus} (run tools/train-model.sh first)")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        for path in files:
            domain = os.path.basename(path)[:-len(".train.txt")]
            with open(path, encoding="utf-8") as f:
                pool = [p for p in paragraphs(f.read()) if len(p) <= args.max_chars and p not in held_out]
            rng = random.Random(f"{args.seed}:{domain}")
            chosen = rng.sample(pool, min(args.per_domain, len(pool)))
            for p in chosen:
                out.write(json.dumps({"text": p, "category": domain}, ensure_ascii=False) + "\n")
            print(f"{domain}: {len(chosen)} of {len(pool)} training paragraphs")


if __name__ == "__main__":
    main()
