// The compression report of a language model as the text page shows it: summary cards, one row
// per layer with parameters (prunable matrices with their index coding and bits; norms and biases
// dense), the file header and the total. The same numbers as `slimgpu train`'s report.
import { formatReport, layerStats, totals, type EvalResult, type Network, type RunReport, type TrainSummary } from '../src/index.js';
import type { CompressedSizes } from '../src/io/export.js';
import { COMPRESSED_EXTENSION } from '../src/io/export.js';
import { $, esc, fmtBytes, fmtInt, pct } from './page.js';

export interface LmRun {
  model: string;
  data: string;
  config: Record<string, unknown>;
  adapter?: string;
  summary: TrainSummary;
  test: EvalResult;
  /** Validation before weight sharing (when sharing was applied). */
  pruned?: EvalResult;
}

/** A RunReport of a trained language model and its compressed file. */
export async function lmReport(net: Network, r: LmRun, sizes: CompressedSizes): Promise<RunReport> {
  const w = await net.arena.read('weights');
  const layers = net.layers
    .filter((l) => l.params.length)
    .map((l) => {
      const dense = l.params.filter((p) => !p.prunable).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
      return l.weightShape
        ? layerStats(l.name, l.spec.kind, l.weightShape, w.get(`${l.name}.weight`)!, dense)
        : layerStats(l.name, l.spec.kind, [l.inShape[l.inShape.length - 1]!], new Float32Array(0), dense);
    });
  const file = {
    fileBytes: sizes.fileBytes,
    headerBytes: sizes.headerBytes,
    layers: sizes.layers.map((l) => ({ layer: l.layer, bytes: l.bytes, bits: l.bits })),
  };
  const s = r.summary,
    last = s.history[s.history.length - 1];
  return {
    model: r.model,
    data: r.data,
    task: 'language',
    layers,
    total: totals(layers, file),
    metrics: {
      trainLoss: last?.loss,
      trainBitsPerByte: last?.bitsPerByte,
      testLoss: r.test.loss,
      testAccuracy: r.test.accuracy,
      testBitsPerByte: r.test.bitsPerByte,
      testPerplexity: r.test.perplexity,
      prunedTestBitsPerByte: r.pruned?.bitsPerByte,
    },
    timing: {
      steps: s.steps,
      epochs: s.epochs,
      wallSeconds: s.wallSeconds,
      samplesPerSec: s.samplesPerSec,
      msPerStep: s.msPerStep,
      cpuRecordShare: s.cpuRecordShare,
    },
    config: r.config,
    adapter: r.adapter,
  };
}

/** Fills #summary, #report-table, #report-note and #report-text, and shows #report. */
export function showLmReport(r: RunReport, sizes: CompressedSizes): void {
  const t = r.total,
    m = r.metrics;
  const card = summaryCard;
  $('summary').innerHTML = [
    card(
      'validation bits/byte',
      (m.testBitsPerByte ?? 0).toFixed(3),
      m.prunedTestBitsPerByte !== undefined
        ? `${m.prunedTestBitsPerByte.toFixed(3)} before weight sharing`
        : `perplexity ${(m.testPerplexity ?? 0).toFixed(2)}`,
    ),
    card('non-zero weights', fmtInt(t.nonzeros), `of ${fmtInt(t.params)} (${t.nonzeroRatio.toFixed(1)}× fewer)`),
    card('compressed file', fmtBytes(sizes.fileBytes), `${(t.compressionRatio ?? 0).toFixed(1)}× smaller than fp32 (${fmtBytes(t.denseBytes)})`),
    card(
      'training',
      `${r.timing.wallSeconds.toFixed(1)} s`,
      `${fmtInt(Math.round(r.timing.samplesPerSec))} bytes/s, ${r.timing.msPerStep.toFixed(1)} ms/step`,
    ),
  ].join('');
  showReportTable(
    r,
    sizes,
    `Compressed = the layer's bytes in the ${COMPRESSED_EXTENSION} file written by exportCompressed: a sparse index of the kept ` +
      'positions, the kept weights (b-bit indices into a shared codebook when shared, else f32) and the dense parameters (layer norms, biases). ' +
      'The LM head is tied to the token embedding wte: one tensor, one mask and one codebook serve both.',
  );
}

/** A summary card: label, value and a small note. */
export const summaryCard = (label: string, value: string, small = '') =>
  `<div><dt>${esc(label)}</dt><dd>${esc(value)}${small ? ` <small>${esc(small)}</small>` : ''}</dd></div>`;

/**
 * Fills #report-table (one row per layer, the file header, the total), #report-note with `note` and
 * #report-text, and shows #report: the part of the report both pages show alike.
 */
export function showReportTable(r: RunReport, sizes: CompressedSizes, note: string): void {
  const t = r.total;
  const head = ['layer', 'shape', 'weights', 'non-zeros', 'sparsity', 'index', 'bits', 'dense fp32', 'compressed', 'ratio'];
  const rows = r.layers.map((l) => {
    const s = sizes.layers.find((x) => x.layer === l.name);
    const index = !s || l.params === 0 ? '–' : s.index === 'relative' ? `relative ${s.indexBits}-bit` : s.index;
    return (
      `<tr><td>${esc(l.name)}</td><td>${l.shape.join('×')}</td><td>${fmtInt(l.params)}</td><td>${fmtInt(l.nonzeros)}</td>` +
      `<td><span class="sparsebar"><i style="width:${(100 * l.sparsity).toFixed(1)}%"></i></span>${pct(l.sparsity)}</td><td>${index}</td><td>${l.params ? l.bitsPerWeight : '–'}</td>` +
      `<td>${fmtBytes(l.denseBytes)}</td><td>${l.compressedBytes !== undefined ? fmtBytes(l.compressedBytes) : '–'}</td>` +
      `<td>${l.compressionRatio ? `${l.compressionRatio.toFixed(1)}×` : '–'}</td></tr>`
    );
  });
  rows.push(
    `<tr class="header-row"><td>(file header)</td><td></td><td></td><td></td><td></td><td></td><td></td><td></td><td>${fmtBytes(sizes.headerBytes)}</td><td></td></tr>`,
  );
  rows.push(
    `<tr class="total"><td>total</td><td></td><td>${fmtInt(t.params)}</td><td>${fmtInt(t.nonzeros)}</td><td>${pct(t.sparsity)}</td><td></td><td></td>` +
      `<td>${fmtBytes(t.denseBytes)}</td><td>${fmtBytes(sizes.fileBytes)}</td><td>${(t.compressionRatio ?? 0).toFixed(1)}×</td></tr>`,
  );
  $('report-table').innerHTML = `<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody>`;
  $('report-note').textContent = note;
  $('report-text').textContent = formatReport(r);
  $('report').hidden = false;
}
