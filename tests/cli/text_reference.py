#!/usr/bin/env python3
"""Independent reference computations for text_commands.sh (standard library only).

  text_reference.py decode MODEL.gguf 1,2,3       text of byte-level BPE ids (control tokens skipped) on stdout
  text_reference.py bos MODEL.gguf                 the BOS id, or nothing
  text_reference.py ppl N_VOCAB LOGITS.bin:1,2,3 ...   perplexity over windows whose first token is context:
                                                   each logits file holds [n_tokens][n_vocab] float32
Prints for ppl: "PPL STDERR COUNT", with the standard error as llama.cpp computes it.
"""
import math
import struct
import sys

SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_metadata(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"GGUF", "not a GGUF file"
    pos = 8
    _n_tensors, n_kv = struct.unpack_from("<QQ", data, pos)
    pos += 16

    def string():
        nonlocal pos
        (n,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        s = data[pos:pos + n]
        pos += n
        return s.decode("utf-8", "surrogateescape")

    def value(kind):
        nonlocal pos
        if kind == 8:
            return string()
        if kind == 9:
            (item_kind, n) = struct.unpack_from("<IQ", data, pos)
            pos += 12
            return [value(item_kind) for _ in range(n)]
        fmt = SCALARS[kind]
        (v,) = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return v

    meta = {}
    for _ in range(n_kv):
        key = string()
        (kind,) = struct.unpack_from("<I", data, pos)
        pos += 4
        meta[key] = value(kind)
    return meta


def byte_decoder():
    """The inverse of GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256 + n."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars = list(keep)
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(keep, chars)}


def decode(path, ids):
    meta = read_metadata(path)
    assert meta["tokenizer.ggml.model"] == "gpt2", "only byte-level BPE vocabularies"
    tokens, types = meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.token_type"]
    table = byte_decoder()
    out = bytearray()
    for i in ids:
        if types[i] == 3:  # control
            continue
        if types[i] == 4:  # user-defined: its text as written
            out += tokens[i].encode("utf-8")
        else:
            out += bytes(table[c] for c in tokens[i])
    sys.stdout.buffer.write(out.decode("utf-8", "replace").encode("utf-8"))


def perplexity(n_vocab, windows):
    total = total_sq = 0.0
    count = 0
    for spec in windows:
        path, ids = spec.split(":")
        ids = [int(x) for x in ids.split(",")]
        with open(path, "rb") as f:
            raw = f.read()
        assert len(raw) == 4 * n_vocab * len(ids), f"{path}: {len(raw)} bytes for {len(ids)} tokens"
        for i in range(1, len(ids)):
            row = struct.unpack_from(f"<{n_vocab}f", raw, 4 * n_vocab * (i - 1))
            m = max(row)
            nll = math.log(sum(math.exp(x - m) for x in row)) + m - row[ids[i]]
            total += nll
            total_sq += nll * nll
            count += 1
    mean = total / count
    ppl = math.exp(mean)
    var = total_sq / count - mean * mean
    err = ppl * math.sqrt(var / (count - 1)) if count > 1 and var > 0 else 0.0
    print(f"{ppl:.9g} {err:.9g} {count}")


def main():
    cmd = sys.argv[1]
    if cmd == "decode":
        decode(sys.argv[2], [int(x) for x in sys.argv[3].split(",") if x])
    elif cmd == "bos":
        bos = read_metadata(sys.argv[2]).get("tokenizer.ggml.bos_token_id")
        print("" if bos is None else bos)
    elif cmd == "ppl":
        perplexity(int(sys.argv[2]), sys.argv[3:])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
