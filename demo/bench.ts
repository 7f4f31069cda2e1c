// The kernel benchmark page (demo/bench.html): the cases of bench/registry.ts run in the browser,
// the same way `node dist/bench/index.js kernels` runs them in Node: prepare, run once and validate
// against the CPU reference (a mismatch is shown and nothing is timed for that case), warm up,
// time repetitions with GPU timestamps (or wall time without 'timestamp-query'), report the median.
//
// URL: ?quick=1 the smallest case of every kernel and variant, short timing (fast on software
// adapters); default: the registry's quick cases (as `bench kernels`); ?all=1 every case.
// ?wall=1 wall time even with timestamps; ?budget=MS timed milliseconds per case.
// window.__bench exposes the results for tests (tests/benchpage.test.ts).
import { createGpu, NO_ADAPTER_HELP, type Gpu } from '../src/index.js';
import { KERNEL_SUITES, type BenchCase } from '../bench/registry.js';
import { measure, noopDispatch, rates, Timer, type TimingKind } from '../bench/timing.js';
import { MismatchError } from '../bench/util.js';

type Mode = 'quick' | 'default' | 'all';

interface Row {
  kernel: string;
  variant: string;
  size: string;
  ms?: number;
  gflops?: number;
  gbps?: number;
  timing: TimingKind;
  reps?: number;
  /** 'ok' once validated against the CPU reference; 'mismatch' or 'error' with `error`. */
  check: 'ok' | 'mismatch' | 'error';
  error?: string;
}

interface BenchProbe {
  state: 'init' | 'nogpu' | 'running' | 'done' | 'error';
  mode: Mode;
  timing?: TimingKind;
  hasTimestamps?: boolean;
  adapter?: string;
  /** Kernel names in the registry (KERNEL_SUITES). */
  suites: string[];
  /** Cases planned for this run. */
  planned: number;
  results: Row[];
  error?: string;
  copied?: 'clipboard' | 'selection' | 'failed';
}

const q = new URLSearchParams(location.search);
const mode: Mode = q.get('quick') === '1' ? 'quick' : q.get('all') === '1' ? 'all' : 'default';
const budgetMs = Number(q.get('budget')) > 0 ? Number(q.get('budget')) : mode === 'quick' ? 40 : 300;
const forceWall = q.get('wall') === '1';

const probe: BenchProbe = { state: 'init', mode, suites: KERNEL_SUITES.map((s) => s.name), planned: 0, results: [] };
(window as unknown as { __bench: BenchProbe }).__bench = probe;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`bench page: no element #${id}`);
  return el as T;
};
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const tbody = $('results').querySelector('tbody')!;
const setPhase = (s: string) => {
  $('phase').textContent = s;
};

// ---- measuring: bench/timing.ts, shared with the Node harness --------------------------------

const paint = () => new Promise<void>((res) => setTimeout(res, 0)); // let the page paint between rounds

function measured(c: Pick<BenchCase, 'kernel' | 'variant' | 'size' | 'flops' | 'bytes'>, ms: number, reps: number, timing: TimingKind): Row {
  return { kernel: c.kernel, variant: c.variant, size: c.size, ms: +ms.toFixed(4), timing, reps, check: 'ok', ...rates(c, ms) };
}

/** The cases of this mode: quick = the smallest (flops or bytes) per kernel and variant. */
function plan(gpu: Gpu): BenchCase[] {
  const out: BenchCase[] = [];
  for (const suite of KERNEL_SUITES) {
    const cases = suite.cases(gpu);
    if (mode === 'all') out.push(...cases);
    else if (mode === 'default') out.push(...cases.filter((c) => c.quick));
    else {
      const smallest = new Map<string, BenchCase>();
      const work = (c: BenchCase) => c.flops ?? c.bytes ?? 0;
      for (const c of cases) {
        const best = smallest.get(c.variant);
        if (!best || work(c) < work(best)) smallest.set(c.variant, c);
      }
      out.push(...smallest.values());
    }
  }
  return out;
}

// ---- page ---------------------------------------------------------------------------------------

const fmt = (v: number | undefined, d: number) => (v === undefined ? '' : v.toFixed(d));

function addRow(r: Row): void {
  probe.results.push(r);
  const tr = document.createElement('tr');
  const check = r.check === 'ok' ? '<td class="ok">✓ matches CPU</td>' : `<td class="bad">${esc(r.check)}: ${esc(r.error ?? '')}</td>`;
  tr.innerHTML =
    `<td>${esc(r.kernel)}</td><td>${esc(r.variant)}</td><td>${esc(r.size)}</td><td>${fmt(r.ms, 3)}</td>` +
    `<td>${fmt(r.gflops, 2)}</td><td>${fmt(r.gbps, 2)}</td><td>${r.reps ?? ''}</td>${check}`;
  tbody.append(tr);
  $('json').textContent = json();
}

function json(): string {
  return JSON.stringify(
    {
      adapter: probe.adapter,
      timing: probe.timing,
      mode,
      budgetMs,
      userAgent: navigator.userAgent,
      results: probe.results,
    },
    null,
    1,
  );
}

function timingNote(gpu: Gpu, kind: TimingKind): string {
  const soft = gpu.info.isFallbackAdapter ? ' This is a software adapter: the figures measure shaders emulated on the CPU.' : '';
  if (kind === 'gpu-timestamp') {
    return "Timing: GPU timestamps (timestamp-query) — the GPU's own time from the start to the end of each compute pass." + soft;
  }
  const why = forceWall ? 'wall time was asked for (?wall=1)' : "this adapter has no 'timestamp-query' feature";
  return (
    `Timing: wall time, submit → onSubmittedWorkDone per repetition, because ${why}. It includes submission and ` +
    'synchronisation overhead, so small kernels look slower than they are (the noop row is that floor).' +
    soft
  );
}

async function runAll(gpu: Gpu): Promise<void> {
  probe.results = [];
  tbody.textContent = '';
  probe.state = 'running';
  ($('copy') as HTMLButtonElement).disabled = true;
  ($('rerun') as HTMLButtonElement).disabled = true;
  const timer = new Timer(gpu, forceWall);
  probe.timing = timer.kind;
  $('timing').textContent = timingNote(gpu, timer.kind);
  const cases = plan(gpu);
  probe.planned = cases.length + 1;
  const t0 = performance.now();
  const progress = (done: number) => {
    $('bar').style.width = `${(100 * done) / probe.planned}%`;
  };
  try {
    setPhase('noop dispatch (the floor)…');
    const noop = await noopDispatch(gpu);
    const m = await measure(timer, [noop], Math.min(budgetMs, 50), paint);
    addRow(measured({ kernel: 'noop', variant: '-', size: '1 workgroup' }, m.ms, m.reps, timer.kind));
    progress(1);
    for (const [i, c] of cases.entries()) {
      setPhase(`${c.kernel} ${c.variant} ${c.size} (${i + 1} of ${cases.length})…`);
      await new Promise((res) => setTimeout(res, 0));
      const row: Row = { kernel: c.kernel, variant: c.variant, size: c.size, timing: timer.kind, check: 'ok' };
      try {
        const prepared = await c.prepare(gpu);
        try {
          await timer.once(prepared.dispatches);
          await prepared.validate(); // before any timing
          const r = await measure(timer, prepared.dispatches, budgetMs, paint);
          addRow(measured(c, r.ms, r.reps, timer.kind));
        } finally {
          prepared.dispose();
        }
      } catch (e) {
        row.check = e instanceof MismatchError ? 'mismatch' : 'error';
        row.error = (e as Error).message;
        addRow(row);
      }
      progress(i + 2);
    }
    const bad = probe.results.filter((r) => r.check !== 'ok').length;
    setPhase(
      `${probe.results.length} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s` +
        `${bad ? ` — ${bad} failed (see the check column)` : ', every output matched the CPU reference'}; medians of the repetitions.`,
    );
    probe.state = 'done';
  } finally {
    timer.destroy();
    ($('copy') as HTMLButtonElement).disabled = false;
    ($('rerun') as HTMLButtonElement).disabled = false;
  }
}

async function copyJson(): Promise<void> {
  const text = json();
  const btn = $('copy') as HTMLButtonElement;
  try {
    await navigator.clipboard.writeText(text);
    probe.copied = 'clipboard';
    btn.textContent = 'Copied';
  } catch {
    // no clipboard permission (e.g. headless): select the JSON so that Ctrl+C copies it
    const pre = $('json');
    (pre.parentElement as HTMLDetailsElement).open = true;
    const range = document.createRange();
    range.selectNodeContents(pre);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    probe.copied = document.execCommand('copy') ? 'selection' : 'failed';
    btn.textContent = probe.copied === 'selection' ? 'Copied' : 'Selected — press Ctrl+C';
  }
  setTimeout(() => {
    btn.textContent = 'Copy JSON';
  }, 2000);
}

async function main(): Promise<void> {
  $(`mode-${mode}`).classList.add('active');
  $('mode-title').textContent =
    mode === 'quick'
      ? 'Quick run: the smallest case of every kernel'
      : mode === 'all'
        ? 'Every case in the registry'
        : "The registry's default cases";
  if (!('gpu' in navigator)) {
    probe.state = 'nogpu';
    throw new Error('This browser has no WebGPU (navigator.gpu is missing).\n' + NO_ADAPTER_HELP);
  }
  let gpu: Gpu;
  try {
    gpu = await createGpu();
  } catch (e) {
    probe.state = 'nogpu';
    throw e;
  }
  const i = gpu.info;
  probe.adapter = i.description || i.device || `${i.vendor} ${i.architecture}`;
  probe.hasTimestamps = gpu.hasTimestamps;
  $('adapter').innerHTML =
    `WebGPU adapter: <b>${esc(probe.adapter || 'unnamed')}</b><br>${esc([i.vendor, i.architecture].filter(Boolean).join(' · '))}` +
    `${i.isFallbackAdapter ? ' · software fallback' : ''}<br>timestamp-query: ${gpu.hasTimestamps ? 'yes' : 'no'}`;
  $('copy').addEventListener('click', () => void copyJson());
  $('rerun').addEventListener('click', () => void runAll(gpu).catch(fail));
  await runAll(gpu);
}

function fail(e: Error): void {
  if (probe.state !== 'nogpu') probe.state = 'error';
  probe.error = e.message;
  const n = $('notice');
  n.hidden = false;
  n.innerHTML = `<h3>${probe.state === 'nogpu' ? 'No WebGPU' : 'The benchmarks stopped'}</h3><pre>${esc(e.message)}</pre>`;
  setPhase('stopped');
}

main().catch(fail);
