#!/usr/bin/python3
"""Reads a slimgpu compressed model (`*.slim.safetensors`) into dense float32 arrays, following
docs/format.md (numpy + struct + json only; no slimgpu, no torch).

  python3 python/slim_reader.py model.slim.safetensors [--names torch] [--out dense.safetensors]

read(path) -> (model, arrays): model is the ModelSpec dict; arrays maps parameter names
('dense1.weight' [in, out], 'conv2d1.weight' [OC, C, KH, KW], '*.bias') to float32 arrays, pruned
weights 0. to_torch(arrays) renames and transposes them into a PyTorch state_dict layout.
"""
import json
import re
import struct
import sys

import numpy as np


class FormatError(ValueError):
    pass


def check(ok, msg):
    if not ok:
        raise FormatError(msg)


def container(data, max_header=100_000_000):
    """The safetensors container: (metadata, {name: bytes}) — every tensor 1-D U8 (docs/format.md §1)."""
    check(len(data) >= 8, "file shorter than 8 bytes")
    (n,) = struct.unpack_from("<Q", data, 0)
    check(n <= max_header and 8 + n <= len(data), f"header length {n} is too large for the file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    body, cursor, out = data[8 + n:], 0, {}
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, end = e["data_offsets"]
        check(e["dtype"] == "U8" and e["shape"] == [end - b] and b == cursor, f"tensor {name!r}: not a contiguous 1-D U8 stream")
        check(end <= len(body), f"tensor {name!r} runs past the end of the file (truncated)")
        out[name], cursor = body[b:end], end
    check(cursor == len(body), "bytes after the last tensor")
    return meta, out


def unpack(stream, count, width):
    """`count` unsigned values of `width` bits, packed LSB first (§3): value i = stream bits [i·w, (i+1)·w)."""
    check(len(stream) == (count * width + 7) // 8, f"{count}×{width} bits need {(count * width + 7) // 8} bytes, got {len(stream)}")
    bits = np.unpackbits(np.frombuffer(stream, np.uint8), bitorder="little")
    check(not bits[count * width:].any(), "padding bits are not 0")
    v = bits[:count * width].reshape(count, width).astype(np.uint32)
    return (v << np.arange(width, dtype=np.uint32)).sum(1, dtype=np.uint32)


def huffman(section, count, alphabet):
    """`count` symbols < `alphabet` from a Huffman section (§5): 4-bit code lengths, canonical codes, stream."""
    if count == 0:
        check(len(section) == 0, "an empty Huffman section must be 0 bytes")
        return np.zeros(0, np.uint32)
    tb = (alphabet + 1) // 2
    check(len(section) > tb, "Huffman section shorter than its code-length table")
    t = np.frombuffer(section[:tb], np.uint8)
    lens = np.stack([t & 15, t >> 4], 1).reshape(-1).astype(np.int64)
    check(not lens[alphabet:].any(), "Huffman table: padding nibble is not 0")
    lens = lens[:alphabet]
    used = [int(v) for v in np.flatnonzero(lens)]
    kraft = sum(2.0 ** -int(lens[v]) for v in used)
    check(kraft == 1 or (len(used) == 1 and lens[used[0]] == 1), "Huffman code lengths do not form a complete code")
    syms = sorted(used, key=lambda v: (lens[v], v))  # canonical order: (length, symbol)
    count_of = np.bincount(lens[used], minlength=16)
    first, offset, code, k = [0] * 16, [0] * 16, 0, 0
    for ln in range(1, 16):
        first[ln], offset[ln] = code, k
        code, k = (code + int(count_of[ln])) << 1, k + int(count_of[ln])
    bits = np.unpackbits(np.frombuffer(section[tb:], np.uint8), bitorder="little").tolist()
    out, pos = np.zeros(count, np.uint32), 0
    for i in range(count):
        code = ln = 0
        while True:  # codes are read most significant bit first
            check(pos < len(bits) and ln < 15, "Huffman stream ends inside a code, or an invalid code")
            code, pos, ln = (code << 1) | bits[pos], pos + 1, ln + 1
            if 0 <= code - first[ln] < count_of[ln]:
                out[i] = syms[offset[ln] + code - first[ln]]
                break
    check((pos + 7) // 8 == len(bits) // 8 and not any(bits[pos:]), "bytes or non-zero bits after the last Huffman code")
    return out


def positions(p, index, n):
    """Kept positions (ascending flat indices) from the sparse index (§4)."""
    if p["index"] == "full":
        return np.arange(n)
    if p["index"] == "bitmask":
        return np.flatnonzero(unpack(index, n, 1))
    if p.get("indexCoding", "packed") == "huffman":
        e = huffman(index, p["indexEntries"], 2 ** p["indexBits"]).astype(np.int64)
    else:
        e = unpack(index, p["indexEntries"], p["indexBits"]).astype(np.int64)
    if p["index"] in ("rowprefix", "colprefix"):
        # §4: the weight as [R, C]; row r keeps its first e[r] columns (rowprefix) or column c its first e[c] rows (colprefix)
        R = p["shape"][0]
        C = n // R
        row = p["index"] == "rowprefix"
        check(e.size == (R if row else C) and (e.size == 0 or e.max() <= (C if row else R)), f"{p['name']}: bad {p['index']} lengths")
        keep = (np.arange(C)[None, :] < e[:, None]) if row else (np.arange(R)[:, None] < e[None, :])
        return np.flatnonzero(keep)
    check(p["index"] == "relative", f"{p['name']}: unknown index {p['index']!r}")
    step = np.where(e == 0, 2 ** p["indexBits"] - 1, e)  # 0 = filler: advance 2^r − 1, keep nothing
    pos = np.cumsum(step) - 1
    return pos[e != 0]


def decode(meta, t):
    """Versions 1 and 2, and 3 after expand_v3 (version 1 = every section packed: no indexCoding / valueCoding fields)."""
    arrays = {}
    for p in json.loads(meta["params"]):
        name, shape = p["name"], p["shape"]
        n = int(np.prod(shape))
        if p["kind"] == "f32":
            arrays[name] = np.frombuffer(t[name], "<f4").reshape(shape).astype(np.float32)
            continue
        pos = positions(p, t[name + ".index"], n)
        check(len(pos) == p["kept"] and (len(pos) == 0 or pos[-1] < n), f"{name}: index gives {len(pos)} positions, kept is {p['kept']}")
        if p["bits"] == 32:
            vals = np.frombuffer(t[name + ".values"], "<f4")
        else:
            book = np.frombuffer(t[name + ".codebook"], "<f4")
            if p.get("valueCoding", "packed") == "huffman":
                idx = huffman(t[name + ".values"], p["kept"], p["codebook"])
            else:
                idx = unpack(t[name + ".values"], p["kept"], p["bits"])
            check(idx.size == 0 or idx.max() < book.size, f"{name}: codebook index beyond the {book.size} entries")
            vals = book[idx]
        w = np.zeros(n, np.float32)
        w[pos] = vals
        arrays[name] = w.reshape(shape)
    for k, a in arrays.items():
        check(np.isfinite(a).all(), f"{k}: non-finite value")
    return arrays


def expand_v3(meta, t):
    """Version 3 (§9): one "data" tensor, terse "params"; returns the version-2 view (params list, tensors by name)."""
    check(list(t) == ["data"], f"a version-3 file holds exactly one tensor 'data', got {list(t)[:5]}")
    data, at, params = t["data"], 0, []
    out = {}

    def take(name, size):
        nonlocal at
        check(at + size <= len(data), f"section {name!r} runs past the end of 'data'")
        out[name], at = data[at:at + size], at + size

    for i, entry in enumerate(meta["params"].split(",") if meta["params"] else []):
        tok = entry.split(" ")
        check(len(tok) in (2, 5) and re.fullmatch(r"\d+(x\d+)*", tok[1]), f"params entry {i} {entry[:80]!r}: bad syntax")
        name, shape = tok[0], [int(d) for d in tok[1].split("x")]
        n = int(np.prod(shape))
        if len(tok) == 2:
            params.append({"name": name, "kind": "f32", "shape": shape})
            take(name, 4 * n)
            continue
        ix = re.fullmatch(r"(f)|(m)|([rRC])(\d+)([ph])(\d+)(?::(\d+))?", tok[3])
        vx = re.fullmatch(r"(f)|(\d+)([ph])(\d+)(?::(\d+))?", tok[4])
        check(ix and vx and tok[2].isdigit(), f"params entry {i} {entry[:80]!r}: bad index or values token")
        p = {"name": name, "kind": "sparse", "shape": shape, "kept": int(tok[2]), "index": "full" if ix[1] else "bitmask" if ix[2] else {"r": "relative", "R": "rowprefix", "C": "colprefix"}[ix[3]],
             "indexBits": int(ix[4] or 0), "indexEntries": int(ix[6] or 0), "indexCoding": "huffman" if ix[5] == "h" else "packed",
             "bits": 32 if vx[1] else int(vx[2]), "codebook": 0 if vx[1] else int(vx[4]), "valueCoding": "huffman" if vx[3] == "h" else "packed"}
        check((ix[5] == "h") == (ix[7] is not None) and (vx[3] == "h") == (vx[5] is not None), f"params entry {i}: only huffman sections carry :bytes")
        params.append(p)
        take(name + ".index", 0 if p["index"] == "full" else (n + 7) // 8 if p["index"] == "bitmask"
             else int(ix[7]) if ix[7] else (p["indexEntries"] * p["indexBits"] + 7) // 8)
        take(name + ".values", 4 * p["kept"] if vx[1] else int(vx[5]) if vx[5] else (p["kept"] * p["bits"] + 7) // 8)
        if not vx[1]:
            take(name + ".codebook", 4 * p["codebook"])
    check(at == len(data), f"the sections hold {at} bytes, 'data' {len(data)}")
    return {**meta, "params": json.dumps(params)}, out


def model_v3(s):
    """The "model" value of version 3: JSON, or NAME;INPUT;CLASSES of a slimgpu preset (returned as that dict)."""
    if s.startswith("{"):
        return json.loads(s)
    name, inp, classes = s.split(";")
    return {"preset": name, "input": [int(d) for d in inp.split("x")], "classes": int(classes)}


DECODERS = {"1": decode, "2": decode, "3": lambda meta, t: decode(*expand_v3(meta, t))}


def read(path):
    with open(path, "rb") as f:
        meta, tensors = container(f.read())
    version = meta.get("slimgpu.compressed")
    check(version in DECODERS, f"not a slimgpu compressed model, or version {version!r} unknown (this reader: {', '.join(DECODERS)})")
    model = model_v3(meta["model"]) if version == "3" else json.loads(meta["model"])
    return model, DECODERS[version](meta, tensors)


def to_torch(arrays):
    """slimgpu names/layout -> PyTorch (dense{i} -> fc{i}, weight transposed; conv2d{i} -> conv{i})."""
    out = {}
    for k, a in arrays.items():
        layer, kind = k.rsplit(".", 1)
        if re.match(r"(wte|wpe|ln_f|h\d+)\b", layer):  # gpt: nanoGPT's names, Linear weights [out, in]
            lin = kind == "weight" and re.search(r"\.(c_attn|c_proj|c_fc)$", layer)
            out["transformer." + re.sub(r"^h(\d+)\.", r"h.\1.", k)] = np.ascontiguousarray(a.T) if lin else a
            if k == "wte.weight":
                out["lm_head.weight"] = a  # tied
        elif layer.startswith("dense"):
            out[f"fc{layer[5:]}.{kind}"] = np.ascontiguousarray(a.T if kind == "weight" else a)
        elif layer.startswith("conv2d"):
            out[f"conv{layer[6:]}.{kind}"] = a
        else:
            raise FormatError(f"no PyTorch name for {k!r}")
    return out


def write_safetensors(path, arrays, meta):
    """A plain F32 safetensors file (sorted names)."""
    head, body, off = {"__metadata__": meta}, [], 0
    for k in sorted(arrays):
        raw = np.ascontiguousarray(arrays[k], "<f4").tobytes()
        head[k] = {"dtype": "F32", "shape": list(arrays[k].shape), "data_offsets": [off, off + len(raw)]}
        body.append(raw)
        off += len(raw)
    h = json.dumps(head).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(body))


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--names", choices=["slimgpu", "torch"], default="slimgpu")
    ap.add_argument("--out", help="write the dense arrays as an F32 safetensors file")
    a = ap.parse_args(argv)
    model, arrays = read(a.file)
    if a.names == "torch":
        arrays = to_torch(arrays)
    for k, v in arrays.items():
        print(f"{k:20s} {str(list(v.shape)):18s} non-zeros {np.count_nonzero(v):8d} of {v.size}")
    if a.out:
        write_safetensors(a.out, arrays, {"model": json.dumps(model)})


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (FormatError, KeyError, ValueError) as e:
        sys.exit(f"slim_reader: {e}")
