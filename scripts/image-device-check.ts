// Cross-device check of the image codec: decodes the given .slimg files (or, with --encode, first
// encodes the held-out patches) and prints SHA-256 of every decoded latent and reconstruction, so
// two runs on different adapters can be compared line by line:
//   node dist/scripts/image-device-check.js --encode /tmp/slimg-check      # writes /tmp/slimg-check/*.slimg
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node dist/scripts/image-device-check.js /tmp/slimg-check
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGpu } from '../src/gpu/device.js';
import { ImageCodec } from '../src/image/codec.js';
import { loadImageModel } from '../src/image/node.js';

const sha = (b: ArrayBufferView) =>
  createHash('sha256')
    .update(new Uint8Array(b.buffer, b.byteOffset, b.byteLength))
    .digest('hex')
    .slice(0, 16);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const encode = args[0] === '--encode';
  const dir = encode ? args[1]! : args[0]!;
  if (!dir) throw new Error('usage: image-device-check.js [--encode] DIR');
  const gpu = await createGpu();
  const codec = new ImageCodec(gpu, loadImageModel);
  console.log(`adapter: ${gpu.info.description || gpu.info.device} (${gpu.info.vendor})`);
  if (encode) {
    mkdirSync(dir, { recursive: true });
    const raw = readFileSync('results/cache/image-patches/photo-rgb64-heldout.u8');
    for (let i = 0; i < 6; i++) {
      const k = i * 40;
      const img = { width: 64, height: 64, channels: 3, data: new Uint8Array(raw.subarray(k * 12288, (k + 1) * 12288)) };
      writeFileSync(join(dir, `patch${k}-q${1 + i}.slimg`), await codec.compress(img, { quality: 1 + i }));
    }
  }
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.slimg'))
    .sort()) {
    const bytes = new Uint8Array(readFileSync(join(dir, f)));
    const lat = await codec.decodeLatents(bytes, f);
    const img = await codec.decompress(bytes, f);
    console.log(`${f}: latent ${sha(Int32Array.from(lat.q.flatMap((q) => Array.from(q))))} image ${sha(img.data)}`);
  }
  codec.dispose();
  gpu.destroy();
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
