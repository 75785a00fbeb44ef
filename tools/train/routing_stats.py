"""Per-domain expert usage of a trained checkpoint, measured in PyTorch on the validation splits: which
share of each domain's token-slots every expert receives per layer, and how often a token keeps the top-1
expert of the token before it (routing locality). A first look; the engine's trace will replace it.
Usage: routing_stats.py WORK_DIR CHECKPOINT OUT_JSON [--windows N]"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import tokenizer  # noqa: E402
from model import Config, Qwen3Moe, rms_norm  # noqa: E402


@torch.no_grad()
def route(model, x):
    """Runs the model on x [B, T]; returns the selected experts per layer, [L, B, T, k]."""
    c = model.c
    B, T = x.shape
    mask = torch.full((T, T), float("-inf")).triu(1)
    h = model.token_embd(x)
    picks = []
    for block in model.blocks:
        h, _, _, top_i = block(h, model.cos[:T], model.sin[:T], mask)
        picks.append(top_i.view(B, T, c.n_expert_used))
    return torch.stack(picks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("checkpoint")
    ap.add_argument("out_json")
    ap.add_argument("--windows", type=int, default=16)
    args = ap.parse_args()
    torch.set_num_threads(2)
    ck = torch.load(args.checkpoint)
    model = Qwen3Moe(Config(**ck["config"]))
    model.load_state_dict(ck["model"])
    model.eval()
    tok = tokenizer.Tokenizer(os.path.join(args.work, "tokenizer", "spm.vocab"))
    c = model.c
    result = {"layers": c.n_layer, "experts": c.n_expert, "domains": {}}
    for path in sorted(f for f in os.listdir(os.path.join(args.work, "corpus")) if f.endswith(".valid.txt")):
        domain = path.split(".")[0]
        ids = data.encode_file(tok, os.path.join(args.work, "corpus", path), os.path.join(args.work, "tokenizer"))
        inputs, targets = data.eval_windows(ids, c.context, tok.bos_id)
        x = torch.from_numpy(inputs[:args.windows])
        valid = torch.from_numpy(targets[:args.windows] != -100)      # positions holding real tokens
        picks = route(model, x)                                         # [L, B, T, k]
        share, keep_top1 = [], []
        for layer in range(c.n_layer):
            sel = picks[layer][valid]                                    # [n, k]
            counts = torch.bincount(sel.reshape(-1), minlength=c.n_expert).double()
            share.append([round(float(v), 4) for v in counts / counts.sum()])
            top1 = picks[layer][..., 0]
            same = (top1[:, 1:] == top1[:, :-1]) & valid[:, 1:] & valid[:, :-1]
            keep_top1.append(round(float(same.sum()) / float((valid[:, 1:] & valid[:, :-1]).sum()), 4))
        result["domains"][domain] = {"tokens": int(valid.sum()), "share": share, "same_top1_as_previous": keep_top1}
        print(domain, "top-1 kept:", keep_top1, "max share per layer:", [max(s) for s in share])
    with open(args.out_json, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
