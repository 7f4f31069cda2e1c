// The end-of-run compression report: per layer and total — parameters, non-zeros, sparsity, bits
// per weight, bytes dense (fp32) and bytes as written by the compressed export (when one was
// written) — plus the task metrics and timing. Printed as a table and saved as JSON.

export interface LayerReport {
  name: string;
  kind: string;
  shape: number[];
  params: number;
  nonzeros: number;
  sparsity: number;
  /** Bits per kept weight: 32 for fp32, b after b-bit weight sharing. */
  bitsPerWeight: number;
  denseBytes: number;
  /** Bytes this layer takes in the compressed export file (undefined until one is written). */
  compressedBytes?: number;
  compressionRatio?: number;
}

export interface RunReport {
  model: string;
  data: string;
  task: 'classification' | 'autoencoder' | 'regression';
  layers: LayerReport[];
  total: {
    params: number;
    nonzeros: number;
    sparsity: number;
    denseBytes: number;
    /** Size of the exported compressed file, when one was written. */
    compressedBytes?: number;
    compressionRatio?: number;
    /** denseBytes / (bytes of the non-zeros as fp32 + their indices) — the pruning-only figure. */
    nonzeroRatio: number;
  };
  metrics: {
    trainLoss?: number;
    testLoss: number;
    testAccuracy?: number;
    testMse?: number;
    testPsnr?: number;
    denseTestAccuracy?: number;
  };
  timing: {
    steps: number;
    epochs: number;
    wallSeconds: number;
    samplesPerSec: number;
    msPerStep: number;
    cpuRecordShare: number;
  };
  config: Record<string, unknown>;
  adapter?: string;
}

export function layerStats(name: string, kind: string, shape: number[], values: Float32Array, bitsPerWeight = 32): LayerReport {
  let nz = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) nz++;
  return {
    name, kind, shape, params: values.length, nonzeros: nz,
    sparsity: values.length ? 1 - nz / values.length : 0,
    bitsPerWeight, denseBytes: values.length * 4,
  };
}

export function totals(layers: LayerReport[]): RunReport['total'] {
  const params = layers.reduce((s, l) => s + l.params, 0);
  const nonzeros = layers.reduce((s, l) => s + l.nonzeros, 0);
  const denseBytes = params * 4;
  return {
    params, nonzeros, sparsity: params ? 1 - nonzeros / params : 0, denseBytes,
    nonzeroRatio: params / Math.max(1, nonzeros),
  };
}

const fmtBytes = (b: number | undefined) => b === undefined ? '-' : b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`;
const pct = (x: number | undefined) => x === undefined ? '-' : `${(100 * x).toFixed(2)}%`;

/** The report as a fixed-width text table. */
export function formatReport(r: RunReport): string {
  const head = ['layer', 'shape', 'params', 'non-zeros', 'sparsity', 'bits', 'dense', 'compressed', 'ratio'];
  const rows = r.layers.map((l) => [
    l.name, `[${l.shape.join('×')}]`, String(l.params), String(l.nonzeros), pct(l.sparsity), String(l.bitsPerWeight),
    fmtBytes(l.denseBytes), fmtBytes(l.compressedBytes), l.compressionRatio ? `${l.compressionRatio.toFixed(1)}×` : '-',
  ]);
  const t = r.total;
  rows.push(['total', '', String(t.params), String(t.nonzeros), pct(t.sparsity), '', fmtBytes(t.denseBytes), fmtBytes(t.compressedBytes), t.compressionRatio ? `${t.compressionRatio.toFixed(1)}×` : '-']);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  const out = [`slimgpu report — model ${r.model}, data ${r.data}`, line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)];
  out.push('');
  out.push(`non-zero weights: ${t.nonzeros} of ${t.params} (${(t.params / Math.max(1, t.nonzeros)).toFixed(1)}× fewer)` +
    (t.compressionRatio ? `; compressed file ${fmtBytes(t.compressedBytes)} = ${t.compressionRatio.toFixed(1)}× smaller than fp32 dense` : ''));
  const m = r.metrics;
  if (m.testAccuracy !== undefined) out.push(`test accuracy: ${pct(m.testAccuracy)}   test loss: ${m.testLoss.toFixed(4)}` + (m.trainLoss !== undefined ? `   train loss: ${m.trainLoss.toFixed(4)}` : ''));
  if (m.testMse !== undefined) out.push(`test ${r.task === 'autoencoder' ? 'reconstruction ' : ''}MSE: ${m.testMse.toExponential(3)}` + (m.testPsnr !== undefined ? `   PSNR: ${m.testPsnr.toFixed(2)} dB` : ''));
  const tm = r.timing;
  out.push(`timing: ${tm.steps} steps (${tm.epochs.toFixed(2)} epochs) in ${tm.wallSeconds.toFixed(1)} s — ${tm.samplesPerSec.toFixed(0)} samples/s, ${tm.msPerStep.toFixed(2)} ms/step, CPU recording ${pct(tm.cpuRecordShare)} of wall time`);
  if (r.adapter) out.push(`adapter: ${r.adapter}`);
  return out.join('\n');
}
