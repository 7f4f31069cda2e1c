// A laboratory for the GPT+CM mixer: records the real GPT codec's predictions once (GPU), then
// replays the CM against the recording offline (CPU only, seconds), so mixer designs can be compared
// on exactly the tables the codec would feed them.
//   npm run build
//   node dist/scripts/mix-lab.js record OUT.rec [--bytes N] [--streams B] [--chunk R] [--steps S] [--lr X] [--model gpt:...]
//   node dist/scripts/mix-lab.js replay REC [--variants alone,gpt]
// Replay prints bits/byte overall and per tenth of the text for the CM alone and the CM with the
// GPT's tables, at the recording's geometry; to try a mixer design, change CmModel (or add a variant
// here) and replay — the numbers are the codec's own, bit for bit (replay of the default CM
// reproduces the recorded codec's bits/byte exactly).
// The text is the first N bytes of the KJV (bench/compressors.ts kjvText). A recording is OUT.rec, a
// JSON line (bytes, layout, settings, the codec's own bits), and OUT.rec.logits: for every
// model.step() call of encodeText, in coding order, the B×256 float32 logits (N/B KiB per stream
// position: 1 GB for 1 MB at 64 streams).
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { kjvText } from '../bench/compressors.js';
import { createGpu } from '../src/gpu/device.js';
import { GptCodecModel, settingsOf, defaultStreams } from '../src/codec/gpt.js';
import { encodeText, Layout } from '../src/codec/prequential.js';
import { frequencies, codeBits, SYMBOLS } from '../src/codec/frequencies.js';
import { BitEncoder, CmModel, encodeByte } from '../src/codec/cm/index.js';
import type { CodecModel } from '../src/codec/model.js';
import { parseGptName } from '../src/nn/presets.js';

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

interface RecHead {
  bytes: number;
  streams: number;
  context: number;
  chunkBytes: number;
  steps: number;
  lr: number;
  model: string;
  bits: number;
  modelBits: number;
}

async function record(out: string, argv: string[]): Promise<void> {
  const n = Number(flag(argv, '--bytes') ?? 100_000);
  const all = readFileSync(kjvText().path);
  const text = new Uint8Array(all.buffer, all.byteOffset, Math.min(n, all.length));
  const model = flag(argv, '--model') ?? 'gpt:2-64-4-64';
  const T = parseGptName(model)!.T;
  const streams = Number(flag(argv, '--streams') ?? defaultStreams(text.length, T));
  const chunkBytes = Number(flag(argv, '--chunk') ?? 64),
    steps = Number(flag(argv, '--steps') ?? 4),
    lr = Number(flag(argv, '--lr') ?? 1e-2);
  const gpu = await createGpu();
  const s = settingsOf({ model, lr });
  const inner = await GptCodecModel.create(gpu, s, streams, text.length);
  const fd = openSync(out + '.logits', 'w');
  const wrap: CodecModel = {
    windows: inner.windows,
    context: inner.context,
    prefill: (t) => inner.prefill(t),
    step: async (t) => {
      const l = await inner.step(t);
      writeSync(fd, new Uint8Array(l.buffer, l.byteOffset, l.byteLength));
      return l;
    },
    appendText: (b) => inner.appendText(b),
    train: (k) => inner.train(k),
    dispose: () => inner.dispose(),
  };
  const t0 = Date.now();
  const r = await encodeText(text, wrap, {
    chunkBytes,
    stepsPerChunk: steps,
    mixer: 'cm',
    onProgress: (p) => {
      if (p.chunk % 10 === 0)
        console.error(`chunk ${p.chunk}/${p.chunks} ${(p.bits / p.done).toFixed(3)} bits/byte ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    },
  });
  closeSync(fd);
  wrap.dispose();
  gpu.destroy();
  const head: RecHead = { bytes: text.length, streams, context: T, chunkBytes, steps, lr, model, bits: r.bits, modelBits: r.modelBits };
  const hf = openSync(out, 'w');
  writeSync(hf, JSON.stringify(head) + '\n');
  closeSync(hf);
  console.log(
    `recorded ${out}: ${JSON.stringify(head)}; codec ${(r.bits / text.length).toFixed(4)} bits/byte (GPT alone ${(r.modelBits / text.length).toFixed(4)})`,
  );
}

/** The recording: its head, the text and the logits of every step. */
function load(path: string): { head: RecHead; text: Uint8Array; logits: Float32Array } {
  const head = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!) as RecHead;
  const all = readFileSync(kjvText().path);
  const text = new Uint8Array(all.buffer, all.byteOffset, head.bytes);
  const lb = readFileSync(path + '.logits');
  const logits = new Float32Array(lb.buffer, lb.byteOffset, lb.byteLength / 4);
  return { head, text, logits };
}

/** Coding order of the recording: per step, the (stream, position, logits row) of each coded byte. */
function* order(L: Layout): Generator<{ b: number; p: number; step: number }> {
  let step = 0;
  for (let c = 0; c < L.chunks; c++) {
    const [from, to] = L.span(c);
    for (let p = from; p < to; p++, step++) for (let b = 0; b < L.B; b++) if (p < L.len(b)) yield { b, p, step };
  }
}

/** Replays the CM over the recording once per variant; prints bits/byte overall and per tenth of the coding order. */
function replay(path: string, argv: string[]): void {
  const { head, text, logits } = load(path);
  const L = new Layout(head.bytes, { windows: head.streams, context: head.context }, head.chunkBytes);
  const variants = (flag(argv, '--variants') ?? 'alone,gpt').split(',');
  for (const v of variants)
    if (v !== 'alone' && v !== 'gpt') throw new Error(`mix-lab: variants are alone and gpt (add your own in replay()), got '${v}'`);
  const n = head.bytes,
    parts = 10;
  const cum = new Uint32Array(SYMBOLS + 1);
  const gpt = new Float64Array(parts);
  let gptDone = false;
  console.log(
    `${path}: ${n} bytes, ${L.B} streams, chunks of ${L.R}; recorded codec ${(head.bits / n).toFixed(4)}, GPT alone ${(head.modelBits / n).toFixed(4)} bits/byte`,
  );
  for (const v of variants) {
    const useGpt = v !== 'alone';
    const cm = new CmModel(L.B);
    const enc = new BitEncoder();
    const per = new Float64Array(parts);
    let bits = 0,
      i = 0;
    const t0 = Date.now();
    for (const { b, p, step } of order(L)) {
      const sym = text[b * L.S + p]!;
      const part = Math.floor((i++ * parts) / n);
      if (useGpt || !gptDone) frequencies(logits, (step * L.B + b) * SYMBOLS, cum);
      if (!gptDone) gpt[part]! += codeBits(cum, sym);
      const x = encodeByte(cm, enc, b, sym, useGpt ? cum : null);
      bits += x;
      per[part]! += x;
    }
    gptDone = true;
    const coded = enc.finish().length;
    console.log(
      `${v.padEnd(14)} ${(bits / n).toFixed(4)} (coded ${((8 * coded) / n).toFixed(4)}) | ${Array.from(per, (x) => ((x * parts) / n).toFixed(3)).join(' ')} | ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  console.log(
    `${'GPT alone'.padEnd(14)} ${(gpt.reduce((a, x) => a + x, 0) / n).toFixed(4)}          | ${Array.from(gpt, (x) => ((x * parts) / n).toFixed(3)).join(' ')}`,
  );
}

const [cmd, file, ...rest] = process.argv.slice(2);
if (cmd === 'record' && file) await record(file, rest);
else if (cmd === 'replay' && file) replay(file, rest);
else
  console.error(
    'usage: mix-lab record OUT.rec [--bytes N] [--streams B] [--chunk R] [--steps S] [--lr X] [--model gpt:...] | mix-lab replay REC [--variants alone,gpt]',
  );
