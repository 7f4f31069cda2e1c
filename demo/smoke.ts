// The browser check page: device, round trip, matmul vs the CPU reference. Sets window.__slimgpu
// with the results (read by tests/browser.test.ts).
import { createGpu, createTensor, ops, NO_ADAPTER_HELP } from '../src/index.js';
import { matmulCpu } from '../src/reference/matmul.js';

interface SmokeResult {
  ok: boolean;
  error?: string;
  adapter?: unknown;
  roundTrip?: number[];
  matmulMaxErr?: number;
}

async function main(): Promise<SmokeResult> {
  const out = document.getElementById('out')!;
  if (!('gpu' in navigator)) {
    const msg = 'This browser has no WebGPU (navigator.gpu is missing).\n' + NO_ADAPTER_HELP;
    out.textContent = msg;
    return { ok: false, error: msg };
  }
  const q = new URLSearchParams(location.search);
  const gpu = await createGpu(q.get('compat') ? { featureLevel: 'compatibility' } : {});
  const x = createTensor(gpu, [4], [1, 2, 3, 4]);
  const roundTrip = Array.from(await x.read());
  const [M, N, K] = [37, 53, 29];
  const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i));
  const c = await (await ops.matmul(createTensor(gpu, [M, K], a), createTensor(gpu, [K, N], b))).read();
  const ref = matmulCpu(a, [M, K], b, [K, N]);
  let matmulMaxErr = 0;
  for (let i = 0; i < ref.length; i++) matmulMaxErr = Math.max(matmulMaxErr, Math.abs(c[i]! - ref[i]!));
  const res: SmokeResult = { ok: true, adapter: gpu.info, roundTrip, matmulMaxErr };
  out.textContent = JSON.stringify(res, null, 2);
  return res;
}

(window as unknown as { __slimgpu: Promise<SmokeResult> }).__slimgpu = main().catch((e: Error) => {
  document.getElementById('out')!.textContent = 'error: ' + e.message;
  return { ok: false, error: e.message };
});
