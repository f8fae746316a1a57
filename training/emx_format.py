"""emx_format.py - write and read `.emx` v1 files (the contract is models/FORMAT.md).

The writer takes an `EmxModel` (input spec, class names, tensors, ops, outputs, metadata) and
produces the exact bytes the C loader (src/model_load.c) validates. The reader parses them back
into the same structure, checking the container (magic, version, size, CRC, chunk padding);
it exists for round-trip tests, inspection (`python3 training/emx_format.py FILE.emx`) and
the NumPy reference interpreter (training/emx_numpy_ref.py).

Only NumPy and the standard library are needed.
"""
from __future__ import annotations

import dataclasses
import struct
import sys
import zlib
from typing import Dict, List, Tuple

import numpy as np

MAGIC = b"EMXN"
VERSION = 1

# ---- op ids: frozen (models/FORMAT.md "Op ids"; src/model.h emx_op_type). Append only. ----
OP_CONV2D = 1
OP_DENSE = 2
OP_MAXPOOL2D = 3
OP_AVGPOOL2D = 4
OP_GLOBAL_AVGPOOL = 5
OP_ADD = 6
OP_CONCAT = 7
OP_SOFTMAX = 8
OP_ACTIVATION = 9
OP_WEIGHTED_MEAN = 10
OP_FLIP_W = 11
OP_RESIZE_BILINEAR = 12
OP_MUL_CHANNEL = 13
OP_PAD_CHANNELS = 14
OP_CALIBRATE = 15

OP_NAMES = {
    OP_CONV2D: "CONV2D", OP_DENSE: "DENSE", OP_MAXPOOL2D: "MAXPOOL2D",
    OP_AVGPOOL2D: "AVGPOOL2D", OP_GLOBAL_AVGPOOL: "GLOBAL_AVGPOOL", OP_ADD: "ADD",
    OP_CONCAT: "CONCAT", OP_SOFTMAX: "SOFTMAX", OP_ACTIVATION: "ACTIVATION",
    OP_WEIGHTED_MEAN: "WEIGHTED_MEAN", OP_FLIP_W: "FLIP_W",
    OP_RESIZE_BILINEAR: "RESIZE_BILINEAR", OP_MUL_CHANNEL: "MUL_CHANNEL",
    OP_PAD_CHANNELS: "PAD_CHANNELS", OP_CALIBRATE: "CALIBRATE",
}

# (min inputs, max inputs, attrs, tensors) per op, as FORMAT.md defines them.
OP_SIGNATURES = {
    OP_CONV2D: (1, 1, 13, 2),
    OP_DENSE: (1, 1, 2, 2),
    OP_MAXPOOL2D: (1, 1, 8, 0),
    OP_AVGPOOL2D: (1, 1, 9, 0),
    OP_GLOBAL_AVGPOOL: (1, 1, 0, 0),
    OP_ADD: (2, 2, 1, 0),
    OP_CONCAT: (2, 16, 0, 0),
    OP_SOFTMAX: (1, 1, 0, 0),
    OP_ACTIVATION: (1, 1, 1, 0),
    OP_WEIGHTED_MEAN: (1, 16, 0, 1),
    OP_FLIP_W: (1, 1, 0, 0),
    OP_RESIZE_BILINEAR: (1, 1, 2, 0),
    OP_MUL_CHANNEL: (2, 2, 0, 0),
    OP_PAD_CHANNELS: (1, 1, 2, 0),
    OP_CALIBRATE: (1, 1, 0, 1),
}

# ---- activation codes: frozen (src/ops.h emx_act) ----
ACT_NONE = 0
ACT_RELU = 1
ACT_RELU6 = 2
ACT_SILU = 3
ACT_HARDSWISH = 4
ACT_SIGMOID = 5
ACT_NAMES = {ACT_NONE: "none", ACT_RELU: "relu", ACT_RELU6: "relu6", ACT_SILU: "silu",
             ACT_HARDSWISH: "hardswish", ACT_SIGMOID: "sigmoid"}

DTYPE_F32 = 0
DTYPE_F16 = 1

# ---- reader limits (FORMAT.md "Limits a reader enforces") ----
MAX_FILE_SIZE = 256 << 20
MAX_STRING = 4096
MAX_TENSORS = 4096
MAX_OPS = 4096
MAX_OUTPUTS = 16
MAX_CLASSES = 64
MAX_DIM = 65536
MAX_INPUT_SIDE = 1024

CHUNK_ORDER = (b"INPT", b"CLSS", b"TENS", b"GRPH", b"DATA", b"META")


class EmxFormatError(ValueError):
    """A file, or a model about to be written, breaks models/FORMAT.md."""


@dataclasses.dataclass
class InputSpec:
    height: int = 48
    width: int = 48
    channels: int = 1
    mean: float = 0.0
    std: float = 1.0


@dataclasses.dataclass
class Tensor:
    name: str
    data: np.ndarray           # float32 values, shape = dims (as written, or as widened on read)
    dtype: int = DTYPE_F32     # storage: DTYPE_F32 or DTYPE_F16


@dataclasses.dataclass
class Op:
    type: int
    inputs: List[int]
    attrs: List[int] = dataclasses.field(default_factory=list)
    tensors: List[int] = dataclasses.field(default_factory=list)

    def __str__(self) -> str:
        return (f"{OP_NAMES.get(self.type, self.type)} in={self.inputs} attrs={self.attrs} "
                f"tensors={self.tensors}")


@dataclasses.dataclass
class EmxModel:
    input: InputSpec
    class_names: List[str]
    tensors: List[Tensor]
    ops: List[Op]
    outputs: List[int]
    meta: List[Tuple[str, str]] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        s = self.input
        lines = [f"input {s.height}x{s.width}x{s.channels} mean={s.mean:g} std={s.std:g}",
                 f"classes ({len(self.class_names)}): {', '.join(self.class_names)}",
                 f"tensors: {len(self.tensors)}, "
                 f"{sum(t.data.size for t in self.tensors)} parameters"]
        for i, t in enumerate(self.tensors):
            lines.append(f"  t{i} {t.name} {'f16' if t.dtype else 'f32'} {list(t.data.shape)}")
        lines.append(f"ops: {len(self.ops)}")
        for k, op in enumerate(self.ops):
            lines.append(f"  v{k + 1} = {op}")
        lines.append(f"outputs: {self.outputs}")
        for k, v in self.meta:
            lines.append(f"meta {k} = {v}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# writer
# --------------------------------------------------------------------------------------------

def _u32(v: int) -> bytes:
    if not 0 <= int(v) <= 0xFFFFFFFF:
        raise EmxFormatError(f"value {v} does not fit a u32")
    return struct.pack("<I", int(v))


def _i32(v: int) -> bytes:
    if not -2**31 <= int(v) < 2**31:
        raise EmxFormatError(f"value {v} does not fit an i32")
    return struct.pack("<i", int(v))


def _string(s: str) -> bytes:
    b = s.encode("utf-8")
    if len(b) > MAX_STRING:
        raise EmxFormatError(f"string longer than {MAX_STRING} bytes: {s[:40]!r}...")
    return _u32(len(b)) + b


def _pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def _chunk(tag: bytes, payload: bytes) -> bytes:
    return tag + _u32(len(payload)) + _pad4(payload)


def _tensor_bytes(t: Tensor) -> bytes:
    a = np.asarray(t.data, dtype=np.float32)
    if not np.all(np.isfinite(a)):
        raise EmxFormatError(f"tensor {t.name}: NaN or infinite value")
    if t.dtype == DTYPE_F32:
        return a.astype("<f4").tobytes()
    if t.dtype == DTYPE_F16:
        with np.errstate(over="ignore"):
            h = a.astype("<f2")
        if not np.all(np.isfinite(h)):
            raise EmxFormatError(f"tensor {t.name}: value beyond the fp16 range")
        return h.tobytes()
    raise EmxFormatError(f"tensor {t.name}: unknown dtype {t.dtype}")


def check_model(m: EmxModel) -> None:
    """Checks what the writer can check without inferring shapes (counts, ids, ranges)."""
    s = m.input
    if not (1 <= s.height <= MAX_INPUT_SIDE and 1 <= s.width <= MAX_INPUT_SIDE):
        raise EmxFormatError(f"input size {s.height}x{s.width} out of range")
    if s.channels not in (1, 3):
        raise EmxFormatError(f"input channels must be 1 or 3, not {s.channels}")
    if not (np.isfinite(s.mean) and np.isfinite(s.std) and s.std > 0):
        raise EmxFormatError("input mean/std must be finite and std > 0")
    if not 1 <= len(m.class_names) <= MAX_CLASSES:
        raise EmxFormatError(f"{len(m.class_names)} classes: must be 1..{MAX_CLASSES}")
    if len(m.tensors) > MAX_TENSORS:
        raise EmxFormatError(f"{len(m.tensors)} tensors: at most {MAX_TENSORS}")
    for t in m.tensors:
        shape = np.shape(t.data)
        if not 1 <= len(shape) <= 4 or not all(1 <= d <= MAX_DIM for d in shape):
            raise EmxFormatError(f"tensor {t.name}: bad shape {shape}")
    if not 1 <= len(m.ops) <= MAX_OPS:
        raise EmxFormatError(f"{len(m.ops)} ops: must be 1..{MAX_OPS}")
    for k, op in enumerate(m.ops):
        if op.type not in OP_SIGNATURES:
            raise EmxFormatError(f"op {k}: unknown op type {op.type}")
        lo, hi, na, nt = OP_SIGNATURES[op.type]
        name = OP_NAMES[op.type]
        if not lo <= len(op.inputs) <= hi:
            raise EmxFormatError(f"op {k} {name}: {len(op.inputs)} inputs")
        if len(op.attrs) != na or len(op.tensors) != nt:
            raise EmxFormatError(f"op {k} {name}: {len(op.attrs)} attrs, "
                                 f"{len(op.tensors)} tensors (wants {na}, {nt})")
        if any(not 0 <= v <= k for v in op.inputs):
            raise EmxFormatError(f"op {k} {name}: input {op.inputs} is not an earlier value")
        if any(not 0 <= t < len(m.tensors) for t in op.tensors):
            raise EmxFormatError(f"op {k} {name}: bad tensor id in {op.tensors}")
    if not 1 <= len(m.outputs) <= MAX_OUTPUTS or any(
            not 0 <= v <= len(m.ops) for v in m.outputs):
        raise EmxFormatError(f"bad graph outputs {m.outputs}")


def to_bytes(m: EmxModel) -> bytes:
    """Serialises `m` exactly per models/FORMAT.md."""
    check_model(m)
    s = m.input
    inpt = (_u32(s.height) + _u32(s.width) + _u32(s.channels) +
            struct.pack("<ff", float(s.mean), float(s.std)))
    clss = _u32(len(m.class_names)) + b"".join(_string(c) for c in m.class_names)

    data = bytearray()
    tens = bytearray(_u32(len(m.tensors)))
    for t in m.tensors:
        raw = _tensor_bytes(t)
        offset = len(data)
        data += raw
        data += b"\0" * (-len(data) % 4)   # keep every tensor 4-byte aligned in DATA
        dims = np.shape(t.data)
        tens += _string(t.name) + _u32(t.dtype) + _u32(len(dims))
        tens += b"".join(_u32(d) for d in dims) + _u32(offset) + _u32(len(raw))

    grph = bytearray(_u32(len(m.ops)))
    for op in m.ops:
        grph += _u32(op.type)
        grph += _u32(len(op.inputs)) + b"".join(_u32(v) for v in op.inputs)
        grph += _u32(len(op.attrs)) + b"".join(_i32(a) for a in op.attrs)
        grph += _u32(len(op.tensors)) + b"".join(_u32(t) for t in op.tensors)
    grph += _u32(len(m.outputs)) + b"".join(_u32(v) for v in m.outputs)

    body = (_chunk(b"INPT", inpt) + _chunk(b"CLSS", clss) + _chunk(b"TENS", bytes(tens)) +
            _chunk(b"GRPH", bytes(grph)) + _chunk(b"DATA", bytes(data)))
    if m.meta:
        meta = _u32(len(m.meta)) + b"".join(_string(k) + _string(v) for k, v in m.meta)
        body += _chunk(b"META", meta)
    total = 16 + len(body)
    if total > MAX_FILE_SIZE:
        raise EmxFormatError(f"file would be {total} bytes, above {MAX_FILE_SIZE}")
    crc = zlib.crc32(body) & 0xFFFFFFFF
    return MAGIC + _u32(VERSION) + _u32(total) + _u32(crc) + body


def write(m: EmxModel, path: str) -> int:
    """Writes `m` to `path`; returns the file size."""
    b = to_bytes(m)
    with open(path, "wb") as f:
        f.write(b)
    return len(b)


# --------------------------------------------------------------------------------------------
# reader
# --------------------------------------------------------------------------------------------

class _Cursor:
    def __init__(self, b: bytes, what: str):
        self.b, self.pos, self.what = b, 0, what

    def take(self, n: int) -> bytes:
        if n > len(self.b) - self.pos:
            raise EmxFormatError(f"{self.what}: truncated")
        r = self.b[self.pos:self.pos + n]
        self.pos += n
        return r

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def i32(self) -> int:
        return struct.unpack("<i", self.take(4))[0]

    def f32(self) -> float:
        return struct.unpack("<f", self.take(4))[0]

    def string(self) -> str:
        n = self.u32()
        if n > MAX_STRING:
            raise EmxFormatError(f"{self.what}: string of {n} bytes")
        return self.take(n).decode("utf-8")

    def done(self) -> None:
        if self.pos != len(self.b):
            raise EmxFormatError(f"{self.what}: {len(self.b) - self.pos} trailing bytes")


def from_bytes(b: bytes) -> EmxModel:
    """Parses and checks an .emx buffer. fp16 tensors come back widened to float32 with
    dtype DTYPE_F16 recorded. Shapes are not inferred here (emx_numpy_ref does that)."""
    b = bytes(b)
    if b[:4] != MAGIC:
        raise EmxFormatError("bad magic")
    if len(b) < 16:
        raise EmxFormatError("truncated header")
    version, total, crc = struct.unpack("<III", b[4:16])
    if version != VERSION:
        raise EmxFormatError(f"version {version}, expected {VERSION}")
    if total != len(b):
        raise EmxFormatError(f"total_size {total} but buffer has {len(b)} bytes")
    if zlib.crc32(b[16:]) & 0xFFFFFFFF != crc:
        raise EmxFormatError("CRC mismatch")
    chunks: Dict[bytes, bytes] = {}
    pos = 16
    while pos < total:
        if total - pos < 8:
            raise EmxFormatError("truncated chunk header")
        tag = b[pos:pos + 4]
        size = struct.unpack("<I", b[pos + 4:pos + 8])[0]
        pos += 8
        padded = (size + 3) & ~3
        if padded > total - pos:
            raise EmxFormatError(f"chunk {tag!r} overruns the file")
        if any(b[pos + size:pos + padded]):
            raise EmxFormatError(f"chunk {tag!r}: non-zero padding")
        if tag in CHUNK_ORDER:
            if tag in chunks:
                raise EmxFormatError(f"chunk {tag!r} appears twice")
            chunks[tag] = b[pos:pos + size]
        pos += padded
    for tag in CHUNK_ORDER[:5]:
        if tag not in chunks:
            raise EmxFormatError(f"missing chunk {tag!r}")

    c = _Cursor(chunks[b"INPT"], "INPT")
    spec = InputSpec(c.u32(), c.u32(), c.u32(), c.f32(), c.f32())
    c.done()

    c = _Cursor(chunks[b"CLSS"], "CLSS")
    classes = [c.string() for _ in range(c.u32())]
    c.done()

    data = chunks[b"DATA"]
    c = _Cursor(chunks[b"TENS"], "TENS")
    tensors = []
    for _ in range(c.u32()):
        name = c.string()
        dtype, ndim = c.u32(), c.u32()
        if dtype not in (DTYPE_F32, DTYPE_F16) or not 1 <= ndim <= 4:
            raise EmxFormatError(f"tensor {name}: dtype {dtype}, ndim {ndim}")
        dims = tuple(c.u32() for _ in range(ndim))
        offset, nbytes = c.u32(), c.u32()
        count = int(np.prod(dims))
        if nbytes != count * (4 if dtype == DTYPE_F32 else 2):
            raise EmxFormatError(f"tensor {name}: nbytes {nbytes} does not match {dims}")
        if offset > len(data) or nbytes > len(data) - offset:
            raise EmxFormatError(f"tensor {name}: bytes outside DATA")
        raw = np.frombuffer(data, dtype="<f4" if dtype == DTYPE_F32 else "<f2",
                            count=count, offset=offset)
        arr = raw.astype(np.float32).reshape(dims)
        if not np.all(np.isfinite(arr)):
            raise EmxFormatError(f"tensor {name}: NaN or infinite value")
        tensors.append(Tensor(name, arr, dtype))
    c.done()

    c = _Cursor(chunks[b"GRPH"], "GRPH")
    ops = []
    for _ in range(c.u32()):
        t = c.u32()
        inputs = [c.u32() for _ in range(c.u32())]
        attrs = [c.i32() for _ in range(c.u32())]
        tids = [c.u32() for _ in range(c.u32())]
        ops.append(Op(t, inputs, attrs, tids))
    outputs = [c.u32() for _ in range(c.u32())]
    c.done()

    meta = []
    if b"META" in chunks:
        c = _Cursor(chunks[b"META"], "META")
        meta = [(c.string(), c.string()) for _ in range(c.u32())]
        c.done()
    m = EmxModel(spec, classes, tensors, ops, outputs, meta)
    check_model(m)
    return m


def read(path: str) -> EmxModel:
    with open(path, "rb") as f:
        return from_bytes(f.read())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 training/emx_format.py MODEL.emx   (prints a summary)")
    print(read(sys.argv[1]).summary())
