// A run's report: one row per layer with parameters, totals, metrics and timing.
import { Network, type TrainSummary, type EvalResult } from '../nn/trainer.js';
import { formatReport, layerStats, totals, type FileBytes, type RunReport } from '../compress/report.js';
import { compressedSizes } from '../io/export.js';
import { RunError, type RunConfig } from './config.js';

export { formatReport };

// ---- reports -----------------------------------------------------------------------------------

export async function buildReport(
  net: Network,
  cfg: RunConfig,
  test: EvalResult,
  summary: TrainSummary | undefined,
  adapter?: string,
  file?: FileBytes,
  pruned?: EvalResult,
): Promise<RunReport> {
  const w = await net.arena.read('weights');
  // one row per layer with parameters: its prunable weight (if any) and its dense parameters (biases, norms)
  const layers = net.layers
    .filter((l) => l.params.length)
    .map((l) => {
      const dense = l.params.filter((p) => !p.prunable).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
      return l.weightShape
        ? layerStats(l.name, l.spec.kind, l.weightShape, w.get(`${l.name}.weight`)!, dense)
        : layerStats(l.name, l.spec.kind, [l.inShape[l.inShape.length - 1]!], new Float32Array(0), dense);
    });
  const last = summary?.history[summary.history.length - 1];
  const metrics: RunReport['metrics'] =
    net.spec.task === 'language'
      ? {
          trainLoss: last?.loss,
          trainBitsPerByte: last?.bitsPerByte,
          testLoss: test.loss,
          testAccuracy: test.accuracy,
          testBitsPerByte: test.bitsPerByte,
          testPerplexity: test.perplexity,
          prunedTestBitsPerByte: pruned?.bitsPerByte,
        }
      : {
          trainLoss: last?.loss,
          prunedTestAccuracy: pruned?.accuracy,
          prunedTestMse: pruned?.mse,
          testLoss: test.loss,
          testAccuracy: test.accuracy,
          testMse: test.mse,
          testPsnr: test.psnr,
        };
  return {
    model: cfg.model,
    data: cfg.data,
    task: net.spec.task,
    layers,
    total: totals(layers, file),
    metrics,
    timing: timingOf(summary),
    config: JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>,
    adapter,
  };
}

/** The report's timing section (all 0 without a training summary). */
function timingOf(summary: TrainSummary | undefined): RunReport['timing'] {
  return summary
    ? {
        steps: summary.steps,
        epochs: summary.epochs,
        wallSeconds: summary.wallSeconds,
        samplesPerSec: summary.samplesPerSec,
        msPerStep: summary.msPerStep,
        cpuRecordShare: summary.cpuRecordShare,
      }
    : { steps: 0, epochs: 0, wallSeconds: 0, samplesPerSec: 0, msPerStep: 0, cpuRecordShare: 0 };
}

/** The byte counts of a compressed export, for the report. */
export function fileBytesOf(bytes: Uint8Array): FileBytes {
  const s = compressedSizes(bytes);
  if (s.fileBytes !== bytes.length) throw new RunError(`compressed export: sizes ${s.fileBytes} ≠ file ${bytes.length}`);
  return { fileBytes: bytes.length, headerBytes: s.headerBytes, layers: s.layers.map((l) => ({ layer: l.layer, bytes: l.bytes, bits: l.bits })) };
}
