"""A small safetensors reader (the `safetensors` package is not installable here: no PyPI).

Format (https://github.com/huggingface/safetensors):
    8 bytes   little-endian u64 N = header length
    N bytes   JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}
    rest      raw little-endian tensor bytes; offsets relative to the start of this section

Tensors come back as torch tensors of the stored dtype. Every inconsistency (truncation, overlapping or
missing bytes, unknown dtypes) raises SafetensorsError naming the file and the problem.
"""
import json
import os
import struct
import sys

import torch

# dtype name -> (torch dtype, bytes per element). F16/BF16 load as their torch equivalents.
_DTYPES = {
    "F64": (torch.float64, 8),
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I64": (torch.int64, 8),
    "I32": (torch.int32, 4),
    "I16": (torch.int16, 2),
    "I8": (torch.int8, 1),
    "U8": (torch.uint8, 1),
    "BOOL": (torch.bool, 1),
}

MAX_HEADER = 100_000_000


class SafetensorsError(ValueError):
    pass


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def read_safetensors(path):
    """Returns (tensors: dict name -> torch.Tensor, metadata: dict str -> str)."""
    if sys.byteorder != "little":
        raise SafetensorsError("big-endian hosts are not supported")

    def bad(msg):
        return SafetensorsError(f"safetensors: {path}: {msg}")

    size = os.path.getsize(path)
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) != size:
        raise bad("file changed while reading")
    if size < 8:
        raise bad(f"file is {size} bytes, too short for the 8-byte header length (truncated or not safetensors)")
    (hlen,) = struct.unpack("<Q", blob[:8])
    if hlen > MAX_HEADER:
        raise bad(f"header length {hlen} exceeds {MAX_HEADER} bytes (corrupt or not safetensors)")
    if 8 + hlen > size:
        raise bad(f"header says {hlen} bytes but only {size - 8} follow (truncated)")
    try:
        header = json.loads(blob[8 : 8 + hlen].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f"header is not valid JSON ({e})")
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")

    metadata = header.pop("__metadata__", {}) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise bad("__metadata__ must map strings to strings")

    data = blob[8 + hlen :]
    spans = []
    entries = {}
    for name, e in header.items():
        if not isinstance(e, dict):
            raise bad(f"entry {name!r} is not an object")
        dtype = e.get("dtype")
        if dtype not in _DTYPES:
            raise bad(f"tensor {name!r} has unsupported dtype {dtype!r} (known: {', '.join(_DTYPES)})")
        shape = e.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise bad(f"tensor {name!r} has invalid shape {shape!r}")
        off = e.get("data_offsets")
        if not (isinstance(off, list) and len(off) == 2 and all(isinstance(o, int) and o >= 0 for o in off) and off[0] <= off[1]):
            raise bad(f"tensor {name!r} has invalid data_offsets {off!r}")
        tdtype, esize = _DTYPES[dtype]
        need = _numel(shape) * esize
        if off[1] - off[0] != need:
            raise bad(f"tensor {name!r} {dtype}{shape} needs {need} bytes but data_offsets span {off[1] - off[0]}")
        spans.append((off[0], off[1], name))
        entries[name] = (tdtype, shape, off)

    # The tensors must tile the data section exactly (as the reference implementation requires).
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            raise bad(f"tensor {name!r} starts at {begin}, expected {pos} (gap or overlap)")
        pos = end
    if pos > len(data):
        raise bad(f"tensors need {pos} bytes of data but the file has {len(data)} (truncated)")
    if pos < len(data):
        raise bad(f"{len(data) - pos} bytes after the last tensor are not described by the header")

    tensors = {}
    for name, (tdtype, shape, off) in entries.items():
        raw = bytearray(data[off[0] : off[1]])  # a private, writable copy: frombuffer shares memory
        t = torch.frombuffer(raw, dtype=tdtype) if raw else torch.empty(0, dtype=tdtype)
        tensors[name] = t.reshape(shape)
    return tensors, metadata
