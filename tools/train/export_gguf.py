"""Writes the trained model as a `qwen3moe` GGUF (F32 or Q8_0) with its SentencePiece vocabulary and a
ChatML template. Key and tensor names follow llama.cpp's (checked against the conformance qwen3moe file)."""
import numpy as np

import gguf_io
from tokenizer import TYPE_NORMAL

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

LLAMA_FTYPE = {gguf_io.GGML_F32: 0, gguf_io.GGML_Q8_0: 7}


def state_arrays(model):
    """GGUF tensor name -> float32 numpy array in GGUF row-major layout, in llama.cpp's file order."""
    c = model.c
    sd = {k: v.detach().cpu().float().numpy() for k, v in model.state_dict().items()}
    out = {"token_embd.weight": sd["token_embd.weight"]}
    for i in range(c.n_layer):
        p = f"blocks.{i}."
        b = f"blk.{i}."
        out[b + "attn_norm.weight"] = sd[p + "attn_norm"]
        out[b + "attn_q.weight"] = sd[p + "attn.wq.weight"]
        out[b + "attn_k.weight"] = sd[p + "attn.wk.weight"]
        out[b + "attn_v.weight"] = sd[p + "attn.wv.weight"]
        out[b + "attn_output.weight"] = sd[p + "attn.wo.weight"]
        out[b + "attn_q_norm.weight"] = sd[p + "attn.q_norm"]
        out[b + "attn_k_norm.weight"] = sd[p + "attn.k_norm"]
        out[b + "ffn_norm.weight"] = sd[p + "ffn_norm"]
        out[b + "ffn_gate_inp.weight"] = sd[p + "moe.router.weight"]
        out[b + "ffn_gate_exps.weight"] = sd[p + "moe.gate"]
        out[b + "ffn_up_exps.weight"] = sd[p + "moe.up"]
        out[b + "ffn_down_exps.weight"] = sd[p + "moe.down"]
    out["output_norm.weight"] = sd["output_norm"]
    # Tied in training, stored untied: every qwen3moe loader accepts an explicit output matrix.
    out["output.weight"] = sd["token_embd.weight"]
    return out


def tensor_type(name, array, ggml_type):
    """Q8_0 for matrices; 1-D tensors and the router stay F32, as llama-quantize leaves them."""
    if ggml_type == gguf_io.GGML_Q8_0 and array.ndim >= 2 and "ffn_gate_inp" not in name:
        return gguf_io.GGML_Q8_0
    return gguf_io.GGML_F32


def export(model, tok, path, ggml_type, name, train_info):
    c = model.c
    w = gguf_io.Writer()
    arch = "qwen3moe"
    w.add_str("general.architecture", arch)
    w.add_str("general.name", name)
    w.add_str("general.description", train_info)
    w.add_str("general.license", "same terms as the corpus: fortune databases and the Python stdlib")
    w.add_u32(f"{arch}.context_length", c.context)
    w.add_u32(f"{arch}.embedding_length", c.n_embd)
    w.add_u32(f"{arch}.block_count", c.n_layer)
    w.add_u32(f"{arch}.feed_forward_length", c.expert_ff)
    w.add_u32(f"{arch}.attention.head_count", c.n_head)
    w.add_u32(f"{arch}.attention.head_count_kv", c.n_head_kv)
    w.add_f32(f"{arch}.rope.freq_base", c.rope_base)
    w.add_f32(f"{arch}.attention.layer_norm_rms_epsilon", c.norm_eps)
    w.add_u32(f"{arch}.expert_count", c.n_expert)
    w.add_u32(f"{arch}.expert_used_count", c.n_expert_used)
    w.add_u32(f"{arch}.attention.key_length", c.head_dim)
    w.add_u32(f"{arch}.attention.value_length", c.head_dim)
    w.add_u32(f"{arch}.expert_feed_forward_length", c.expert_ff)
    w.add_u32("general.file_type", LLAMA_FTYPE[ggml_type])
    if ggml_type != gguf_io.GGML_F32:
        w.add_u32("general.quantization_version", 2)

    w.add_str("tokenizer.ggml.model", "llama")
    w.add_str("tokenizer.ggml.pre", "default")
    w.add_arr("tokenizer.ggml.tokens", gguf_io.T_STR, tok.pieces)
    w.add_arr("tokenizer.ggml.scores", gguf_io.T_F32, tok.scores)
    w.add_arr("tokenizer.ggml.token_type", gguf_io.T_I32, tok.types)
    w.add_u32("tokenizer.ggml.bos_token_id", tok.bos_id)
    # Generation ends at <|im_end|>: it closes every assistant turn the model was trained on.
    w.add_u32("tokenizer.ggml.eos_token_id", tok.im_end_id)
    w.add_u32("tokenizer.ggml.eot_token_id", tok.im_end_id)
    w.add_u32("tokenizer.ggml.unknown_token_id", tok.unk_id)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_bool("tokenizer.ggml.add_eos_token", False)
    w.add_bool("tokenizer.ggml.add_space_prefix", False)
    w.add_str("tokenizer.chat_template", CHAT_TEMPLATE)
    assert all(t >= TYPE_NORMAL for t in tok.types)

    for tname, array in state_arrays(model).items():
        w.add_tensor(tname, array, tensor_type(tname, array, ggml_type))
    w.write(path)


def load_into(model, path):
    """Loads a GGUF written by export() back into the PyTorch model (dequantising Q8_0), so our own
    evaluation can score exactly the weights the engine will run."""
    import torch
    r = gguf_io.Reader(path)
    arrays = {n: r.tensor(n) for n in r.order}
    sd = model.state_dict()
    mapping = {"token_embd.weight": "token_embd.weight", "output_norm.weight": "output_norm"}
    for i in range(model.c.n_layer):
        p, b = f"blocks.{i}.", f"blk.{i}."
        mapping.update({
            b + "attn_norm.weight": p + "attn_norm", b + "attn_q.weight": p + "attn.wq.weight",
            b + "attn_k.weight": p + "attn.wk.weight", b + "attn_v.weight": p + "attn.wv.weight",
            b + "attn_output.weight": p + "attn.wo.weight", b + "attn_q_norm.weight": p + "attn.q_norm",
            b + "attn_k_norm.weight": p + "attn.k_norm", b + "ffn_norm.weight": p + "ffn_norm",
            b + "ffn_gate_inp.weight": p + "moe.router.weight", b + "ffn_gate_exps.weight": p + "moe.gate",
            b + "ffn_up_exps.weight": p + "moe.up", b + "ffn_down_exps.weight": p + "moe.down"})
    for gname, pname in mapping.items():
        sd[pname] = torch.from_numpy(np.ascontiguousarray(arrays[gname]))
    model.load_state_dict(sd)
    # The training graph ties output to token_embd; a quantised `output` is a separate copy, so score it.
    model.output_override = torch.from_numpy(np.ascontiguousarray(arrays["output.weight"]))
    return model
