// The scheduler: the submission loop every GPU training driver shares (the trainer, centroid
// fine-tuning, the codec's model). A chunk of steps is recorded into one command encoder and
// submitted; at most `maxInFlight` submissions are outstanding (the next chunk is recorded while
// the GPU runs the previous ones); after chosen steps the statistics buffer is copied into a
// MAP_READ buffer from a reusable ring (then cleared) and, optionally, the weights into one of a
// few snapshot buffers, so a readback never stalls the next submission and a diverged run can be
// rolled back to the weights of its last finite readback. The caller keeps the policy: which
// records a step runs, what goes into the per-step tables, when to read back, what a readback means.
import type { Gpu } from '../gpu/device.js';
import { encodeDispatches, type Dispatch } from '../gpu/dispatch.js';

export interface SchedulerOptions {
  /** The statistics buffer read back (and cleared) after chosen steps, and its size in bytes. */
  stats: { buffer: GPUBuffer; bytes: number };
  /** Copy this buffer (the weights) into a snapshot at every readback; `count` snapshots in a ring. */
  snapshot?: { buffer: GPUBuffer; bytes: number; count?: number };
  /** Submissions in flight at most (default 2). */
  maxInFlight?: number;
}

/** One statistics readback: the stats after `step` steps, and the snapshot holding the weights then. */
export interface Readback {
  step: number;
  stats: Float32Array;
  /** Index of the snapshot (−1 without snapshots). */
  snapshot: number;
}

export class Scheduler {
  private statPool: GPUBuffer[] = [];
  private snapshots: GPUBuffer[] = [];
  private snapIdx = 0;
  private inFlight: Promise<unknown>[] = [];
  private pending = new Set<Promise<void>>();
  /** The first readback that failed (a lost device): kept, never left as an unhandled rejection. */
  private failed: unknown;
  private readonly maxInFlight: number;
  /** Milliseconds spent recording and submitting. */
  recordMs = 0;

  constructor(
    readonly gpu: Gpu,
    private o: SchedulerOptions,
    private onReadback: (r: Readback) => void,
  ) {
    this.maxInFlight = Math.max(1, o.maxInFlight ?? 2);
    const s = o.snapshot;
    if (s)
      this.snapshots = Array.from({ length: Math.max(1, s.count ?? 3) }, (_, i) =>
        gpu.device.createBuffer({ label: `snapshot${i}`, size: s.bytes, usage: 0x4 | 0x8 }),
      );
  }

  private staging(): GPUBuffer {
    return this.statPool.pop() ?? this.gpu.device.createBuffer({ label: 'stats.readback', size: this.o.stats.bytes, usage: 0x1 | 0x8 });
  }

  /**
   * Records steps [from, to) into one encoder — `records(t)` are step t's dispatches, `extra(enc, t)`
   * optional work after them — reads statistics back after every step t with `readAfter(t)`, submits,
   * and waits only while more than maxInFlight submissions are outstanding.
   */
  async submit(
    from: number,
    to: number,
    records: (t: number) => readonly Dispatch[],
    readAfter: (t: number) => boolean,
    extra?: (enc: GPUCommandEncoder, t: number) => void,
  ): Promise<void> {
    const { gpu } = this;
    gpu.assertAlive();
    const t0 = performance.now();
    const enc = gpu.device.createCommandEncoder({ label: `steps ${from}..${to}` });
    const reads: [GPUBuffer, number, number][] = [];
    for (let t = from; t < to; t++) {
      encodeDispatches(enc, records(t), `step ${t}`);
      extra?.(enc, t);
      if (readAfter(t)) {
        const buf = this.staging();
        enc.copyBufferToBuffer(this.o.stats.buffer, 0, buf, 0, this.o.stats.bytes);
        enc.clearBuffer(this.o.stats.buffer);
        let snap = -1;
        if (this.snapshots.length) {
          snap = this.snapIdx++ % this.snapshots.length;
          enc.copyBufferToBuffer(this.o.snapshot!.buffer, 0, this.snapshots[snap]!, 0, this.o.snapshot!.bytes);
        }
        reads.push([buf, t + 1, snap]);
      }
    }
    gpu.device.queue.submit([enc.finish()]);
    this.recordMs += performance.now() - t0;
    for (const [buf, step, snapshot] of reads) {
      const p: Promise<void> = buf
        .mapAsync(0x1)
        .then(() => {
          const stats = new Float32Array(buf.getMappedRange().slice(0));
          buf.unmap();
          this.statPool.push(buf);
          this.onReadback({ step, stats, snapshot });
        })
        .catch((e: unknown) => {
          this.failed ??= e;
        })
        .finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
    this.inFlight.push(gpu.device.queue.onSubmittedWorkDone());
    if (this.inFlight.length > this.maxInFlight) await this.inFlight.shift();
    gpu.check();
    if (this.failed) throw this.failed;
  }

  /** Waits for every submission and every readback. */
  async drain(): Promise<void> {
    await Promise.all(this.inFlight.splice(0));
    await Promise.all([...this.pending]);
    this.gpu.check();
    if (this.failed) throw this.failed;
  }

  /** Copies snapshot `index` back into `target` (the weights) and clears `clear` (e.g. optimizer moments). */
  async restore(index: number, target: GPUBuffer, clear: GPUBuffer[] = []): Promise<void> {
    const enc = this.gpu.device.createCommandEncoder({ label: 'restore' });
    enc.copyBufferToBuffer(this.snapshots[index]!, 0, target, 0, this.o.snapshot!.bytes);
    for (const b of clear) enc.clearBuffer(b);
    this.gpu.device.queue.submit([enc.finish()]);
    await this.gpu.device.queue.onSubmittedWorkDone();
  }

  async dispose(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    for (const s of this.snapshots) s.destroy();
    for (const b of this.statPool) b.destroy();
    this.snapshots = [];
    this.statPool = [];
  }
}
