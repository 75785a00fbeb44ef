"""Checks that model.py computes what llama.cpp's qwen3moe graph computes: loads the conformance model
../shared/conformance/models/qwen3moe-tiny.f32.gguf into the PyTorch model and compares its logits with
llama.cpp's reference logits for the s8/s32/s100 prompts. Exits non-zero past 1e-4 (the conformance README's
bound for F32 models)."""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_gguf  # noqa: E402
import gguf_io  # noqa: E402
from model import Config, Qwen3Moe  # noqa: E402


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../shared")
    path = os.path.join(shared, "conformance/models/qwen3moe-tiny.f32.gguf")
    r = gguf_io.Reader(path)
    a = "qwen3moe."
    c = Config(vocab_size=len(r.value("tokenizer.ggml.tokens")), n_embd=r.value(a + "embedding_length"),
               n_layer=r.value(a + "block_count"), n_head=r.value(a + "attention.head_count"),
               n_head_kv=r.value(a + "attention.head_count_kv"), head_dim=r.value(a + "attention.key_length"),
               n_expert=r.value(a + "expert_count"), n_expert_used=r.value(a + "expert_used_count"),
               expert_ff=r.value(a + "expert_feed_forward_length"), context=256,
               rope_base=r.value(a + "rope.freq_base"), norm_eps=r.value(a + "attention.layer_norm_rms_epsilon"))
    model = export_gguf.load_into(Qwen3Moe(c), path).eval()
    worst = 0.0
    for seq in ("s8", "s32", "s100"):
        ref_dir = os.path.join(shared, "conformance/refs/qwen3moe-tiny.f32")
        with open(os.path.join(ref_dir, f"{seq}.json")) as f:
            tokens = json.load(f)["tokens"]
        ref = np.fromfile(os.path.join(ref_dir, f"{seq}.prompt.f32"), dtype="<f4").reshape(len(tokens), -1)
        with torch.no_grad():
            logits = model(torch.tensor([tokens]))[0][0].numpy()
        diff = float(np.abs(logits - ref).max())
        worst = max(worst, diff)
        print(f"{seq}: max |logit - llama.cpp| = {diff:.2e}")
    sys.exit(0 if worst < 1e-4 else 1)


if __name__ == "__main__":
    main()
