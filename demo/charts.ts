// Line charts (uPlot) whose rows arrive over time: x = training step, one column per series,
// null where a series has no value at that step (drawn across gaps).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#4b5563'];

export interface SeriesSpec {
  label: string;
  color?: string;
  dash?: number[];
  points?: boolean;
  width?: number;
}

export interface ChartSpec {
  yLabel: string;
  /** The x axis' label (default 'step'). */
  xLabel?: string;
  series: SeriesSpec[];
  /** Fixed y range, e.g. [0, 1] for accuracy; else auto. */
  yRange?: [number, number];
  log?: boolean;
  format?: (v: number) => string;
}

export class LiveChart {
  private plot: uPlot;
  private rows = new Map<number, (number | null)[]>();
  private dirty = false;

  constructor(
    private readonly el: HTMLElement,
    private spec: ChartSpec,
    private xMax?: number,
  ) {
    this.plot = this.make();
    new ResizeObserver(() => this.plot.setSize(this.size())).observe(el);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.el.clientWidth), height: 190 };
  }

  private make(): uPlot {
    const s = this.spec,
      xMax = this.xMax;
    const fmt = s.format ?? ((v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3)));
    const opts: uPlot.Options = {
      ...this.size(),
      legend: { live: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        x: { time: false, range: (_u, lo, hi) => [0, Math.max(hi, xMax ?? lo + 1)] },
        y: s.log ? { distr: 3 } : s.yRange ? { range: s.yRange } : { auto: true },
      },
      axes: [
        { label: s.xLabel ?? 'step', stroke: '#64748b', grid: { stroke: '#eef2f7' }, ticks: { stroke: '#e2e8f0' }, labelSize: 18, size: 32 },
        {
          label: s.yLabel,
          stroke: '#64748b',
          grid: { stroke: '#eef2f7' },
          ticks: { stroke: '#e2e8f0' },
          labelSize: 18,
          size: 52,
          values: (_u, vals) => vals.map((v) => (v == null ? '' : fmt(v))),
        },
      ],
      series: [
        { label: s.xLabel ?? 'step' },
        ...s.series.map((x, i): uPlot.Series => ({
          label: x.label,
          stroke: x.color ?? PALETTE[i % PALETTE.length],
          width: x.width ?? 1.75,
          dash: x.dash,
          spanGaps: true,
          points: { show: x.points ?? false, size: 6, fill: x.color ?? PALETTE[i % PALETTE.length] },
          value: (_u, v) => (v == null ? '–' : fmt(v)),
        })),
      ],
    };
    return new uPlot(opts, this.data(), this.el);
  }

  /** Starts over with new series (a new run) and an x range up to xMax. */
  reset(spec: ChartSpec, xMax?: number): void {
    this.spec = spec;
    this.xMax = xMax;
    this.rows.clear();
    this.plot.destroy();
    this.plot = this.make();
  }

  /** Sets series `i`'s value at step `x` (the chart is redrawn on the next flush). */
  set(x: number, i: number, y: number | null | undefined): void {
    let row = this.rows.get(x);
    if (!row) {
      row = new Array<number | null>(this.spec.series.length).fill(null);
      this.rows.set(x, row);
    }
    row[i] = y ?? null;
    this.dirty = true;
  }

  private data(): uPlot.AlignedData {
    const xs = [...this.rows.keys()].sort((a, b) => a - b);
    return [xs, ...this.spec.series.map((_, i) => xs.map((x) => this.rows.get(x)![i] ?? null))];
  }

  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.plot.setData(this.data());
  }

  setLog(log: boolean): void {
    if (this.spec.log === log) return;
    this.spec = { ...this.spec, log };
    this.plot.destroy();
    this.plot = this.make();
  }
}
