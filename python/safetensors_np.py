"""A small safetensors reader and writer with struct + json + numpy (the `safetensors` wheel is
not available as a Debian package).

File layout (https://github.com/huggingface/safetensors): 8 bytes little-endian u64 N, then N
bytes of UTF-8 JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
{str: str}}, then the byte buffer (offsets relative to its start, row-major, little-endian).

read() treats the file as untrusted: header size capped, every entry checked, the buffer must be
covered exactly (no holes, overlaps or trailing bytes). write() is atomic (temp file + rename).
"""
import json
import os
import struct

import numpy as np

DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
    "BF16": np.dtype("<u2"),  # raw bits: numpy has no bfloat16; see bf16_to_f32
}
NAMES = {np.dtype("<f8"): "F64", np.dtype("<f4"): "F32", np.dtype("<f2"): "F16", np.dtype("<i8"): "I64",
         np.dtype("<i4"): "I32", np.dtype("<i2"): "I16", np.dtype("i1"): "I8", np.dtype("<u8"): "U64",
         np.dtype("<u4"): "U32", np.dtype("<u2"): "U16", np.dtype("u1"): "U8", np.dtype("?"): "BOOL"}
MAX_HEADER = 100_000_000


class SafetensorsError(ValueError):
    pass


def bf16_to_f32(bits):
    return (bits.astype("<u4") << 16).view("<f4")


def f32_to_bf16(x):
    """float32 -> bfloat16 bits, round to nearest even (NaN stays NaN)."""
    u = np.ascontiguousarray(x, dtype="<f4").view("<u4").astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")
    nan = np.isnan(x)
    r[nan] = ((u[nan] >> 16) | 0x40).astype("<u2")
    return r


def parse(data, name="safetensors", max_header=MAX_HEADER):
    """bytes -> ({name: ndarray}, metadata). BF16 tensors come back as uint16 bits (dtype name in `dtypes`)."""
    def fail(msg):
        raise SafetensorsError(f"{name}: {msg}")
    if len(data) < 8:
        fail(f"{len(data)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack_from("<Q", data, 0)
    if n > max_header:
        fail(f"header length {n} exceeds the limit of {max_header} bytes")
    if n > len(data) - 8:
        fail(f"header length {n} runs past the end of the file")
    try:
        header = json.loads(bytes(data[8:8 + n]).decode("utf-8"),
                            object_pairs_hook=lambda kv: _no_dup(kv, fail))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"header is not UTF-8 JSON ({e})")
    if not isinstance(header, dict):
        fail("header must be a JSON object")
    meta = header.pop("__metadata__", {}) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        fail("__metadata__ must be an object of strings")
    buf = memoryview(data)[8 + n:]
    spans, out, dtypes = [], {}, {}
    for k, e in header.items():
        if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
            fail(f"tensor {k!r}: entry must be {{dtype, shape, data_offsets}}")
        if e["dtype"] not in DTYPES:
            fail(f"tensor {k!r}: unknown dtype {e['dtype']!r}")
        shape, offs = e["shape"], e["data_offsets"]
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            fail(f"tensor {k!r}: bad shape {shape!r}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(isinstance(d, int) and d >= 0 for d in offs)
                and offs[0] <= offs[1] <= len(buf)):
            fail(f"tensor {k!r}: bad data_offsets {offs!r} (data section is {len(buf)} bytes)")
        dt = DTYPES[e["dtype"]]
        if int(np.prod(shape, dtype=object)) * dt.itemsize != offs[1] - offs[0]:
            fail(f"tensor {k!r}: shape {shape} of {e['dtype']} does not match data_offsets {offs}")
        spans.append((offs[0], offs[1], k))
        out[k] = np.frombuffer(buf[offs[0]:offs[1]], dtype=dt).reshape(shape).copy()
        dtypes[k] = e["dtype"]
    cursor = 0
    for b, e_, k in sorted(spans):
        if b != cursor:
            fail(f"tensor {k!r} starts at {b}, expected {cursor} (holes and overlaps are not allowed)")
        cursor = e_
    if cursor != len(buf):
        fail(f"{len(buf) - cursor} trailing bytes after the last tensor")
    return out, dict(meta), dtypes


def _no_dup(pairs, fail):
    d = {}
    for k, v in pairs:
        if k in d:
            fail(f"duplicate key {k!r} in the header")
        d[k] = v
    return d


def read(path, max_header=MAX_HEADER):
    """path -> ({name: ndarray}, metadata); BF16 tensors are converted to float32."""
    with open(path, "rb") as f:
        data = f.read()
    tensors, meta, dtypes = parse(data, path, max_header)
    for k, t in dtypes.items():
        if t == "BF16":
            tensors[k] = bf16_to_f32(tensors[k])
    return tensors, meta


def serialize(tensors, metadata=None, dtypes=None):
    """{name: ndarray} -> bytes. dtypes may name 'BF16' for uint16 arrays holding bfloat16 bits."""
    dtypes = dtypes or {}
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k])
        a = a.astype(a.dtype.newbyteorder("<")) if a.dtype.byteorder == ">" else a
        t = dtypes.get(k) or NAMES.get(a.dtype)
        if t is None:
            raise SafetensorsError(f"tensor {k!r}: dtype {a.dtype} has no safetensors name")
        raw = a.tobytes()
        header[k] = {"dtype": t, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(chunks)


def write(path, tensors, metadata=None, dtypes=None):
    """Writes atomically: temp file in the same folder, fsync, rename."""
    data = serialize(tensors, metadata, dtypes)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
