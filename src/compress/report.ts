// The end-of-run compression report: per layer and total — parameters, non-zeros, sparsity, bits
// per weight, bytes dense (fp32) and bytes as written by the compressed export (when one was
// written) — plus the task metrics and timing. Printed as a table and saved as JSON.

export interface LayerReport {
  name: string;
  kind: string;
  shape: number[];
  /** Weights of the layer (biases are counted in denseBytes and compressedBytes, not here). */
  params: number;
  nonzeros: number;
  sparsity: number;
  /** Bias values of the layer. */
  biasParams: number;
  /** Bits per kept weight: 32 for fp32, b after b-bit weight sharing. */
  bitsPerWeight: number;
  /** fp32 bytes of the layer's weights and biases. */
  denseBytes: number;
  /** Bytes this layer takes in the compressed export file: index, values, codebook, biases. */
  compressedBytes?: number;
  compressionRatio?: number;
}

export interface RunReport {
  model: string;
  data: string;
  task: 'classification' | 'autoencoder' | 'regression' | 'language';
  layers: LayerReport[];
  total: {
    params: number;
    nonzeros: number;
    sparsity: number;
    /** fp32 bytes of every weight and bias. */
    denseBytes: number;
    /** Size of the compressed export file: every byte, header included. */
    compressedBytes?: number;
    /** The file's header (metadata and tensor table), included in compressedBytes. */
    headerBytes?: number;
    /** denseBytes / compressedBytes. */
    compressionRatio?: number;
    /** params / nonzeros: how many times fewer non-zero weights. */
    nonzeroRatio: number;
  };
  metrics: {
    trainLoss?: number;
    /** Test accuracy of the pruned model before weight sharing (when sharing was applied). */
    prunedTestAccuracy?: number;
    prunedTestMse?: number;
    testLoss: number;
    testAccuracy?: number;
    testMse?: number;
    testPsnr?: number;
    denseTestAccuracy?: number;
    /** Language models: mean cross-entropy in bits per byte (loss / ln 2), train (last logged interval) and validation. */
    trainBitsPerByte?: number;
    testBitsPerByte?: number;
    /** Validation perplexity per byte, e^loss. */
    testPerplexity?: number;
    /** Validation bits per byte of the pruned model before weight sharing. */
    prunedTestBitsPerByte?: number;
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

export function layerStats(name: string, kind: string, shape: number[], values: Float32Array, biasParams = 0, bitsPerWeight = 32): LayerReport {
  let nz = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) nz++;
  return {
    name,
    kind,
    shape,
    params: values.length,
    nonzeros: nz,
    sparsity: values.length ? 1 - nz / values.length : 0,
    biasParams,
    bitsPerWeight,
    denseBytes: (values.length + biasParams) * 4,
  };
}

/** Per-layer byte counts of the compressed export (from compressedSizes of the file). */
export interface FileBytes {
  fileBytes: number;
  headerBytes: number;
  layers: { layer: string; bytes: number; bits: number }[];
}

/** Totals; with `file`, the compressed sizes are the file's own bytes (header included in the total). */
export function totals(layers: LayerReport[], file?: FileBytes): RunReport['total'] {
  if (file) {
    for (const l of layers) {
      const f = file.layers.find((x) => x.layer === l.name);
      if (!f) continue;
      l.compressedBytes = f.bytes;
      l.bitsPerWeight = f.bits;
      l.compressionRatio = l.denseBytes / Math.max(1, f.bytes);
    }
  }
  const params = layers.reduce((s, l) => s + l.params, 0);
  const nonzeros = layers.reduce((s, l) => s + l.nonzeros, 0);
  const denseBytes = layers.reduce((s, l) => s + l.denseBytes, 0);
  return {
    params,
    nonzeros,
    sparsity: params ? 1 - nonzeros / params : 0,
    denseBytes,
    nonzeroRatio: params / Math.max(1, nonzeros),
    ...(file ? { compressedBytes: file.fileBytes, headerBytes: file.headerBytes, compressionRatio: denseBytes / file.fileBytes } : {}),
  };
}

const fmtBytes = (b: number | undefined) =>
  b === undefined ? '-' : b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`;
const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(2)}%`);

/** The report as a fixed-width text table. */
export function formatReport(r: RunReport): string {
  const head = ['layer', 'shape', 'params', 'non-zeros', 'sparsity', 'bits', 'dense', 'compressed', 'ratio'];
  const rows = r.layers.map((l) => [
    l.name,
    `[${l.shape.join('×')}]`,
    String(l.params),
    String(l.nonzeros),
    pct(l.sparsity),
    String(l.bitsPerWeight),
    fmtBytes(l.denseBytes),
    fmtBytes(l.compressedBytes),
    l.compressionRatio ? `${l.compressionRatio.toFixed(1)}×` : '-',
  ]);
  const t = r.total;
  if (t.headerBytes !== undefined) rows.push(['(file header)', '', '', '', '', '', '', fmtBytes(t.headerBytes), '']);
  rows.push([
    'total',
    '',
    String(t.params),
    String(t.nonzeros),
    pct(t.sparsity),
    '',
    fmtBytes(t.denseBytes),
    fmtBytes(t.compressedBytes),
    t.compressionRatio ? `${t.compressionRatio.toFixed(1)}×` : '-',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  const out = [`slimgpu report — model ${r.model}, data ${r.data}`, line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)];
  out.push('');
  out.push(
    `non-zero weights: ${t.nonzeros} of ${t.params} (${(t.params / Math.max(1, t.nonzeros)).toFixed(1)}× fewer)` +
      (t.compressionRatio ? `; compressed file ${fmtBytes(t.compressedBytes)} = ${t.compressionRatio.toFixed(1)}× smaller than fp32 dense` : ''),
  );
  const m = r.metrics;
  if (m.testBitsPerByte !== undefined) {
    out.push(
      `validation: ${m.testBitsPerByte.toFixed(4)} bits/byte   perplexity ${m.testPerplexity?.toFixed(3)}` +
        (m.trainBitsPerByte !== undefined ? `   train: ${m.trainBitsPerByte.toFixed(4)} bits/byte` : '') +
        (m.prunedTestBitsPerByte !== undefined ? `   (pruned, before weight sharing: ${m.prunedTestBitsPerByte.toFixed(4)} bits/byte)` : '') +
        (m.testAccuracy !== undefined ? `   next-byte accuracy ${pct(m.testAccuracy)}` : ''),
    );
  } else if (m.testAccuracy !== undefined)
    out.push(
      `test accuracy: ${pct(m.testAccuracy)}   test loss: ${m.testLoss.toFixed(4)}` +
        (m.trainLoss !== undefined ? `   train loss: ${m.trainLoss.toFixed(4)}` : '') +
        (m.prunedTestAccuracy !== undefined ? `   (pruned, before weight sharing: ${pct(m.prunedTestAccuracy)})` : ''),
    );
  if (m.testMse !== undefined)
    out.push(
      `test ${r.task === 'autoencoder' ? 'reconstruction ' : ''}MSE: ${m.testMse.toExponential(3)}` +
        (m.testPsnr !== undefined ? `   PSNR: ${m.testPsnr.toFixed(2)} dB` : '') +
        (m.prunedTestMse !== undefined ? `   (pruned, before weight sharing: ${m.prunedTestMse.toExponential(3)})` : ''),
    );
  const tm = r.timing;
  if (tm.steps > 0)
    out.push(
      `timing: ${tm.steps} steps (${tm.epochs.toFixed(2)} epochs) in ${tm.wallSeconds.toFixed(1)} s — ${tm.samplesPerSec.toFixed(0)} ${r.task === 'language' ? 'tokens' : 'samples'}/s, ${tm.msPerStep.toFixed(2)} ms/step, CPU recording ${pct(tm.cpuRecordShare)} of wall time`,
    );
  if (r.adapter) out.push(`adapter: ${r.adapter}`);
  return out.join('\n');
}
