// Writes the shipped model file from pretrain.py's integer export (issue 22):
//   node dist/scripts/export-pretrained.js [runs/pretrain/int-model.json] [runs/pretrain/bytemlp.slim.safetensors]
// Encodes with slimgpu's compressed format, decodes it back, checks every integer, and prints the
// sizes (fp32, file), the id (first 16 bytes of sha256) and the parameter counts.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { decodeByteMlp, byteMlpFromJson, encodeByteMlp } from '../src/codec/pretrained/file.js';

const src = process.argv[2] ?? 'runs/pretrain/int-model.json';
const dst = process.argv[3] ?? 'runs/pretrain/bytemlp.slim.safetensors';
const json = JSON.parse(readFileSync(src, 'utf8')) as Record<string, unknown>;
const model = byteMlpFromJson(json);
const bytes = encodeByteMlp(model);
const back = decodeByteMlp(bytes, dst);
for (const k of ['emb', 'w1', 'b1', 'w2', 'b2', 'w3', 'b3'] as const) {
  const a = model[k],
    b = back[k];
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) throw new Error(`export: ${k} does not round-trip`);
}
writeFileSync(`${dst}.tmp`, bytes);
renameSync(`${dst}.tmp`, dst);
const params = ['emb', 'w1', 'w2', 'w3', 'b1', 'b2', 'b3'].reduce((s, k) => s + model[k as 'emb'].length, 0);
const weights = ['emb', 'w1', 'w2', 'w3'].map((k) => model[k as 'emb']);
const zeros = weights.reduce((s, w) => s + w.filter((x) => x === 0).length, 0);
const total = weights.reduce((s, w) => s + w.length, 0);
const id = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
console.log(
  JSON.stringify(
    {
      file: dst,
      bytes: bytes.length,
      fp32Bytes: params * 4,
      params,
      prunedFraction: +(zeros / total).toFixed(4),
      id,
      info: json.info && { ...(json.info as object), log: undefined },
    },
    null,
    1,
  ),
);
