// A GPT language model driven step by step — the API the prequential codec (src/codec) uses.
//
//   const lm = await GptModel.create(gpu, 'gpt:2-64-4-64', { seed: 1, windows: 16, capacity: text.length });
//   const logits = await lm.logits(tokens);   // tokens: B·T byte values → (B·T, 256) next-byte logits,
//                                             // one GPU forward and one readback per call
//   await lm.appendText(bytes);               // grow the training text (a device buffer) by bytes
//   await lm.train(steps);                    // `steps` deterministic training steps on windows of T + 1
//                                             // bytes of the text appended so far
//   lm.dispose();
//
// Determinism: the weights come from (preset, seed); each training step draws its B windows by a
// seeded integer hash of (seed, step, window) over the valid prefix (no CPU randomness, no float
// atomics, fixed reduction orders), and the optimizer's table rows depend only on the step index.
// So the same sequence of appendText/train calls gives the same weights bit for bit on the same
// adapter. While the text holds fewer than T + 1 bytes, train() does nothing (there is no window).
// Logits are causal in their arithmetic: row j of a window depends only on its tokens 0..j.
import type { Gpu } from '../gpu/device.js';
import { readBuffer } from '../gpu/tensor.js';
import { encodeDispatches } from '../gpu/dispatch.js';
import { LOSS_STATS } from '../kernels/loss.js';
import { lrAt, type LrSchedule } from './schedule.js';
import { modelFromName } from './model.js';
import { parseGptName, GPT_VOCAB } from './presets.js';
import { Network, uploadText } from './network.js';
import { hyperRow, type OptimizerKind } from './optimizer.js';
import { StepPlan, type DeviceData } from './plan.js';
import { Scheduler } from './scheduler.js';

export interface GptModelOptions {
  /** Initialisation and window-sampling seed (default 0). */
  seed?: number;
  /** Windows per forward pass and per training step (B, default 16). */
  windows?: number;
  /** Bytes of text the model may be given in all (grown on demand when exceeded). */
  capacity?: number;
  optimizer?: OptimizerKind;
  /** Learning rate (default 1e-3 AdamW, 0.1 SGD), constant after `warmup` steps. */
  lr?: number;
  warmup?: number;
  beta1?: number;
  beta2?: number;
  weightDecay?: number;
  momentum?: number;
  clip?: number;
  /** Steps recorded per submission (default 8). */
  stepsPerSubmit?: number;
}

export class GptModel {
  private textLen = 0;
  private step = 0;
  private textData!: DeviceData & { dispose(): void };
  private trainPlan?: StepPlan;
  private logitsPlan!: StepPlan;
  private readback!: GPUBuffer;
  private sch?: Scheduler;

  private constructor(
    readonly net: Network,
    readonly windows: number,
    readonly context: number,
    private o: GptModelOptions,
    private capacity: number,
  ) {}

  /** A GPT for `preset` (gpt:L-D-H-T) with seeded weights. */
  static async create(gpu: Gpu, preset: string, o: GptModelOptions = {}): Promise<GptModel> {
    const cfg = parseGptName(preset);
    if (!cfg) throw new Error(`GptModel: preset must be gpt:L-D-H-T, got '${preset}'`);
    const B = o.windows ?? 16;
    if (!Number.isInteger(B) || B < 1) throw new Error(`GptModel: windows must be a positive integer, got ${B}`);
    const cap = Math.max(o.capacity ?? 1 << 16, cfg.T + 2);
    const net = Network.create(gpu, modelFromName(preset, { input: [cfg.T], numClasses: GPT_VOCAB }), o.seed ?? 0);
    const m = new GptModel(net, B, cfg.T, o, cap);
    try {
      await m.build();
    } catch (e) {
      m.dispose();
      throw e;
    }
    return m;
  }

  private get kind(): OptimizerKind {
    return this.o.optimizer ?? 'adamw';
  }

  private async build(): Promise<void> {
    const { net, windows: B, context: T } = this;
    const gpu = net.gpu;
    this.textData = uploadText(gpu, { kind: 'text', name: 'lm', bytes: new Uint8Array(0) }, T, 'train', this.capacity);
    this.logitsPlan ??= await StepPlan.build(gpu, net.spec, net.layers, net.arena, { ...this.textData, n: 1 }, B, { train: false, gather: false });
    this.readback ??= gpu.device.createBuffer({ label: 'lm.logits.readback', size: this.logitsPlan.output.size * 4, usage: 0x1 | 0x8 });
  }

  private async ensureTrainPlan(): Promise<StepPlan> {
    if (this.trainPlan) return this.trainPlan;
    const gpu = this.net.gpu;
    if (this.kind === 'adamw') this.net.arena.ensureVariance();
    const plan = await StepPlan.build(gpu, this.net.spec, this.net.layers, this.net.arena, this.textData, this.windows, {
      optimizer: this.kind,
      clip: (this.o.clip ?? 0) > 0,
    });
    this.trainPlan = plan;
    this.sch = new Scheduler(gpu, { stats: { buffer: plan.stats.buffer, bytes: LOSS_STATS.size * 4 } }, () => {});
    return plan;
  }

  /**
   * Next-byte logits (B·T, 256) for B windows of T tokens (window-major byte values); with `row`,
   * only that row of every window comes back, (B, 256) (the codec's decoder needs one per pass).
   */
  async logits(tokens: Uint32Array, row?: number): Promise<Float32Array> {
    const { windows: B, context: T } = this;
    if (!(tokens instanceof Uint32Array) || tokens.length !== B * T)
      throw new Error(
        `GptModel.logits: tokens must be a Uint32Array of B·T = ${B}·${T} = ${B * T} values, got ${(tokens as { length?: number })?.length}`,
      );
    for (let i = 0; i < tokens.length; i++) if (tokens[i]! > 255) throw new Error(`GptModel.logits: token ${i} is ${tokens[i]}, not a byte value`);
    if (row !== undefined && !(Number.isInteger(row) && row >= 0 && row < T))
      throw new Error(`GptModel.logits: row must be an integer in [0, ${T}), got ${row}`);
    const gpu = this.net.gpu;
    const p = this.logitsPlan;
    p.input.write(tokens);
    const enc = gpu.device.createCommandEncoder({ label: 'lm.logits' });
    encodeDispatches(enc, p.evalStep, 'lm.logits');
    const V = GPT_VOCAB * 4;
    if (row === undefined) enc.copyBufferToBuffer(p.output.buffer, p.output.offset, this.readback, 0, p.output.size * 4);
    else for (let b = 0; b < B; b++) enc.copyBufferToBuffer(p.output.buffer, p.output.offset + (b * T + row) * V, this.readback, b * V, V);
    gpu.device.queue.submit([enc.finish()]);
    const bytes = row === undefined ? p.output.size * 4 : B * V;
    await this.readback.mapAsync(0x1, 0, bytes);
    const out = new Float32Array(this.readback.getMappedRange(0, bytes).slice(0));
    this.readback.unmap();
    gpu.check();
    return out;
  }

  /** Appends bytes to the training text (a device buffer; grown and rebuilt when full). */
  async appendText(bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) throw new Error('GptModel.appendText: bytes must be a Uint8Array');
    if (bytes.length === 0) return;
    const gpu = this.net.gpu;
    if (this.textLen + bytes.length > this.capacity) {
      // grow: keep the text so far, rebuild the plans that bind the buffer
      const old = new Uint8Array(await readBuffer(gpu, this.textData.inputs.buffer, 0, Math.ceil(this.textLen / 4) * 4)).subarray(0, this.textLen);
      this.capacity = Math.max(2 * this.capacity, this.textLen + bytes.length);
      await this.sch?.drain();
      await this.sch?.dispose();
      this.sch = undefined;
      this.trainPlan?.destroy();
      this.trainPlan = undefined;
      this.textData.dispose();
      this.textData = uploadText(gpu, { kind: 'text', name: 'lm', bytes: old }, this.context, 'train', this.capacity);
    }
    // writes must be 4-byte aligned: rewrite the partial word at the start
    const start = this.textLen & ~3;
    const head = this.textLen - start;
    const words = new Uint8Array(Math.ceil((head + bytes.length) / 4) * 4);
    if (head > 0) words.set(new Uint8Array(await readBuffer(gpu, this.textData.inputs.buffer, start, 4)).subarray(0, head));
    words.set(bytes, head);
    gpu.device.queue.writeBuffer(this.textData.inputs.buffer, start, words);
    this.textLen += bytes.length;
  }

  /** Bytes of training text so far. */
  get textLength(): number {
    return this.textLen;
  }

  /** Steps trained so far. */
  get steps(): number {
    return this.step;
  }

  /** `steps` training steps on windows of the text so far (none while it is shorter than T + 1 bytes). */
  async train(steps: number): Promise<void> {
    if (!Number.isInteger(steps) || steps < 0) throw new Error(`GptModel.train: steps must be a non-negative integer, got ${steps}`);
    const count = this.textLen - this.context;
    if (steps === 0 || count < 1) return;
    const plan = await this.ensureTrainPlan();
    const o = this.o;
    const kind = this.kind;
    const lrs: LrSchedule = { kind: 'constant', lr: o.lr ?? (kind === 'adamw' ? 1e-3 : 0.1), totalSteps: 1, warmup: o.warmup };
    const h = { momentum: o.momentum ?? 0.9, l2: o.weightDecay ?? (kind === 'adamw' ? 0.1 : 0), beta1: o.beta1, beta2: o.beta2, clip: o.clip };
    const per = Math.max(1, Math.min(o.stepsPerSubmit ?? 8, 256));
    plan.setHashedWindows(this.step, count, o.seed ?? 0);
    const end = this.step + steps;
    for (let t = this.step; t < end; t += per) {
      const to = Math.min(end, t + per);
      plan.setHyperRows(
        t,
        Array.from({ length: to - t }, (_, i) => hyperRow(kind, h, t + i, lrAt(lrs, t + i))),
      );
      await this.sch!.submit(
        t,
        to,
        () => plan.train,
        () => false,
      );
    }
    await this.sch!.drain();
    this.step = end;
  }

  dispose(): void {
    void this.sch?.dispose();
    this.trainPlan?.destroy();
    this.logitsPlan?.destroy();
    this.readback?.destroy();
    this.textData?.dispose();
    this.net.dispose();
  }
}
