// The Chromium side of `npm run bench -- infer --browser`: window.__infer(base64 file, reps, batch)
// runs bench/infer-core.ts's comparison (dense path vs CompressedModel csr / dense-with-codebook).
import { CompressedModel, createGpu, type Gpu } from '../src/index.js';
import { compareRunners, denseRunner, type Runner } from '../bench/infer-core.js';

let gpuP: Promise<Gpu> | undefined;
const out = document.getElementById('out')!;

async function bench(bytes: Uint8Array, reps: number, batch: number): Promise<Record<string, unknown>> {
  const gpu = await (gpuP ??= createGpu());
  const dense = await denseRunner(gpu, bytes);
  const csr = await CompressedModel.load(gpu, bytes, { format: 'csr' });
  const dcb = await CompressedModel.load(gpu, bytes, { format: 'dense' });
  try {
    const runners: Record<string, Runner> = { dense: dense.run, csr: (x) => csr.predict(x), dcb: (x) => dcb.predict(x) };
    const D = csr.inputShape.reduce((a, b) => a * b, 1);
    const res = await compareRunners(runners, D, [1, batch], reps, (m) => console.log(m));
    return {
      model: csr.spec.name,
      fileBytes: bytes.length,
      denseWeightBytes: csr.denseBytes,
      weightBytes: { csr: csr.weightBytes, dcb: dcb.weightBytes },
      device: gpu.info.description,
      ...res,
    };
  } finally {
    csr.dispose();
    dcb.dispose();
    dense.dispose();
  }
}

(window as unknown as { __infer: unknown }).__infer = async (b64: string, reps: number, batch: number) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const r = await bench(bytes, reps, batch);
  out.textContent = JSON.stringify(r, null, 1);
  return r;
};
document.getElementById('file')!.addEventListener('change', async (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (!f) return;
  out.textContent = 'running…';
  try {
    out.textContent = JSON.stringify(await bench(new Uint8Array(await f.arrayBuffer()), 20, 64), null, 1);
  } catch (err) {
    out.textContent = String(err);
  }
});
