// The end-of-run report in the page: the run's RunReport, its cards and per-layer table, downloads.
import { layerStats, totals, type EvalResult, type Network, type RunReport, type TrainSummary } from '../src/index.js';
import { COMPRESSED_EXTENSION, type CompressedSizes } from '../src/io/export.js';
import type { FileBytes } from '../src/compress/report.js';
import { $, fmtBytes, fmtInt, pct } from './page.js';
import { showReportTable, summaryCard } from './report-view.js';

/** The settings of a demo run that the report records. */
export interface DemoConfig {
  model: string;
  train: number;
  test: number;
  sparsity: number;
  schedule: 'constant' | 'polynomial';
  pruning: 'layer' | 'global';
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  l2: number;
  seed: number;
  /** Weight sharing: bits per dense layer (conv layers get 8), 0 = off. */
  bits: number;
  /** Centroid fine-tuning steps after sharing (default: min(100, an epoch)). */
  fineTune?: number;
  maxSteps?: number;
  logEvery?: number;
  perSubmit: number;
  inspectMs: number;
  /** Fault injection: `device-lost@step=N` (URL parameter fault). */
  fault?: string;
}

export async function buildReport(
  net: Network,
  cfg: DemoConfig,
  adapter: string | undefined,
  test: EvalResult,
  pruned: EvalResult | undefined,
  summary: TrainSummary,
  sizes: CompressedSizes,
): Promise<RunReport> {
  const w = await net.arena.read('weights');
  const layers = net.layers
    .filter((l) => l.weightShape)
    .map((l) =>
      layerStats(
        l.name,
        l.spec.kind,
        l.weightShape!,
        w.get(`${l.name}.weight`)!,
        l.biasShape!.reduce((a, b) => a * b, 1),
      ),
    );
  const file: FileBytes = {
    fileBytes: sizes.fileBytes,
    headerBytes: sizes.headerBytes,
    layers: sizes.layers.map((l) => ({ layer: l.layer, bytes: l.bytes, bits: l.bits })),
  };
  const last = summary.history[summary.history.length - 1];
  return {
    model: cfg.model,
    data: `mnist (bundled, ${cfg.train} train / ${cfg.test} test)`,
    task: net.spec.task,
    layers,
    total: totals(layers, file),
    metrics: {
      trainLoss: last?.loss,
      prunedTestAccuracy: pruned?.accuracy,
      prunedTestMse: pruned?.mse,
      testLoss: test.loss,
      testAccuracy: test.accuracy,
      testMse: test.mse,
      testPsnr: test.psnr,
    },
    timing: {
      steps: summary.steps,
      epochs: summary.epochs,
      wallSeconds: summary.wallSeconds,
      samplesPerSec: summary.samplesPerSec,
      msPerStep: summary.msPerStep,
      cpuRecordShare: summary.cpuRecordShare,
    },
    config: JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>,
    adapter,
  };
}

export function showReport(r: RunReport, sizes: CompressedSizes): void {
  const t = r.total,
    m = r.metrics;
  const card = summaryCard;
  $('summary').innerHTML = [
    m.testAccuracy !== undefined
      ? card(
          'test accuracy',
          pct(m.testAccuracy, 2),
          m.prunedTestAccuracy !== undefined ? `${pct(m.prunedTestAccuracy, 2)} before weight sharing` : `loss ${m.testLoss.toFixed(3)}`,
        )
      : card(
          'test PSNR',
          `${(m.testPsnr ?? 0).toFixed(1)} dB`,
          `MSE ${(m.testMse ?? 0).toExponential(2)}` + (m.prunedTestMse !== undefined ? ` (${m.prunedTestMse.toExponential(2)} before sharing)` : ''),
        ),
    card('non-zero weights', fmtInt(t.nonzeros), `of ${fmtInt(t.params)} (${t.nonzeroRatio.toFixed(1)}× fewer)`),
    card('compressed file', fmtBytes(sizes.fileBytes), `${(t.compressionRatio ?? 0).toFixed(1)}× smaller than fp32 (${fmtBytes(t.denseBytes)})`),
    card('training', `${r.timing.wallSeconds.toFixed(1)} s`, `${fmtInt(Math.round(r.timing.samplesPerSec))} samples/s`),
  ].join('');
  const shared = r.layers.some((l) => l.bitsPerWeight < 32);
  showReportTable(
    r,
    sizes,
    `Compressed = the layer's bytes in the ${COMPRESSED_EXTENSION} file written by exportCompressed: a sparse index of the kept ` +
      `positions, the kept weights (${shared ? 'b-bit indices into a shared codebook of 2^b values' : 'as f32'}) and the biases; the total is the whole file. ` +
      'Dense = weights and biases as fp32. "bits" = bits per kept weight.',
  );
}
