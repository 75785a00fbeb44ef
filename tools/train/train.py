"""Trains switchyard's bundled model: a small Qwen3-MoE on fortunes in eight languages and Python code.

Stages (all in --work): corpus/ (corpus.py), tokenizer/ (spm_train), tokens (cached .npy), training on
the CPU, evaluation per domain, GGUF export (F32 and Q8_0) with eval.json and samples.txt beside them.
Fine-tuning (--init GGUF --domains D,...): starts from a model this pipeline exported (Q8_0 dequantised to
f32), keeps its tokenizer exactly (read from the GGUF, not retrained) and trains on the named domains' training
splits only: how tools/train-experts.sh makes the domain experts of docs/composition.md.
Deterministic for a given --seed and --threads (PyTorch's CPU kernels are deterministic for a fixed thread
count; a different count may change float rounding and hence the run).
"""
import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import data  # noqa: E402
import export_gguf  # noqa: E402
import gguf_io  # noqa: E402
import check_tokenizer  # noqa: E402
import tokenizer  # noqa: E402
from model import Config, Qwen3Moe  # noqa: E402

CHAT_SHARE = 0.08          # fraction of training windows drawn from the synthetic chat stream
DOMAIN_TEMPERATURE = 0.5   # domain sampling weight ∝ (training tokens)^T: small languages are not drowned


def log(msg, log_file=None):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    if log_file:
        with open(log_file, "a") as f:
            f.write(line + "\n")


def prepare(args, init=None):
    """init: a gguf_io.Reader whose tokenizer is reused (token caches then live in tokenizer-init/)."""
    corpus_dir = os.path.join(args.work, "corpus")
    tok_dir = os.path.join(args.work, "tokenizer" if init is None else "tokenizer-init")
    if not os.path.exists(os.path.join(corpus_dir, "stats.json")):
        corpus.build(corpus_dir)
    with open(os.path.join(corpus_dir, "stats.json")) as f:
        stats = json.load(f)
    domains = sorted(stats["domains"])
    train_domains = domains if not args.domains else args.domains.split(",")
    unknown = [d for d in train_domains if d not in domains]
    if unknown:
        raise SystemExit(f"train: unknown domain(s) {', '.join(unknown)}; the corpus has {', '.join(domains)}")
    vocab = os.path.join(tok_dir, "spm.vocab")
    if init is not None:
        os.makedirs(tok_dir, exist_ok=True)
        tok = tokenizer.Tokenizer.from_gguf(init)
    elif not os.path.exists(vocab):
        os.makedirs(tok_dir, exist_ok=True)
        files = [os.path.join(corpus_dir, f"{d}.train.txt") for d in domains]
        tokenizer.train(files, os.path.join(tok_dir, "spm"), args.vocab, args.tok_chars_per_domain)
        if not check_tokenizer.check(args.work):
            raise SystemExit("train: tokenizer.py disagrees with spm_encode")
    if init is None:
        tok = tokenizer.Tokenizer(vocab)
    train_ids, valid_ids = {}, {}
    for d in domains:
        if d in train_domains:
            train_ids[d] = data.encode_file(tok, os.path.join(corpus_dir, f"{d}.train.txt"), tok_dir)
            stats["domains"][d]["train"]["tokens"] = int(len(train_ids[d]))
        valid_ids[d] = data.encode_file(tok, os.path.join(corpus_dir, f"{d}.valid.txt"), tok_dir)
        stats["domains"][d]["valid"]["tokens"] = int(len(valid_ids[d]))
    items = {d: data.read_items(os.path.join(corpus_dir, f"{d}.train.txt"), stats["item_separator"])
             for d in train_domains}
    chat_ids, chat_starts = data.build_chat_stream(tok, items, args.chat_turns,
                                                   np.random.default_rng(args.seed + 1))
    stats["chat"] = {"turns": int(len(chat_starts)), "tokens": int(len(chat_ids))}
    return tok, stats, domains, train_ids, valid_ids, (chat_ids, chat_starts)


class Batcher:
    """Draws training windows [BOS] + (context − 1) tokens: a domain by weight, then a uniform offset."""

    def __init__(self, train_ids, chat, context, bos_id, seed):
        self.streams = [train_ids[d] for d in sorted(train_ids)]
        weights = np.array([len(s) ** DOMAIN_TEMPERATURE for s in self.streams])
        self.weights = (1 - CHAT_SHARE) * weights / weights.sum()
        self.chat_ids, self.chat_starts = chat
        self.context, self.bos = context, bos_id
        self.rng = np.random.default_rng(seed)

    def batch(self, batch_size):
        n = self.context - 1
        x = np.empty((batch_size, self.context), dtype=np.int64)
        y = np.empty((batch_size, self.context), dtype=np.int64)
        for b in range(batch_size):
            r = self.rng.random()
            if r < CHAT_SHARE:
                start = int(self.chat_starts[self.rng.integers(len(self.chat_starts))])
                start = min(start, len(self.chat_ids) - n)
                seq = self.chat_ids[start:start + n]
            else:
                k = int(np.searchsorted(np.cumsum(self.weights), r - CHAT_SHARE, side="right"))
                s = self.streams[min(k, len(self.streams) - 1)]
                start = int(self.rng.integers(0, len(s) - n))
                seq = s[start:start + n]
            x[b, 0] = self.bos
            x[b, 1:] = seq
            y[b, :n] = seq
            y[b, n] = -100  # the window's last input has no target inside the window
        return torch.from_numpy(x), torch.from_numpy(y)


@torch.no_grad()
def evaluate(model, ids, bos_id, batch_size=16):
    """Perplexity of one validation split by the rule in data.py; returns (ppl, mean NLL, tokens)."""
    model.eval()
    inputs, targets = data.eval_windows(ids, model.c.context, bos_id)
    total, count = 0.0, 0
    for i in range(0, len(inputs), batch_size):
        x = torch.from_numpy(inputs[i:i + batch_size])
        y = torch.from_numpy(targets[i:i + batch_size])
        logits, _, _ = model(x)
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100,
                              reduction="sum")
        total += float(nll.double())
        count += int((y != -100).sum())
    model.train()
    return math.exp(total / count), total / count, count


@torch.no_grad()
def generate(model, ids, n_new, temperature, rng, stop_id=None):
    model.eval()
    ids = list(ids)
    for _ in range(n_new):
        x = torch.tensor([ids[-model.c.context:]])
        logits = model(x)[0][0, -1].double()
        if temperature <= 0:
            nxt = int(torch.argmax(logits))
        else:
            p = torch.softmax(logits / temperature, -1).numpy()
            nxt = int(rng.choice(len(p), p=p / p.sum()))
        ids.append(nxt)
        if nxt == stop_id:
            break
    model.train()
    return ids


def lr_at(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def make_optimizer(model, args):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=args.lr, betas=(0.9, 0.95), eps=1e-8)


def train(model, batcher, args, log_file):
    opt = make_optimizer(model, args)
    c = model.c
    usage = torch.zeros(c.n_layer, c.n_expert)
    t0, cpu0 = time.time(), time.process_time()
    history = []
    for step in range(args.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args)
        x, y = batcher.batch(args.batch)
        logits, aux, counts = model(x)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
        loss = ce + args.aux_coef * aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        usage += counts.float()
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            share = usage / usage.sum(1, keepdim=True)
            elapsed = time.time() - t0
            cpu = time.process_time() - cpu0
            tok_s = (step + 1) * args.batch * c.context / elapsed
            entry = {"step": step + 1, "ce": round(float(ce), 4), "aux": round(float(aux), 4),
                     "lr": lr_at(step, args), "elapsed_s": round(elapsed, 1), "cpu_s": round(cpu, 1), "tokens_per_s": round(tok_s),
                     "expert_share_min": round(float(share.min()), 4),
                     "expert_share_max": round(float(share.max()), 4)}
            history.append(entry)
            eta = elapsed / (step + 1) * (args.steps - step - 1)
            log(f"step {step + 1}/{args.steps} ce {entry['ce']:.3f} aux {entry['aux']:.3f} "
                f"experts share min {entry['expert_share_min']:.3f} max {entry['expert_share_max']:.3f} "
                f"{tok_s:.0f} tok/s cpu {cpu / (step + 1):.2f} s/step eta {eta / 60:.1f} min", log_file)
            usage.zero_()
        if args.checkpoint_every and (step + 1) % args.checkpoint_every == 0:
            torch.save({"config": c.to_dict(), "step": step + 1, "model": model.state_dict()},
                       os.path.join(args.out, "checkpoint.pt"))
    return history, time.time() - t0, time.process_time() - cpu0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="build/train-model", help="corpus, tokenizer and token caches")
    ap.add_argument("--out", default="build/train-model/out", help="model, eval.json, samples, log")
    ap.add_argument("--name", default="switchyard-moe-mini")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--tok-chars-per-domain", type=int, default=1_200_000)
    ap.add_argument("--chat-turns", type=int, default=20000)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--aux-coef", type=float, default=0.05)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--checkpoint-every", type=int, default=500)
    ap.add_argument("--eval-max-tokens", type=int, default=0, help="0: whole validation split")
    ap.add_argument("--skip-export", action="store_true")
    ap.add_argument("--init", help="fine-tune this GGUF (exported by this pipeline); its tokenizer is kept")
    ap.add_argument("--domains", default="", help="comma-separated domains to train on (default: all)")
    ap.add_argument("--eval-domains", default="", help="comma-separated domains to evaluate (default: all)")
    for field, default in Config().to_dict().items():
        if field != "vocab_size":
            ap.add_argument("--" + field.replace("_", "-"), type=type(default), default=default)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    log_file = os.path.join(args.out, "train.log")
    open(log_file, "w").close()

    init = gguf_io.Reader(args.init) if args.init else None
    tok, stats, domains, train_ids, valid_ids, chat = prepare(args, init)
    log(f"tokens: " + ", ".join(f"{d} {len(train_ids[d])}" for d in sorted(train_ids)) +
        f", chat {len(chat[0])}", log_file)
    if init is not None:
        cfg = config_of_gguf(init, len(tok))
        model = export_gguf.load_into(Qwen3Moe(cfg), args.init)
        # Training ties the output matrix to the embedding again; the generalist's `output` is a Q8_0 copy
        # of the same f32 matrix as its `token_embd`, so nothing is lost.
        model.output_override = None
        log(f"init from {args.init}", log_file)
        del init  # the whole file is held in memory by the reader
    else:
        cfg = Config(**{f: getattr(args, f) for f in Config().to_dict() if f != "vocab_size"},
                     vocab_size=len(tok))
        model = Qwen3Moe(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"config {cfg.to_dict()} params {n_params} (+{cfg.vocab_size * cfg.n_embd} untied output in GGUF)",
        log_file)
    batcher = Batcher(train_ids, chat, cfg.context, tok.bos_id, args.seed)
    history, train_s, train_cpu_s = train(model, batcher, args, log_file)

    def eval_all(m, label):
        res = {}
        for d in (args.eval_domains.split(",") if args.eval_domains else domains):
            ids = valid_ids[d][:args.eval_max_tokens] if args.eval_max_tokens else valid_ids[d]
            ppl, nll, n = evaluate(m, ids, tok.bos_id)
            res[d] = {"ppl": round(ppl, 4), "nll": round(nll, 6), "tokens": n}
            log(f"eval {label} {d}: ppl {ppl:.3f} over {n} tokens", log_file)
        return res

    result = {
        "model": args.name, "seed": args.seed, "threads": args.threads, "steps": args.steps,
        "batch": args.batch, "lr": args.lr, "warmup": args.warmup, "aux_coef": args.aux_coef,
        "init": os.path.basename(args.init) if args.init else None,
        "train_domains": sorted(train_ids),
        "train_tokens": args.steps * args.batch * cfg.context,
        "train_seconds": round(train_s, 1), "train_cpu_seconds": round(train_cpu_s, 1), "config": cfg.to_dict(), "params": n_params,
        "eval_rule": data.__doc__.split("Evaluation rule")[1].split("Training windows")[0].strip(),
        "corpus": stats, "history": history,
        "valid": {"f32": eval_all(model, "f32")},
    }
    torch.save({"config": cfg.to_dict(), "step": args.steps, "model": model.state_dict()},
               os.path.join(args.out, "checkpoint.pt"))
    if not args.skip_export:
        if args.init:
            info = (f"Fine-tuned by tools/train-experts.sh from {os.path.basename(args.init)} (seed {args.seed}, "
                    f"{args.steps} steps of {args.batch}x{cfg.context} tokens) on the {', '.join(sorted(train_ids))} "
                    f"training split of the bundled corpus")
        else:
            info = (f"Trained by tools/train-model.sh (seed {args.seed}, {args.steps} steps of "
                    f"{args.batch}x{cfg.context} tokens) on Debian fortunes ({', '.join(d for d in domains if d != 'code')}) "
                    f"and Python stdlib code")
        for suffix, gtype in (("f32", gguf_io.GGML_F32), ("q8_0", gguf_io.GGML_Q8_0)):
            path = os.path.join(args.out, f"{args.name}.{suffix}.gguf")
            export_gguf.export(model, tok, path, gtype, args.name, info)
            log(f"wrote {path} ({os.path.getsize(path)} bytes)", log_file)
        q8_path = os.path.join(args.out, f"{args.name}.q8_0.gguf")
        if args.init:
            same_tokenizer(args.init, q8_path)
            log(f"tokenizer metadata of {q8_path} equals {args.init}'s", log_file)
        q8 = export_gguf.load_into(Qwen3Moe(cfg), q8_path)
        result["valid"]["q8_0"] = eval_all(q8, "q8_0")
    samples = write_samples(model, tok, args)
    result["samples"] = samples
    with open(os.path.join(args.out, "eval.json"), "w") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
    log("done", log_file)


def config_of_gguf(reader, vocab_size):
    """The model shape a qwen3moe GGUF of this pipeline declares."""
    a = reader.value("general.architecture")
    if a != "qwen3moe":
        raise SystemExit(f"train: --init wants a qwen3moe GGUF, got {a}")
    v = lambda key: reader.value(f"{a}.{key}")
    return Config(vocab_size=vocab_size, n_embd=v("embedding_length"), n_layer=v("block_count"),
                  n_head=v("attention.head_count"), n_head_kv=v("attention.head_count_kv"),
                  head_dim=v("attention.key_length"), n_expert=v("expert_count"),
                  n_expert_used=v("expert_used_count"), expert_ff=v("expert_feed_forward_length"),
                  context=v("context_length"), rope_base=v("rope.freq_base"),
                  norm_eps=v("attention.layer_norm_rms_epsilon"))


def same_tokenizer(a_path, b_path):
    """Fails unless every tokenizer.* key of the two GGUFs is equal (type and value)."""
    a, b = gguf_io.Reader(a_path), gguf_io.Reader(b_path)
    ka = {k: v for k, v in a.kv.items() if k.startswith("tokenizer.")}
    kb = {k: v for k, v in b.kv.items() if k.startswith("tokenizer.")}
    if ka != kb:
        diff = sorted(k for k in set(ka) | set(kb) if ka.get(k) != kb.get(k))
        raise SystemExit(f"train: tokenizer metadata of {b_path} differs from {a_path}: {', '.join(diff)}")


def write_samples(model, tok, args):
    rng = np.random.default_rng(args.seed + 2)
    prompts = [("en", "The meaning of life is"), ("de", "Das Leben ist"), ("es", "La vida es"),
               ("it", "La vita è"), ("ru", "Жизнь - это"), ("zh", "人生"), ("pl", "Życie to"),
               ("cs", "Život je"), ("code", "def read_config(path):\n")]
    out = []
    with open(os.path.join(args.out, "samples.txt"), "w", encoding="utf-8") as f:
        for domain, prompt in prompts:
            ids = generate(model, [tok.bos_id] + tok.encode(prompt), 60, 0.7, rng)
            text = tok.decode(ids[1:])
            out.append({"domain": domain, "prompt": prompt, "temperature": 0.7, "text": text})
            f.write(f"=== {domain} (temperature 0.7)\n{text}\n\n")
        for question in ["Tell me a fortune in German.", "Write a Python class.", "Dimmi una frase famosa."]:
            ids = [tok.bos_id, tok.im_start_id] + tok.encode("user\n" + question) + [tok.im_end_id] + \
                tok.encode("\n") + [tok.im_start_id] + tok.encode("assistant\n")
            gen = generate(model, ids, 120, 0.7, rng, stop_id=tok.im_end_id)
            text = tok.decode(gen[len(ids):])
            out.append({"domain": "chat", "prompt": question, "temperature": 0.7, "text": text})
            f.write(f"=== chat: {question}\n{text}\n\n")
    return out


if __name__ == "__main__":
    main()
