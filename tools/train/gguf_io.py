"""Minimal GGUF v3 reader and writer (little-endian), enough for the bundled-model tools.

Written from the format description in moe-reference.md A.7; no gguf-py (Debian has no package for it).
The writer lays tensors out contiguously in the order given, each padded to the alignment, which is the
strict layout llama.cpp's reader expects.
"""
import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
DEFAULT_ALIGNMENT = 32

# GGUF metadata value types.
T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 = range(13)
_SCALAR_FMT = {T_U8: "<B", T_I8: "<b", T_U16: "<H", T_I16: "<h", T_U32: "<I", T_I32: "<i",
               T_F32: "<f", T_BOOL: "<?", T_U64: "<Q", T_I64: "<q", T_F64: "<d"}

# ggml tensor types used here: id -> (elements per block, bytes per block).
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
GGML_BLOCKS = {GGML_F32: (1, 4), GGML_F16: (1, 2), GGML_Q8_0: (32, 34)}
GGML_NAMES = {GGML_F32: "F32", GGML_F16: "F16", GGML_Q8_0: "Q8_0"}


def _pad(n, align):
    return (n + align - 1) // align * align


def tensor_nbytes(ggml_type, ne):
    elems, nbytes = GGML_BLOCKS[ggml_type]
    count = 1
    for n in ne:
        count *= n
    if ne[0] % elems:
        raise ValueError(f"row length {ne[0]} is not a multiple of the block size {elems}")
    return count // elems * nbytes


class Reader:
    """Parses a whole GGUF file held in memory: .kv (key -> (type, value)) and .tensors (name -> info)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.pos = 0
        if self._take(4) != GGUF_MAGIC:
            raise ValueError(f"{path}: not a GGUF file (bad magic)")
        version = self._scalar(T_U32)
        if version != GGUF_VERSION:
            raise ValueError(f"{path}: GGUF version {version}, only 3 is supported")
        n_tensors = self._scalar(T_I64)
        n_kv = self._scalar(T_I64)
        self.kv = {}
        for _ in range(n_kv):
            key = self._string()
            vtype = self._scalar(T_U32)
            self.kv[key] = (vtype, self._value(vtype))
        self.tensors = {}
        order = []
        for _ in range(n_tensors):
            name = self._string()
            n_dims = self._scalar(T_U32)
            ne = [self._scalar(T_I64) for _ in range(n_dims)]
            ttype = self._scalar(T_U32)
            offset = self._scalar(T_U64)
            self.tensors[name] = {"ne": ne, "type": ttype, "offset": offset}
            order.append(name)
        self.order = order
        align = self.kv.get("general.alignment", (T_U32, DEFAULT_ALIGNMENT))[1]
        self.data_start = _pad(self.pos, align)

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError(f"truncated GGUF file at byte {self.pos}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def _scalar(self, vtype):
        fmt = _SCALAR_FMT[vtype]
        return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]

    def _string(self):
        n = self._scalar(T_U64)
        return self._take(n).decode("utf-8")

    def _value(self, vtype):
        if vtype == T_STR:
            return self._string()
        if vtype == T_ARR:
            etype = self._scalar(T_U32)
            count = self._scalar(T_U64)
            return [self._value(etype) for _ in range(count)]
        return self._scalar(vtype)

    def value(self, key, default=None):
        return self.kv[key][1] if key in self.kv else default

    def tensor(self, name):
        """Returns the tensor as a float32 numpy array of shape reversed(ne) (row-major, ne0 fastest)."""
        info = self.tensors[name]
        ne, ttype = info["ne"], info["type"]
        start = self.data_start + info["offset"]
        raw = self.data[start:start + tensor_nbytes(ttype, ne)]
        shape = tuple(reversed(ne))
        if ttype == GGML_F32:
            return np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
        if ttype == GGML_F16:
            return np.frombuffer(raw, dtype="<f2").astype(np.float32).reshape(shape)
        if ttype == GGML_Q8_0:
            return dequantize_q8_0(raw).reshape(shape)
        raise ValueError(f"tensor {name}: type {ttype} not supported by this reader")


def quantize_q8_0(x):
    """GGUF Q8_0 of a float32 array whose last dimension is a multiple of 32, as raw block bytes.

    Per block of 32: d = amax/127 stored as f16, q = round(x/d) as int8 (round half away from zero, as
    ggml's roundf does); an all-zero block has d = 0 and q = 0.
    """
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, 32)
    amax = np.abs(x).max(axis=1)
    d = amax / 127.0
    inv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1.0), 0.0).astype(np.float32)
    v = x * inv[:, None]
    q = (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int8)
    blocks = np.empty(x.shape[0], dtype=[("d", "<f2"), ("q", "i1", (32,))])
    blocks["d"] = d.astype(np.float16)
    blocks["q"] = q
    return blocks.tobytes()


def dequantize_q8_0(raw):
    blocks = np.frombuffer(raw, dtype=[("d", "<f2"), ("q", "i1", (32,))])
    return (blocks["d"].astype(np.float32)[:, None] * blocks["q"].astype(np.float32)).reshape(-1)


class Writer:
    """Collects metadata and tensors, then writes a GGUF v3 file in one go."""

    def __init__(self, alignment=DEFAULT_ALIGNMENT):
        self.alignment = alignment
        self.kv = []          # (key, type, value[, element type])
        self.tensors = []     # (name, ne, ggml type, bytes)

    def add(self, key, vtype, value, etype=None):
        if any(k[0] == key for k in self.kv):
            raise ValueError(f"duplicate GGUF key {key}")
        self.kv.append((key, vtype, value, etype))

    def add_u32(self, key, v): self.add(key, T_U32, int(v))
    def add_f32(self, key, v): self.add(key, T_F32, float(v))
    def add_bool(self, key, v): self.add(key, T_BOOL, bool(v))
    def add_str(self, key, v): self.add(key, T_STR, str(v))
    def add_arr(self, key, etype, values): self.add(key, T_ARR, list(values), etype)

    def add_tensor(self, name, array, ggml_type):
        """array: float32 numpy array in PyTorch layout (out, in) etc.; ne is its shape reversed."""
        array = np.ascontiguousarray(array, dtype=np.float32)
        ne = list(reversed(array.shape))
        if len(name) >= 64:
            raise ValueError(f"tensor name too long for llama.cpp: {name}")
        if ggml_type == GGML_F32:
            raw = array.astype("<f4").tobytes()
        elif ggml_type == GGML_F16:
            raw = array.astype("<f2").tobytes()
        elif ggml_type == GGML_Q8_0:
            if ne[0] % 32:
                raise ValueError(f"{name}: row length {ne[0]} is not a multiple of 32 for Q8_0")
            raw = quantize_q8_0(array)
        else:
            raise ValueError(f"{name}: unsupported type {ggml_type}")
        assert len(raw) == tensor_nbytes(ggml_type, ne)
        self.tensors.append((name, ne, ggml_type, raw))

    @staticmethod
    def _pack_value(vtype, value, etype=None):
        if vtype == T_STR:
            b = value.encode("utf-8")
            return struct.pack("<Q", len(b)) + b
        if vtype == T_ARR:
            out = [struct.pack("<IQ", etype, len(value))]
            if etype in _SCALAR_FMT:
                out.append(np.asarray(value, dtype=np.dtype(_SCALAR_FMT[etype])).tobytes())
            else:
                out.extend(Writer._pack_value(etype, v) for v in value)
            return b"".join(out)
        return struct.pack(_SCALAR_FMT[vtype], value)

    def write(self, path):
        head = [GGUF_MAGIC, struct.pack("<IqQ", GGUF_VERSION, len(self.tensors), len(self.kv))]
        for key, vtype, value, etype in self.kv:
            head.append(self._pack_value(T_STR, key) + struct.pack("<I", vtype) +
                        self._pack_value(vtype, value, etype))
        offset = 0
        for name, ne, ttype, raw in self.tensors:
            head.append(self._pack_value(T_STR, name) + struct.pack("<I", len(ne)) +
                        struct.pack(f"<{len(ne)}q", *ne) + struct.pack("<IQ", ttype, offset))
            offset += _pad(len(raw), self.alignment)
        header = b"".join(head)
        with open(path, "wb") as f:
            f.write(header)
            f.write(b"\0" * (_pad(len(header), self.alignment) - len(header)))
            for _, _, _, raw in self.tensors:
                f.write(raw)
                f.write(b"\0" * (_pad(len(raw), self.alignment) - len(raw)))
