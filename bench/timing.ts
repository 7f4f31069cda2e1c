// Timing of Dispatch lists: GPU timestamps (one compute pass per repetition with timestampWrites,
// all repetitions in one submission, resolveQuerySet, one readback) when the device has
// 'timestamp-query', else wall time per submission (submit → onSubmittedWorkDone).
import type { Gpu } from '../src/gpu/device.js';
import { recordDispatches, type Dispatch } from '../src/gpu/dispatch.js';
import { compileModule } from '../src/gpu/pipeline.js';

export type TimingKind = 'gpu-timestamp' | 'wall';

export class Timer {
  readonly kind: TimingKind;
  private querySet?: GPUQuerySet;
  private resolveBuf?: GPUBuffer;
  private readBuf?: GPUBuffer;
  private capacity = 0;

  constructor(
    private readonly gpu: Gpu,
    forceWall = false,
  ) {
    this.kind = gpu.hasTimestamps && !forceWall ? 'gpu-timestamp' : 'wall';
  }

  private ensure(reps: number): void {
    if (reps <= this.capacity) return;
    this.querySet?.destroy();
    this.resolveBuf?.destroy();
    this.readBuf?.destroy();
    this.capacity = Math.max(reps, 64);
    const dev = this.gpu.device;
    this.querySet = dev.createQuerySet({ label: 'bench.timestamps', type: 'timestamp', count: 2 * this.capacity });
    this.resolveBuf = dev.createBuffer({
      label: 'bench.timestamps.resolve',
      size: 16 * this.capacity,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readBuf = dev.createBuffer({
      label: 'bench.timestamps.read',
      size: 16 * this.capacity,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Runs `dispatches` once, untimed (warm-up, or the run whose output is validated). */
  async once(dispatches: readonly Dispatch[]): Promise<number> {
    const t0 = performance.now();
    const enc = this.gpu.device.createCommandEncoder({ label: 'bench.once' });
    const pass = enc.beginComputePass({ label: 'bench.once' });
    recordDispatches(pass, dispatches);
    pass.end();
    this.gpu.device.queue.submit([enc.finish()]);
    await this.gpu.device.queue.onSubmittedWorkDone();
    this.gpu.check();
    return performance.now() - t0;
  }

  /** Milliseconds of each of `reps` repetitions. */
  async time(dispatches: readonly Dispatch[], reps: number): Promise<number[]> {
    if (this.kind === 'wall') {
      const out: number[] = [];
      for (let i = 0; i < reps; i++) out.push(await this.once(dispatches));
      return out;
    }
    this.ensure(reps);
    const dev = this.gpu.device;
    const enc = dev.createCommandEncoder({ label: 'bench.timed' });
    for (let i = 0; i < reps; i++) {
      const pass = enc.beginComputePass({
        label: 'bench.timed',
        timestampWrites: { querySet: this.querySet!, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
      recordDispatches(pass, dispatches);
      pass.end();
    }
    enc.resolveQuerySet(this.querySet!, 0, 2 * reps, this.resolveBuf!, 0);
    enc.copyBufferToBuffer(this.resolveBuf!, 0, this.readBuf!, 0, 16 * reps);
    dev.queue.submit([enc.finish()]);
    await this.readBuf!.mapAsync(GPUMapMode.READ, 0, 16 * reps);
    const ts = new BigUint64Array(this.readBuf!.getMappedRange(0, 16 * reps).slice(0));
    this.readBuf!.unmap();
    this.gpu.check();
    const out: number[] = [];
    for (let i = 0; i < reps; i++) out.push(Number(ts[2 * i + 1]! - ts[2 * i]!) / 1e6);
    return out;
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolveBuf?.destroy();
    this.readBuf?.destroy();
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const NOOP_WGSL = '@compute @workgroup_size(1) fn main() {}';

/** A dispatch that does nothing: its time is the floor of every measurement. */
export async function noopDispatch(gpu: Gpu): Promise<Dispatch> {
  const module = await compileModule(gpu, 'bench-noop.wgsl', NOOP_WGSL);
  const pipeline = await gpu.device.createComputePipelineAsync({ label: 'bench.noop', layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bindGroup = gpu.device.createBindGroup({ label: 'bench.noop', layout: pipeline.getBindGroupLayout(0), entries: [] });
  return { label: 'noop', pipeline, bindGroup, workgroups: [1, 1, 1] };
}

/**
 * Times `dispatches`: one run to estimate, then repetitions in 3 rounds sized to the budget; the
 * median. `betweenRounds` runs after each round (a page yields to paint there).
 */
export async function measure(
  timer: Timer,
  dispatches: readonly Dispatch[],
  budgetMs: number,
  betweenRounds?: () => Promise<void>,
): Promise<{ ms: number; reps: number }> {
  const est = Math.max(await timer.once(dispatches), 0.01);
  const perRound = Math.min(40, Math.max(3, Math.round(budgetMs / 3 / est)));
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    times.push(...(await timer.time(dispatches, perRound)));
    await betweenRounds?.();
  }
  return { ms: median(times), reps: times.length };
}

/** GFLOPS and GB/s of a case timed at `ms`. */
export function rates(c: { flops?: number; bytes?: number }, ms: number): { gflops?: number; gbps?: number } {
  const r: { gflops?: number; gbps?: number } = {};
  if (c.flops) r.gflops = +(c.flops / (ms * 1e6)).toFixed(2);
  if (c.bytes) r.gbps = +(c.bytes / (ms * 1e6)).toFixed(2);
  return r;
}
