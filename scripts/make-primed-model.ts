// Writes a primed model file (src/codec/pretrained/primed.ts): a bytemlp model file + a prime text
// (scripts/make-prime.sh), gzip level 9, in one safetensors file whose hash is the new model's id.
//   node dist/scripts/make-primed-model.js MODEL PRIME OUT [--cm-only BYTES] [--memory LOG2] [--source NAME]...
// e.g. node dist/scripts/make-primed-model.js models/bytemlp-2.slim.safetensors runs/prime/prime.txt \
//        runs/prime/bytemlp-2-fortunes.slim.safetensors --cm-only 262144 --source fortunes
// Checks that the file reads back (model and text), prints its size and id. A new model gets a new
// file under models/ and a new registry entry, newest first (src/codec/pretrained/registry.ts).
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { decodeByteMlp } from '../src/codec/pretrained/file.js';
import { primeText, readPrimedFile, writePrimedFile } from '../src/codec/pretrained/primed.js';

const args = process.argv.slice(2);
const opt = (k: string, d: string) => (args.includes(k) ? args[args.indexOf(k) + 1]! : d);
const [modelPath, primePath, out] = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
if (!modelPath || !primePath || !out) {
  console.error('usage: make-primed-model MODEL PRIME OUT [--cm-only BYTES] [--memory LOG2] [--source NAME]...');
  process.exit(2);
}
const model = new Uint8Array(readFileSync(modelPath));
decodeByteMlp(model, modelPath); // a bytemlp file, or stop here
const text = new Uint8Array(readFileSync(primePath));
const gzip = new Uint8Array(gzipSync(text, { level: 9 }));
const sources = args.flatMap((a, i) => (args[i - 1] === '--source' ? [a] : []));
const info = {
  bytes: text.length,
  cmOnly: Number(opt('--cm-only', '0')),
  memoryLog2: Number(opt('--memory', '22')),
  gzipBytes: gzip.length,
  sources,
};
const bytes = writePrimedFile({ model, gzip, info });
const back = readPrimedFile(bytes, out);
const again = await primeText(back, out);
if (!Buffer.from(again).equals(Buffer.from(text)) || !Buffer.from(back.model).equals(Buffer.from(model)))
  throw new Error('make-primed-model: the file does not read back');
writeFileSync(`${out}.tmp`, bytes);
renameSync(`${out}.tmp`, out);
const id = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
console.log(
  JSON.stringify({ file: out, bytes: bytes.length, modelBytes: model.length, primeBytes: text.length, gzipBytes: gzip.length, id, info }, null, 1),
);
