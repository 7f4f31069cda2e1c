// How an op runs its kernel records: submit and wait, and dispose the op's outputs when that fails
// (one copy for ops.ts and ops-transformer.ts).
import type { Gpu } from '../gpu/device.js';
import { run, type Dispatch } from '../gpu/dispatch.js';
import type { Tensor } from '../gpu/tensor.js';

/** Runs the records of `build`; disposes `outs` on failure. */
export async function runOwned(gpu: Gpu, build: () => Promise<Dispatch[]>, outs: Tensor[]): Promise<void> {
  try {
    await run(gpu, await build());
  } catch (e) {
    for (const o of outs) o.dispose();
    throw e;
  }
}

/** Runs a plan's records, then disposes its scratch; disposes `outs` on failure. */
export async function runPlan(gpu: Gpu, build: () => Promise<{ dispatches: Dispatch[]; scratch: Tensor[] }>, outs: Tensor[]): Promise<void> {
  let scratch: Tensor[] = [];
  try {
    await runOwned(
      gpu,
      async () => {
        const plan = await build();
        scratch = plan.scratch;
        return plan.dispatches;
      },
      outs,
    );
  } finally {
    for (const s of scratch) s.dispose();
  }
}
