"""The bundled model's tokenizer: SentencePiece BPE trained with Debian's spm_train, encoded in Python with
the same algorithm GGUF "llama" (SPM) tokenizers use at inference, so training, our own evaluation and the
engine all see the same token ids.

Encoding (llama.cpp's SPM rule, moe-reference.md A.9): spaces become U+2581; the text is split into UTF-8
characters; the adjacent pair whose concatenation is a vocabulary piece with the highest score is merged
(ties: leftmost first) until no pair merges; a symbol that is not a piece is emitted as its UTF-8 bytes
<0xNN>. No space is prepended (add_space_prefix = false; the pieces were trained without a dummy prefix).
"""
import heapq
import os
import subprocess

SPACE = "\u2581"
CHAT_TOKENS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]

# GGUF token types.
TYPE_NORMAL, TYPE_UNKNOWN, TYPE_CONTROL, TYPE_USER_DEFINED, TYPE_UNUSED, TYPE_BYTE = 1, 2, 3, 4, 5, 6


def train(corpus_files, out_prefix, vocab_size, chars_per_domain):
    """Trains a SentencePiece BPE model on a balanced sample: the first chars_per_domain characters of each
    domain's training text (already in a hash-shuffled order). Writes out_prefix.model/.vocab."""
    sample_path = out_prefix + ".sample.txt"
    with open(sample_path, "w", encoding="utf-8") as out:
        for path in corpus_files:
            with open(path, encoding="utf-8") as f:
                text = f.read(chars_per_domain)
            out.write(text.rsplit("\n", 1)[0] + "\n")
    cmd = ["spm_train", f"--input={sample_path}", f"--model_prefix={out_prefix}", "--model_type=bpe",
           f"--vocab_size={vocab_size}", "--character_coverage=0.998", "--byte_fallback=true",
           "--normalization_rule_name=identity", "--add_dummy_prefix=false",
           "--remove_extra_whitespaces=false", "--allow_whitespace_only_pieces=true", "--split_digits=true",
           "--max_sentence_length=16384", "--num_threads=2", "--minloglevel=2",
           "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
           "--control_symbols=" + ",".join(CHAT_TOKENS)]
    subprocess.run(cmd, check=True)
    os.remove(sample_path)


class Tokenizer:
    """Vocabulary (pieces, scores, GGUF token types) read from spm_train's .vocab file."""

    def __init__(self, vocab_path=None, pieces=None, scores=None):
        """From spm_train's .vocab file, or from given pieces and scores (a GGUF's tokenizer, from_gguf)."""
        self.pieces, self.scores, self.types = [], [], []
        if vocab_path is not None:
            with open(vocab_path, encoding="utf-8") as f:
                for line in f:
                    piece, score = line.rstrip("\n").split("\t")
                    self.pieces.append(piece)
                    self.scores.append(float(score))
        else:
            self.pieces, self.scores = list(pieces), [float(s) for s in scores]
        self.id_of = {p: i for i, p in enumerate(self.pieces)}
        for i, piece in enumerate(self.pieces):
            if piece == "<unk>":
                self.types.append(TYPE_UNKNOWN)
            elif piece in ("<s>", "</s>") or piece in CHAT_TOKENS:
                self.types.append(TYPE_CONTROL)
            elif len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
                self.types.append(TYPE_BYTE)
            else:
                self.types.append(TYPE_NORMAL)
        self.byte_id = [self.id_of[f"<0x{b:02X}>"] for b in range(256)]
        self.bos_id, self.eos_id, self.unk_id = self.id_of["<s>"], self.id_of["</s>"], self.id_of["<unk>"]
        self.im_start_id, self.im_end_id = self.id_of["<|im_start|>"], self.id_of["<|im_end|>"]
        self.endoftext_id = self.id_of["<|endoftext|>"]
        # Only normal pieces take part in merges: control and byte pieces are never spelled out in text.
        self.merge_score = {p: s for p, s, t in zip(self.pieces, self.scores, self.types) if t == TYPE_NORMAL}
        self._line_cache = {}

    @classmethod
    def from_gguf(cls, reader):
        """The vocabulary of a GGUF this pipeline exported (gguf_io.Reader): fine-tuned experts reuse the
        generalist's tokenizer exactly, so their perplexities compare token for token. The token types are
        derived as for a .vocab file and must equal the file's."""
        tok = cls(pieces=reader.value("tokenizer.ggml.tokens"), scores=reader.value("tokenizer.ggml.scores"))
        if list(reader.value("tokenizer.ggml.token_type")) != tok.types:
            raise ValueError("GGUF token types differ from the ones this tokenizer derives")
        return tok

    def __len__(self):
        return len(self.pieces)

    def _encode_fragment(self, text):
        """One newline-free fragment (no piece contains a newline, so merges never cross one)."""
        symbols = list(text.replace(" ", SPACE))
        n = len(symbols)
        if n == 0:
            return []
        prev = list(range(-1, n - 1))
        nxt = list(range(1, n + 1))
        nxt[-1] = -1
        heap = []

        def push(left, right):
            merged = symbols[left] + symbols[right]
            score = self.merge_score.get(merged)
            if score is not None:
                heapq.heappush(heap, (-score, left, right, merged))

        for i in range(1, n):
            push(i - 1, i)
        while heap:
            _, left, right, merged = heapq.heappop(heap)
            # Stale entry: one side was merged away or has grown since this pair was queued.
            if symbols[left] is None or symbols[right] is None or nxt[left] != right \
                    or symbols[left] + symbols[right] != merged:
                continue
            symbols[left] = merged
            symbols[right] = None
            nxt[left] = nxt[right]
            if nxt[right] != -1:
                prev[nxt[right]] = left
            if prev[left] != -1:
                push(prev[left], left)
            if nxt[left] != -1:
                push(left, nxt[left])
        ids = []
        i = 0
        while i != -1:
            sym = symbols[i]
            tid = self.merge_score.get(sym) is not None and self.id_of[sym]
            if tid is False:
                ids.extend(self.byte_id[b] for b in sym.encode("utf-8"))
            else:
                ids.append(tid)
            i = nxt[i]
        return ids

    def encode(self, text):
        """Plain text to ids: no BOS, no special-token parsing."""
        out = []
        lines = text.split("\n")
        newline = self.byte_id[10]
        for k, line in enumerate(lines):
            if k:
                out.append(newline)
            ids = self._line_cache.get(line)
            if ids is None:
                ids = self._encode_fragment(line)
                if len(line) < 200:
                    self._line_cache[line] = ids
            out.extend(ids)
        return out

    def decode(self, ids):
        raw = bytearray()
        for i in ids:
            t = self.types[i]
            if t == TYPE_BYTE:
                raw.append(int(self.pieces[i][3:5], 16))
            elif t == TYPE_NORMAL:
                raw.extend(self.pieces[i].replace(SPACE, " ").encode("utf-8"))
        return raw.decode("utf-8", errors="replace")
