// The live view of a demo run (demo/main.ts): the loss, accuracy and sparsity charts, the stats line,
// and the first layer's weight and mask images with each layer's sparsity, read back now and then
// while the GPU trains (the Inspector; never awaited by training).
import { sparsityAt, type LogEntry, type Network, type SparsitySchedule } from '../src/index.js';
import { $, fmtInt, pct } from './page.js';
import { probe } from './probe.js';
import { LiveChart, PALETTE, type ChartSpec } from './charts.js';
import { drawTiles, tileLayout, type TileLayout } from './weights.js';

// ---- charts and stats ---------------------------------------------------------------------------

export const lossChart = new LiveChart($('chart-loss'), { yLabel: 'loss', series: [{ label: 'train loss' }] });
export const accChart = new LiveChart($('chart-acc'), { yLabel: 'accuracy', series: [{ label: 'train' }, { label: 'test', points: true }] });
export const sparsityChart = new LiveChart($('chart-sparsity'), {
  yLabel: 'sparsity',
  series: [{ label: 'target', color: '#475569', dash: [3, 3] }],
  yRange: [0, 1],
});
const charts = [lossChart, accChart, sparsityChart];

$<HTMLInputElement>('logscale').addEventListener('change', (ev) => {
  probe.toggles++;
  lossChart.setLog((ev.target as HTMLInputElement).checked);
});

export const stat = (id: string, v: string) => {
  $(id).textContent = v;
};

let frameRequested = false;
/** What the stats show: the latest log entry and the run's shape (set by main.ts). */
export const live: { latest?: LogEntry; run?: { total: number; stepsPerEpoch: number; autoencoder: boolean } } = {};

export function render(): void {
  frameRequested = false;
  if (probe.state === 'training') probe.framesWhileTraining++;
  for (const c of charts) c.flush();
  const { latest, run } = live;
  if (latest && run) {
    stat('s-step', `${fmtInt(latest.step)} / ${fmtInt(run.total)}`);
    stat('s-epoch', (latest.step / run.stepsPerEpoch).toFixed(2));
    stat('s-loss', latest.loss.toPrecision(4));
    stat('s-acc', run.autoencoder ? `${psnr(latest.loss).toFixed(1)} dB` : latest.accuracy !== undefined ? pct(latest.accuracy) : '–');
    stat('s-sparsity', pct(latest.sparsity));
    stat('s-speed', fmtInt(Math.round(latest.samplesPerSec)));
    $('bar').style.width = `${(100 * latest.step) / run.total}%`;
  }
}

export function requestRender(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(render);
}

export const psnr = (mse: number) => 10 * Math.log10(1 / Math.max(mse, 1e-12));

// ---- first-layer images -------------------------------------------------------------------------

const weightsCanvas = $<HTMLCanvasElement>('weights-canvas');
const maskCanvas = $<HTMLCanvasElement>('mask-canvas');

export function sizeCanvases(layout: TileLayout): void {
  // integer zoom so that the two images fit side by side in the card
  const avail = Math.max(240, ($('tiles-caption').closest('.card') as HTMLElement).clientWidth - 60) / 2;
  const w = layout.cols * (layout.tw + 1) - 1;
  const zoom = Math.max(1, Math.min(8, avail / w));
  for (const c of [weightsCanvas, maskCanvas]) {
    c.style.width = `${w * zoom}px`;
    c.style.height = `${(layout.rows * (layout.th + 1) - 1) * zoom}px`;
  }
}

export const layerName = (p: string) => p.replace(/\.weight$/, '');

/** Resets the loss, accuracy and sparsity charts (with the schedule's target curve) and the stats for a run of `total` steps. */
export function resetCharts(prunable: string[], autoencoder: boolean, total: number, sched: SparsitySchedule | undefined): void {
  lossChart.reset(
    { yLabel: autoencoder ? 'MSE' : 'cross-entropy', series: [{ label: 'train loss' }], log: $<HTMLInputElement>('logscale').checked },
    total,
  );
  const accSpec: ChartSpec = autoencoder
    ? { yLabel: 'PSNR (dB)', series: [{ label: 'train' }, { label: 'test', points: true }] }
    : {
        yLabel: 'accuracy',
        series: [{ label: 'train' }, { label: 'test', points: true }],
        yRange: [0, 1],
        format: (v) => `${Math.round(v * 100)}%`,
      };
  accChart.reset(accSpec, total);
  $('acc-title').textContent = autoencoder ? 'Reconstruction PSNR' : 'Accuracy';
  $('s-acc-label').textContent = autoencoder ? 'PSNR' : 'accuracy';
  sparsityChart.reset(
    {
      yLabel: 'sparsity',
      yRange: [0, 1],
      format: (v) => `${Math.round(v * 100)}%`,
      series: [
        ...prunable.map((p, i) => ({ label: layerName(p), color: PALETTE[i % PALETTE.length], points: true })),
        { label: 'target', color: '#475569', dash: [3, 3], width: 1.25 },
      ],
    },
    total,
  );
  for (let k = 0; k <= 60; k++) {
    const t = Math.round((k / 60) * total);
    sparsityChart.set(t, prunable.length, sched ? sparsityAt(sched, Math.max(0, t - 1)) : 0);
  }
  for (const s of ['s-step', 's-epoch', 's-loss', 's-acc', 's-sparsity', 's-speed']) stat(s, '–');
  $('bar').style.width = '0';
}

/** Reads back the first layer's weights and masks and every layer's sparsity now and then (async; never awaited by training). */
export class Inspector {
  inspecting: Promise<void> | undefined;
  lastInspect = -Infinity;
  error: unknown;

  constructor(
    private net: () => Network,
    private state: { step: number },
    private prunable: string[],
    private first: Network['layers'][number] | undefined,
    private layout: TileLayout | undefined,
    private inspectMs: number,
    private onError: () => void,
  ) {}

  /** The inspector of a run; shows the first layer's tile layout (weights of its first layer, if it has an image form). */
  static create(net: () => Network, state: { step: number }, prunable: string[], inspectMs: number, onError: () => void): Inspector {
    const first = net().layers.find((l) => l.weightShape);
    const layout = first ? tileLayout(first, first.spec.kind === 'conv2d' ? 20 : 50) : undefined;
    $('tiles-caption').textContent = layout ? layout.caption : 'the first layer has no image form';
    if (layout) sizeCanvases(layout);
    return new Inspector(net, state, prunable, first, layout, inspectMs, onError);
  }

  readonly inspect = async () => {
    const { prunable, layout, first } = this;
    const net = this.net();
    const step = this.state.step;
    const [w, m] = await Promise.all([net.arena.read('weights'), net.arena.read('mask')]);
    const layers: Record<string, number> = {};
    prunable.forEach((p, i) => {
      const mask = m.get(p)!;
      let zeros = 0;
      for (let j = 0; j < mask.length; j++) if (mask[j] === 0) zeros++;
      layers[layerName(p)] = zeros / mask.length;
      sparsityChart.set(step, i, zeros / mask.length);
    });
    probe.sparsity.push({ step, layers });
    if (layout && first) {
      drawTiles(weightsCanvas, layout, w.get(`${first.name}.weight`)!, 'weights');
      drawTiles(maskCanvas, layout, m.get(`${first.name}.weight`)!, 'mask');
    }
    requestRender();
  };

  readonly maybeInspect = () => {
    if (this.inspecting || this.error || performance.now() - this.lastInspect < this.inspectMs) return;
    this.inspecting = this.inspect()
      .catch((e: unknown) => {
        this.error = e;
        this.onError();
      })
      .finally(() => {
        this.inspecting = undefined;
        this.lastInspect = performance.now();
      });
  };
}
