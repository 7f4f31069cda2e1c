// Writes a shipped model file back as pretrain.py's integer JSON (levels, biases, shifts), so that a
// new training run can start from a shipped model (python/pretrain.py --init-int):
//   node dist/scripts/dump-pretrained.js [models/bytemlp.slim.safetensors] [runs/pretrain/init-int.json]
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { decodeByteMlp } from '../src/codec/pretrained/file.js';

const src = process.argv[2] ?? 'models/bytemlp.slim.safetensors';
const dst = process.argv[3] ?? 'runs/pretrain/init-int.json';
const m = decodeByteMlp(new Uint8Array(readFileSync(src)), src);
const arr = (a: Int32Array) => Array.from(a);
const out = {
  ctx: m.ctx,
  dim: m.dim,
  hidden: m.hidden,
  sh: m.sh,
  shifts: m.shifts,
  info: { from: src },
  emb: arr(m.emb),
  w1: arr(m.w1),
  b1: arr(m.b1),
  w2: arr(m.w2),
  b2: arr(m.b2),
  w3: arr(m.w3),
  b3: arr(m.b3),
};
writeFileSync(`${dst}.tmp`, JSON.stringify(out));
renameSync(`${dst}.tmp`, dst);
console.log(`${src} -> ${dst}: ctx ${m.ctx} dim ${m.dim} hidden ${m.hidden} shifts ${JSON.stringify(m.shifts)}`);
