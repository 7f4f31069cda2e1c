import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  SafetensorsError,
  decodeCheckpoint,
  encodeCheckpoint,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  fromBf16,
  fromF16,
  loadCheckpoint,
  parseSafetensors,
  parseSafetensorsHeader,
  readSafetensors,
  saveCheckpoint,
  serializeSafetensors,
  toBf16,
  toF16,
  writeFileAtomic,
  writeSafetensorsAtomic,
  type Checkpoint,
  type SafeTensor,
  type TensorMap,
} from '../src/io/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimgpu-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A file built by hand from the spec: u64 LE header length, JSON header, data bytes. */
function handBuilt(header: string, data: number[] | Uint8Array, pad = true): Uint8Array {
  let h = header;
  if (pad) while (h.length % 8) h += ' ';
  const json = new TextEncoder().encode(h);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function allDtypes(): TensorMap {
  return {
    f64: { dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -1e300]) },
    f32: { dtype: 'F32', shape: [2, 3], data: new Float32Array([0, 1, -2.5, NaN, Infinity, 1e-30]) },
    f16: { dtype: 'F16', shape: [3], data: toF16([1, -0.5, 65504]) },
    bf16: { dtype: 'BF16', shape: [1, 2], data: toBf16([3, -1e30]) },
    i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 5n]) },
    i32: { dtype: 'I32', shape: [3], data: new Int32Array([-7, 0, 2 ** 31 - 1]) },
    i16: { dtype: 'I16', shape: [1], data: new Int16Array([-300]) },
    i8: { dtype: 'I8', shape: [3], data: new Int8Array([-128, 0, 127]) },
    u64: { dtype: 'U64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
    u32: { dtype: 'U32', shape: [2, 2], data: new Uint32Array([0, 1, 2 ** 32 - 1, 42]) },
    u16: { dtype: 'U16', shape: [3], data: new Uint16Array([0, 65535, 7]) },
    u8: { dtype: 'U8', shape: [5], data: new Uint8Array([1, 2, 3, 4, 5]) },
    flags: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([7]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
}

function expectSameTensors(a: TensorMap, b: TensorMap): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    expect(b[k]!.dtype, k).toBe(a[k]!.dtype);
    expect(b[k]!.shape, k).toEqual(a[k]!.shape);
    expect(b[k]!.data.constructor, k).toBe(a[k]!.data.constructor);
    expect(
      Buffer.from(b[k]!.data.buffer, b[k]!.data.byteOffset, b[k]!.data.byteLength).equals(
        Buffer.from(a[k]!.data.buffer, a[k]!.data.byteOffset, a[k]!.data.byteLength),
      ),
      k,
    ).toBe(true);
  }
}

describe('safetensors', () => {
  it('round-trips every dtype, a scalar, a zero-size tensor and metadata; aligned and deterministic', () => {
    const t = allDtypes();
    const meta = { format: 'pt', 'note "quoted"': 'ünïcødé ✓', empty: '' };
    const bytes = serializeSafetensors(t, meta);
    const back = parseSafetensors(bytes);
    expectSameTensors(t, back.tensors);
    expect(back.metadata).toEqual(meta);
    // Deterministic whatever the insertion order.
    const reversed = Object.fromEntries(Object.entries(t).reverse());
    expect(serializeSafetensors(reversed, { empty: '', format: 'pt', 'note "quoted"': 'ünïcødé ✓' })).toEqual(bytes);
    expect(serializeSafetensors(new Map(Object.entries(t)), meta)).toEqual(bytes);
    // Header padded to 8; each tensor aligned to its element size; views when copy: false.
    const h = parseSafetensorsHeader(bytes);
    expect(h.dataStart % 8).toBe(0);
    for (const e of h.entries) expect(e.begin % new (Object.getPrototypeOf(back.tensors[e.name]!.data).constructor)(0).BYTES_PER_ELEMENT).toBe(0);
    const views = parseSafetensors(bytes, { copy: false });
    expect(views.tensors.f32!.data.buffer).toBe(bytes.buffer);
    expect(back.tensors.f32!.data.buffer).not.toBe(bytes.buffer);
    // Half precision helpers.
    expect([...fromF16(back.tensors.f16!.data as Uint16Array)]).toEqual([1, -0.5, 65504]);
    expect([...fromBf16(back.tensors.bf16!.data as Uint16Array)][0]).toBe(3);
  });

  it('empty metadata and no tensors', () => {
    const none = serializeSafetensors({});
    expect([...none]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]); // the reference implementation's bytes
    expect(parseSafetensors(none)).toEqual({ tensors: {}, metadata: {} });
    const withEmptyMeta = serializeSafetensors({ a: { dtype: 'U8', shape: [1], data: new Uint8Array([9]) } }, {});
    expect(parseSafetensors(withEmptyMeta).metadata).toEqual({});
    expect(new TextDecoder().decode(withEmptyMeta.subarray(8)).includes('__metadata__')).toBe(false);
    // A file written by others with "__metadata__": {} reads as empty metadata.
    expect(parseSafetensors(handBuilt('{"__metadata__":{}}', [])).metadata).toEqual({});
  });

  it('is byte-for-byte compatible with the reference implementation and a hand-built file', () => {
    const attn = new Float32Array([0, 1, 2, 3, 4, 5]);
    // The safetensors reference test vector (serialize {"attn.0": F32 [1,2,3] 0..5}).
    const reference = [
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115,
      104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50,
      52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ];
    expect([...serializeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: attn } })]).toEqual(reference);
    // Its padded variant: name "attn0", shape [1,1,2,3] → 70-byte header padded to 72 with spaces.
    const padded = serializeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data: attn } });
    expect(padded[0]).toBe(72);
    expect([...padded.subarray(8 + 70, 8 + 72)]).toEqual([32, 32]);

    const f32 = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const header =
      '{"__metadata__":{"a":"1","b":"x"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"z":{"dtype":"I32","shape":[],"data_offsets":[8,12]},"idx":{"dtype":"U16","shape":[3],"data_offsets":[12,18]},' +
      '"m":{"dtype":"U8","shape":[2,1],"data_offsets":[18,20]}}';
    const data = [...f32, 5, 0, 0, 0, 1, 0, 2, 0, 0xff, 0xff, 7, 9];
    const hand = handBuilt(header, data);
    const parsed = parseSafetensors(hand);
    expect([...parsed.tensors.w!.data]).toEqual([1.5, -2]);
    expect([...parsed.tensors.z!.data]).toEqual([5]);
    expect([...parsed.tensors.idx!.data]).toEqual([1, 2, 65535]);
    expect([...parsed.tensors.m!.data]).toEqual([7, 9]);
    expect(parsed.metadata).toEqual({ a: '1', b: 'x' });
    expect(serializeSafetensors(parsed.tensors, parsed.metadata)).toEqual(hand);
    // Key order in a foreign file does not matter to the reader.
    const shuffled = handBuilt(
      '{"m":{"dtype":"U8","shape":[2,1],"data_offsets":[18,20]},"idx":{"dtype":"U16","shape":[3],"data_offsets":[12,18]},' +
        '"z":{"dtype":"I32","shape":[],"data_offsets":[8,12]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"b":"x","a":"1"}}',
      data,
      false,
    );
    expect(serializeSafetensors(parseSafetensors(shuffled).tensors, parseSafetensors(shuffled).metadata)).toEqual(hand);
  });

  it('refuses hostile files, each with a message naming the problem', () => {
    const bad = (bytes: Uint8Array, re: RegExp, opts = {}) => {
      expect(() => parseSafetensors(bytes, opts)).toThrow(SafetensorsError);
      expect(() => parseSafetensors(bytes, opts)).toThrow(re);
    };
    const T = (offs: string, extra = '') => `{"t":{"dtype":"F32","shape":[2],"data_offsets":${offs}}${extra}}`;
    const eight = new Array<number>(8).fill(0);
    bad(new Uint8Array(5), /file is 5 bytes long, shorter than the 8-byte header length field/);
    bad(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]), /header must begin with '\{'.*empty header/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    bad(huge, /header length .* exceeds the limit of 100000000 bytes/);
    const past = new Uint8Array(16);
    past[0] = 200;
    bad(past, /header length 200 runs past the end of the file \(8 bytes follow the length field\)/);
    bad(handBuilt(T('[0,8]'), eight), /'x.st': header length 56 exceeds the limit of 16 bytes \(maxHeaderBytes\)/, {
      maxHeaderBytes: 16,
      name: 'x.st',
    });
    bad(handBuilt('  {}', []), /header must begin with '\{' \(0x7B\), got " {2}\{\}/);
    bad(handBuilt('{"t":', []), /header is not valid JSON/);
    bad(handBuilt('[1,2]', []), /header must begin with '\{'/);
    bad(
      handBuilt('{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array([0xff, 0xfe, 0, 0])).map((v, i) => (i === 10 ? 0xc3 : v)),
      /not valid UTF-8/,
    );
    bad(
      handBuilt('{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]),
      /key "t" twice; duplicate keys are not allowed/,
    );
    bad(handBuilt('{"__metadata__":{"a":"1","\\u0061":"2"}}', []), /key "a" twice \(inside "__metadata__"\)/);
    bad(handBuilt('{"t":[1,2]}', []), /tensor "t": entry must be an object/);
    bad(handBuilt('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}', eight), /tensor "t": unknown field "x"/);
    bad(handBuilt('{"t":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}', eight), /tensor "t": unknown dtype "Q4" \(supported: F64, F32/);
    bad(handBuilt('{"t":{"shape":[2],"data_offsets":[0,8]}}', eight), /tensor "t": unknown dtype undefined/);
    bad(
      handBuilt('{"t":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}', eight),
      /tensor "t": shape must be an array of non-negative integers, got \[2.5\]/,
    );
    bad(handBuilt('{"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', eight), /shape must be an array of non-negative integers, got \[-2\]/);
    bad(handBuilt('{"t":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}', eight), /shape must be an array of non-negative integers, got "2"/);
    bad(handBuilt(T('[0]'), eight), /tensor "t": data_offsets must be \[begin, end\], two non-negative integers, got \[0\]/);
    bad(handBuilt(T('[0,"8"]'), eight), /data_offsets must be \[begin, end\]/);
    bad(handBuilt(T('[-8,0]'), eight), /data_offsets must be \[begin, end\]/);
    bad(handBuilt(T('[0,1e300]'), eight), /data_offsets must be \[begin, end\]/);
    bad(handBuilt(T('[8,0]'), eight), /tensor "t": data_offsets \[8, 0\] has begin > end/);
    bad(handBuilt(T('[0,16]'), eight), /tensor "t": data_offsets \[0, 16\] runs past the end of the data section \(8 bytes\)/);
    bad(handBuilt(T('[0,4]'), [0, 0, 0, 0]), /tensor "t": shape \[2\] of F32 needs 8 bytes, but data_offsets \[0, 4\] span 4/);
    bad(handBuilt('{"t":{"dtype":"U8","shape":[9007199254740991,9007199254740991],"data_offsets":[0,1]}}', [0]), /needs more than 2\^53 bytes/);
    bad(
      handBuilt(T('[0,8]', ',"u":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}'), eight),
      /tensor "u" \(bytes 4..8\) overlaps tensor "t" \(bytes 0..8\)/,
    );
    bad(
      handBuilt(T('[4,12]'), new Array<number>(12).fill(0)),
      /bytes 0..4 of the data section \(before tensor "t"\) belong to no tensor; holes are not allowed/,
    );
    bad(handBuilt(T('[0,8]'), new Array<number>(12).fill(0)), /4 trailing bytes after the last tensor \(data section is 12 bytes, tensors cover 8\)/);
    bad(handBuilt('{}', [1, 2, 3]), /3 trailing bytes after the last tensor/);
    bad(handBuilt(T('[0,8]', ',"__metadata__":{"step":3}'), eight), /__metadata__ value of "step" must be a string, got number/);
    bad(handBuilt(T('[0,8]', ',"__metadata__":["a"]'), eight), /__metadata__ must be an object of string values, got an array/);
    bad(handBuilt('{"b":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}', [1, 2]), /tensor "b": BOOL element 1 is 2, not 0 or 1/);
  });

  it('refuses to serialise inconsistent tensors', () => {
    const s = (t: Record<string, unknown>, m?: Record<string, unknown>) => () => serializeSafetensors(t as TensorMap, m as Record<string, string>);
    expect(s({ __metadata__: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } })).toThrow(/"__metadata__" is reserved/);
    expect(s({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/tensor "a": shape \[3\] has 3 elements, but data holds 2/);
    expect(s({ a: { dtype: 'F32', shape: [2], data: new Float64Array(2) } })).toThrow(
      /tensor "a": dtype F32 needs its data as a Float32Array, got Float64Array/,
    );
    expect(s({ a: { dtype: 'X', shape: [2], data: new Float64Array(2) } })).toThrow(/tensor "a": unknown dtype "X"/);
    expect(s({ a: { dtype: 'U8', shape: [-1], data: new Uint8Array(0) } })).toThrow(/tensor "a": shape must be an array of non-negative integers/);
    expect(s({ a: { dtype: 'BOOL', shape: [1], data: new Uint8Array([3]) } })).toThrow(/BOOL element 0 is 3/);
    expect(s({}, { step: 3 })).toThrow(/metadata value of "step" must be a string, got number/);
  });

  it('a tensor named __proto__ or with odd characters is kept as data, not as a prototype', () => {
    const t: TensorMap = JSON.parse('{"__proto__":{"dtype":"U8","shape":[1],"data":null}}') as TensorMap;
    t.__proto__!.data = new Uint8Array([4]);
    (t as Record<string, SafeTensor>)['0'] = { dtype: 'U8', shape: [1], data: new Uint8Array([5]) };
    (t as Record<string, SafeTensor>)['a/"b"\n'] = { dtype: 'U8', shape: [1], data: new Uint8Array([6]) };
    const back = parseSafetensors(serializeSafetensors(t)).tensors;
    expect(Object.keys(back).sort()).toEqual(['0', '__proto__', 'a/"b"\n']);
    expect([...back.__proto__!.data]).toEqual([4]);
    expect([...back['a/"b"\n']!.data]).toEqual([6]);
  });

  it('f16 / bf16 conversions round to nearest even and keep specials', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // rounds to +Inf
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f32ToF16Bits(2 ** -26)).toBe(0x0000);
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN)))).toBe(true);
    expect(f16BitsToF32(f32ToF16Bits(-Infinity))).toBe(-Infinity);
    for (let h = 0; h < 0x7c00; h += 37) expect(f32ToF16Bits(f16BitsToF32(h))).toBe(h);
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(fromBf16(toBf16([1.00390625]))[0]).toBe(1); // tie → even
  });
});

describe('atomic writes', () => {
  it('writes, replaces, and leaves no temporary file behind', async () => {
    const p = join(dir, 'model.safetensors');
    await writeSafetensorsAtomic(p, allDtypes(), { v: '1' });
    const first = await readSafetensors(p);
    expectSameTensors(allDtypes(), first.tensors);
    await writeSafetensorsAtomic(p, { x: { dtype: 'U8', shape: [1], data: new Uint8Array([1]) } });
    expect(Object.keys((await readSafetensors(p)).tensors)).toEqual(['x']);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the old file intact and removes the temporary file when writing fails midway', async () => {
    const p = join(dir, 'keep.safetensors');
    await writeSafetensorsAtomic(p, { a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
    const before = await readFile(p);
    // The data source fails after the temporary file was created and partly written.
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1000);
      const tmps = (await readdir(dir)).filter((f) => f.startsWith('.keep.safetensors.') && f.endsWith('.tmp'));
      expect(tmps.length).toBe(1);
      throw new Error('disk on fire');
    }
    await expect(writeFileAtomic(p, failing())).rejects.toThrow(/disk on fire/);
    expect((await readFile(p)).equals(before)).toBe(true);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Invalid tensors are refused before anything touches the disk.
    await expect(writeSafetensorsAtomic(p, { a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).rejects.toThrow(SafetensorsError);
    expect((await readFile(p)).equals(before)).toBe(true);
    // The rename fails (the target is a non-empty directory): temp removed, error names the path.
    const d = join(dir, 'adir');
    await mkdir(d);
    await writeFile(join(d, 'inside'), 'x');
    await expect(writeSafetensorsAtomic(d, { a: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } })).rejects.toThrow(
      /cannot write '.*adir': E[A-Z]+ in rename.*; the previous file, if any, is unchanged/,
    );
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(readSafetensors(join(dir, 'nope'))).rejects.toThrow(/cannot read safetensors file '.*nope': no such file/);
  });
});

describe('checkpoints', () => {
  const ckpt = (): Checkpoint => ({
    tensors: {
      'fc1.weight': { dtype: 'F32', shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
      'fc1.mask': { dtype: 'U32', shape: [3, 2], data: new Uint32Array([1, 0, 1, 1, 0, 1]) },
      'fc1.codebook': { dtype: 'F16', shape: [4], data: toF16([0, 0.5, -0.5, 1]) },
    },
    step: 1234,
    config: { model: 'mlp', layers: [784, 300, 10], lr: 0.1, sparsity: { target: 0.9 } },
    rng: { seed: 7, epoch: 3, state: 123456789 },
    extra: { bestAccuracy: 0.97 },
  });

  it('round-trips tensors, step, config, rng and extra through a file', async () => {
    const p = join(dir, 'run.ckpt.safetensors');
    await saveCheckpoint(p, ckpt());
    const back = await loadCheckpoint(p);
    expectSameTensors(ckpt().tensors, back.tensors);
    expect(back.step).toBe(1234);
    expect(back.config).toEqual(ckpt().config);
    expect(back.rng).toEqual(ckpt().rng);
    expect(back.extra).toEqual({ bestAccuracy: 0.97 });
    const { metadata } = await readSafetensors(p);
    expect(metadata).toEqual({
      'slimgpu.checkpoint': '1',
      step: '1234',
      config: JSON.stringify(ckpt().config),
      rng: JSON.stringify(ckpt().rng),
      extra: '{"bestAccuracy":0.97}',
    });
    const noExtra = decodeCheckpoint(Buffer.concat(encodeCheckpoint({ ...ckpt(), extra: undefined, rng: null })));
    expect(noExtra.extra).toBeUndefined();
    expect(noExtra.rng).toBeNull();
  });

  it('refuses files that are not valid checkpoints, and bad checkpoint values', () => {
    const file = (meta: Record<string, string>) => serializeSafetensors({}, meta);
    const ok = { 'slimgpu.checkpoint': '1', step: '5', config: '{}', rng: '1' };
    const bad = (meta: Record<string, string>, re: RegExp) => {
      expect(() => decodeCheckpoint(file(meta), { name: 'c.st' })).toThrow(CheckpointError);
      expect(() => decodeCheckpoint(file(meta), { name: 'c.st' })).toThrow(re);
    };
    expect(decodeCheckpoint(file(ok)).step).toBe(5);
    bad({ step: '5', config: '{}', rng: '1' }, /'c.st': not a slimgpu checkpoint: __metadata__ has no "slimgpu.checkpoint" key/);
    bad({ ...ok, 'slimgpu.checkpoint': '2' }, /format version "2" is not supported/);
    bad({ 'slimgpu.checkpoint': '1', step: '5', config: '{}' }, /lacks the required key "rng"/);
    bad({ ...ok, config: '{oops' }, /__metadata__ "config" is not valid JSON/);
    bad({ ...ok, step: '-1' }, /"step" must be a non-negative integer, got -1/);
    bad({ ...ok, step: '"5"' }, /"step" must be a non-negative integer/);
    bad({ ...ok, extra: '[1]' }, /"extra" must hold a JSON object/);
    expect(() => encodeCheckpoint({ ...ckpt(), step: 1.5 })).toThrow(/step must be a non-negative integer, got 1.5/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeCheckpoint({ ...ckpt(), config: cyclic as never })).toThrow(/config is not JSON-serialisable/);
    expect(() => encodeCheckpoint({ ...ckpt(), rng: 10n as never })).toThrow(/rng is not JSON-serialisable/);
  });
});
