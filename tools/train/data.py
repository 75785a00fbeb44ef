"""Token streams for training and the evaluation rule shared with `switchyard perplexity`.

Evaluation rule (the README states it too): the validation file's text is encoded as a whole (no BOS, no
special tokens), giving tokens t[0..n). It is cut into consecutive chunks of C = context − 1 tokens (the
last chunk may be shorter, and is dropped only if it is empty). Each chunk is scored as the window
[BOS] + chunk: every chunk token is predicted from BOS and the chunk tokens before it, so every token of
the file is predicted exactly once. perplexity = exp(Σ NLL / n).
Training windows have the same shape: [BOS] + context − 1 consecutive tokens from a random offset.
"""
import os

import numpy as np

CHAT_PROMPTS = {
    "en": ["Tell me a fortune.", "Give me a quote.", "Say something wise.", "Tell me a joke in English."],
    "de": ["Erzähl mir einen Spruch.", "Sag etwas Kluges.", "Tell me a fortune in German."],
    "es": ["Dime un refrán.", "Dime algo sabio.", "Tell me a fortune in Spanish."],
    "it": ["Dimmi una frase famosa.", "Raccontami una battuta.", "Tell me a fortune in Italian."],
    "ru": ["Расскажи мне что-нибудь мудрое.", "Скажи цитату.", "Tell me a fortune in Russian."],
    "zh": ["给我讲一句名言。", "念一首诗。", "Tell me a fortune in Chinese."],
    "pl": ["Powiedz mi coś mądrego.", "Opowiedz dowcip.", "Tell me a fortune in Polish."],
    "cs": ["Řekni mi nějaký citát.", "Řekni něco moudrého.", "Tell me a fortune in Czech."],
    "code": ["Write some Python code.", "Show me a Python function.", "Write a Python class."],
}


def read_items(path, separator):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [item for item in text.rstrip("\n").split(separator) if item]


def encode_file(tok, path, cache_dir):
    """Token ids of a whole text file (int32), cached as .npy beside the tokenizer."""
    cache = os.path.join(cache_dir, os.path.basename(path) + ".npy")
    if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(path):
        return np.load(cache)
    with open(path, encoding="utf-8") as f:
        ids = np.asarray(tok.encode(f.read()), dtype=np.int32)
    np.save(cache, ids)
    return ids


def chat_reply(domain, item, rng):
    """The assistant side of a synthetic chat turn: a fortune (at most ~500 chars, cut at a line end) or,
    for code, one top-level def/class block of a module chunk (at most ~900 chars)."""
    lines = item.split("\n")
    if domain == "code":
        starts = [i for i, line in enumerate(lines) if line.startswith(("def ", "class "))]
        if starts:
            lines = lines[starts[int(rng.integers(len(starts)))]:]
        limit = 900
    else:
        limit = 500
    out, size = [], 0
    for line in lines:
        if out and (size + len(line) > limit or (domain == "code" and line and not line[0].isspace()
                                                 and not line.startswith(("def ", "class ", "@")))):
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out).strip("\n")


def build_chat_stream(tok, items_by_domain, n_turns, rng):
    """ChatML conversations exactly as the GGUF chat template renders them, with the special tokens as ids:
    <|im_start|>user\\n{q}<|im_end|>\\n<|im_start|>assistant\\n{a}<|im_end|>\\n
    Returns the concatenated ids and the start offset of every conversation."""
    newline = tok.encode("\n")
    ids, starts = [], []
    domains = sorted(items_by_domain)
    for _ in range(n_turns):
        domain = domains[int(rng.integers(len(domains)))]
        items = items_by_domain[domain]
        prompt = CHAT_PROMPTS[domain][int(rng.integers(len(CHAT_PROMPTS[domain])))]
        reply = chat_reply(domain, items[int(rng.integers(len(items)))], rng)
        if not reply:
            continue
        starts.append(len(ids))
        ids += [tok.im_start_id] + tok.encode("user\n" + prompt) + [tok.im_end_id] + newline
        ids += [tok.im_start_id] + tok.encode("assistant\n" + reply) + [tok.im_end_id] + newline
    return np.asarray(ids, dtype=np.int32), np.asarray(starts, dtype=np.int64)


def eval_windows(ids, context, bos_id):
    """The evaluation rule above: returns (inputs [n_windows, context], targets [n_windows, context]) with
    targets −100 where a short last window is padded (ignored by the loss)."""
    chunk = context - 1
    n_windows = (len(ids) + chunk - 1) // chunk
    inputs = np.full((n_windows, context), bos_id, dtype=np.int64)
    targets = np.full((n_windows, context), -100, dtype=np.int64)
    for w in range(n_windows):
        part = ids[w * chunk:(w + 1) * chunk]
        inputs[w, 1:1 + len(part)] = part
        targets[w, :len(part)] = part
    # Padded input positions only follow the real ones (causal), so they cannot change any scored token.
    return inputs, targets
