// Measures the CM model alone (no external model): bytes, bits/byte and speed on text prefixes.
//   npm run build && node dist/scripts/cm-bench.js [FILE[:BYTES] ...] [--streams N] [--memory L] [--no-verify]
// Default: the first 100,000 and 1,000,000 bytes of the KJV text (bench/compressors.ts) and
// /work/data/english.txt when present. Each case is decoded back and compared unless --no-verify.
import { existsSync, readFileSync } from 'node:fs';
import { kjvText } from '../bench/compressors.js';
import { BitDecoder, BitEncoder, CmModel, decodeByte, encodeByte } from '../src/codec/cm/index.js';

interface Case { name: string; data: Uint8Array }

function parse(argv: string[]): { cases: Case[]; streams: number; memory: number; verify: boolean } {
  let streams = 1, memory = 22, verify = true;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--streams') streams = Number(argv[++i]);
    else if (a === '--memory') memory = Number(argv[++i]);
    else if (a === '--no-verify') verify = false;
    else files.push(a);
  }
  const cases: Case[] = [];
  const add = (path: string, n?: number) => {
    const all = readFileSync(path);
    const data = new Uint8Array(all.buffer, all.byteOffset, Math.min(all.length, n ?? all.length));
    cases.push({ name: `${path}${n ? ` [first ${data.length.toLocaleString('en-US')}]` : ''}`, data });
  };
  if (files.length === 0) {
    const kjv = kjvText().path;
    add(kjv, 100_000);
    add(kjv, 1_000_000);
    if (existsSync('/work/data/english.txt')) add('/work/data/english.txt');
  } else {
    for (const f of files) {
      const m = /^(.*):(\d+)$/.exec(f);
      if (m) add(m[1]!, Number(m[2]));
      else add(f);
    }
  }
  return { cases, streams, memory, verify };
}

function main(): void {
  const { cases, streams, memory, verify } = parse(process.argv.slice(2));
  console.log(`CM alone, ${streams} stream(s), memoryLog2 ${memory}; times are wall clock on a shared machine`);
  console.log('| text | bytes in | bytes out | bits/byte | encode KB/s | decode KB/s |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const c of cases) {
    const n = c.data.length, per = Math.ceil(n / streams);
    const order: [number, number][] = []; // (stream, index): round robin over contiguous streams
    for (let j = 0; j < per; j++) for (let s = 0; s < streams; s++) if (s * per + j < n) order.push([s, s * per + j]);
    let t0 = performance.now();
    const m = new CmModel(streams, { memoryLog2: memory });
    const enc = new BitEncoder();
    for (const [s, i] of order) encodeByte(m, enc, s, c.data[i]!, null);
    const out = enc.finish();
    const tEnc = (performance.now() - t0) / 1000;
    let decKBs = NaN;
    if (verify) {
      t0 = performance.now();
      const md = new CmModel(streams, { memoryLog2: memory });
      const dec = new BitDecoder(out);
      for (const [s, i] of order) if (decodeByte(md, dec, s, null) !== c.data[i]) throw new Error(`cm-bench: round trip differs at byte ${i} of ${c.name}`);
      decKBs = n / 1000 / ((performance.now() - t0) / 1000);
    }
    console.log(`| ${c.name} | ${n.toLocaleString('en-US')} | ${out.length.toLocaleString('en-US')} | ${((out.length * 8) / n).toFixed(3)} | ${(n / 1000 / tEnc).toFixed(0)} | ${decKBs.toFixed(0)} |`);
  }
}

main();
