// The recommend page (demo/recommend.html): a ratings file (the bundled Debian sample, a dropped or
// chosen file, or pasted text) → a recommender trained on WebGPU epoch by epoch with validation
// HR@10/NDCG@10 beside the popularity baseline (demo/rec-session.ts over src/rec); a slider that
// compresses the trained tables (pruning %, k-means bits, masked fine-tuning) and shows the
// .slim.safetensors size and the test metrics after; a user browser with the user's history and the
// dense and compressed top-10 side by side.
// URL: sample=1, kind=dae|mf, dim, epochs, batch, lr, prune (%), bits (0 = none), finetune, user,
// autostart=1 (train, then compress at the slider's setting). window.__rec exposes the run for
// tests/recommend-page.test.ts.
import type { Gpu } from '../src/gpu/device.js';
import type { Metrics } from '../src/rec/eval.js';
import { parseRatings, RecSession, type CompressResult, type EpochResult, type TrainSettings } from './rec-session.js';
import { epochTable, stageTable, userView } from './rec-view.js';
import { LiveChart, PALETTE, type ChartSpec } from './charts.js';
import { $, fmtInt, hideNotice, numParam, save, showNotice, startGpu } from './page.js';

type Num = { hr: number; ndcg: number };
interface RecProbe {
  state: 'init' | 'nogpu' | 'ready' | 'loaded' | 'training' | 'trained' | 'compressing' | 'compressed' | 'error';
  data?: { name: string; users: number; items: number; interactions: number; evaluated: number };
  popularity?: { valid: Num; test: Num };
  epochs: { epoch: number; loss: number; hr: number; ndcg: number; seconds: number }[];
  dense?: Num & { bytes: number; best: number };
  compressed?: Num & { sparsity: number; bits: number; bytes: number; ratio: number };
  user?: { name: string; dense: string[]; compressed: string[] };
  error?: string;
}
const probe: RecProbe = { state: 'init', epochs: [] };
(window as unknown as { __rec: RecProbe }).__rec = probe;

const SAMPLE_URL = './debian-deps-sample.csv';
const num = (m: Metrics): Num => ({ hr: m.hr, ndcg: m.ndcg });
const params = new URLSearchParams(location.search);
const form = () => $<HTMLFormElement>('controls');
const field = <T extends HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement = HTMLInputElement>(name: string) =>
  form().elements.namedItem(name) as T;

function fail(title: string, err: unknown): void {
  probe.state = 'error';
  probe.error = (err as Error).message;
  showNotice('error', title, (err as Error).message);
}

function settingsFromForm(): TrainSettings {
  const n = (k: string) => Number(field(k).value);
  const batch = Math.max(64, Math.round(n('batch') / 64) * 64);
  return { kind: field<HTMLSelectElement>('kind').value === 'mf' ? 'mf' : 'dae', dim: n('dim'), epochs: n('epochs'), batch, lr: n('lr'), seed: 0 };
}

function applyParams(): void {
  for (const k of ['dim', 'epochs', 'batch', 'lr', 'prune', 'finetune']) {
    const v = numParam(params, k);
    if (v !== undefined && Number.isFinite(v)) field(k).value = String(v);
  }
  for (const k of ['kind', 'bits']) {
    const v = params.get(k);
    if (v) field<HTMLSelectElement>(k).value = v;
  }
  $('prune-value').textContent = `${field('prune').value}%`;
}

const CHART: ChartSpec = {
  yLabel: 'validation @10',
  xLabel: 'epoch',
  yRange: [0, 1],
  series: [
    { label: 'NDCG@10', color: PALETTE[0], points: true },
    { label: 'HR@10', color: PALETTE[1], points: true },
    { label: 'NDCG@10 popularity', color: PALETTE[0], dash: [6, 4], width: 1 },
    { label: 'HR@10 popularity', color: PALETTE[1], dash: [6, 4], width: 1 },
  ],
};

class RecPage {
  session?: RecSession;
  private chart?: LiveChart;
  last?: CompressResult;
  busy = false;
  stopping = false;
  private pending = false;
  private userIds = new Map<string, number>();

  constructor(readonly gpu: Gpu) {}

  setCompressEnabled(on: boolean): void {
    for (const k of ['prune', 'bits', 'finetune']) field(k).disabled = !on;
    $<HTMLInputElement>('user').disabled = !on;
  }

  load(text: string, name: string): void {
    if (this.busy) return;
    try {
      hideNotice();
      this.session?.dispose();
      this.session = undefined;
      this.last = undefined;
      const s = new RecSession(this.gpu, parseRatings(text, name));
      this.session = s;
      const sp = s.split;
      probe.data = { name, users: sp.nUsers, items: sp.nItems, interactions: sp.interactions, evaluated: s.testUsers.length };
      probe.popularity = { valid: num(s.popularity.valid), test: num(s.popularity.test) };
      probe.epochs = [];
      $('data-note').textContent =
        `${name}: ${fmtInt(sp.nUsers)} users × ${fmtInt(sp.nItems)} items, ${fmtInt(sp.interactions)} interactions (${fmtInt(s.log.duplicates)} duplicates dropped); ` +
        `leave-last-out by ${sp.timed ? 'timestamp' : 'a seeded random order'}, ${fmtInt(s.testUsers.length)} users evaluated`;
      $('epochs').innerHTML = epochTable([], s.popularity.valid);
      $('stages').innerHTML = '';
      $('user-view').innerHTML = '';
      this.setCompressEnabled(false);
      $<HTMLButtonElement>('train').disabled = false;
      probe.state = 'loaded';
    } catch (e) {
      fail('Could not read the ratings', e);
    }
  }

  async train(): Promise<void> {
    const s = this.session;
    if (!s || this.busy) return;
    this.busy = true;
    this.stopping = false;
    probe.state = 'training';
    probe.epochs = [];
    $<HTMLButtonElement>('train').disabled = true;
    $<HTMLButtonElement>('stop').disabled = false;
    this.setCompressEnabled(false);
    const rows: EpochResult[] = [];
    const cfg = settingsFromForm();
    this.chart ??= new LiveChart($('chart'), CHART, cfg.epochs);
    this.chart.reset(CHART, cfg.epochs);
    const pv = s.popularity.valid;
    for (const x of [0, cfg.epochs]) [pv.ndcg, pv.hr].forEach((y, i) => this.chart!.set(x, 2 + i, y));
    try {
      await s.train(cfg, (r) => {
        rows.push(r);
        probe.epochs.push({ epoch: r.epoch, loss: r.loss, hr: r.valid.hr, ndcg: r.valid.ndcg, seconds: r.seconds });
        $('epochs').innerHTML = epochTable(rows, pv);
        [r.valid.ndcg, r.valid.hr].forEach((y, i) => this.chart!.set(r.epoch, i, y));
        this.chart!.flush();
        $('train-note').textContent = `epoch ${r.epoch} of ${cfg.epochs} · rec:${cfg.kind}-${cfg.dim} · validation, ${fmtInt(r.valid.users)} users`;
        return !this.stopping;
      });
      const d = s.dense!;
      probe.dense = { ...num(d.test), bytes: d.bytes, best: d.best };
      $('stages').innerHTML = stageTable(d, s.popularity.test);
      $('compress-note').textContent = 'move the slider to compress the tables';
      this.fillUsers();
      probe.state = 'trained';
    } catch (e) {
      fail('Training failed', e);
    } finally {
      this.busy = false;
      $<HTMLButtonElement>('train').disabled = false;
      $<HTMLButtonElement>('stop').disabled = true;
    }
    if (probe.state === 'trained') this.setCompressEnabled(true);
  }

  /** Compresses at the controls' setting; a change during a run is applied after it. */
  async compress(): Promise<void> {
    const s = this.session;
    if (!s?.dense) return;
    if (this.busy) {
      this.pending = true;
      return;
    }
    this.busy = true;
    probe.state = 'compressing';
    const sparsity = Number(field('prune').value) / 100,
      bits = Number(field<HTMLSelectElement>('bits').value),
      ft = Number(field('finetune').value);
    $('compress-note').textContent = `compressing: ${field('prune').value}% pruned, ${bits || 32} bits…`;
    try {
      const c = await s.compress(sparsity, bits, ft);
      this.last = c;
      probe.compressed = { ...num(c.test), sparsity, bits, bytes: c.bytes, ratio: c.ratio };
      $('stages').innerHTML = stageTable(s.dense, s.popularity.test, c);
      $('compress-note').textContent = `${c.ratio.toFixed(1)}× smaller than fp32 dense`;
      $<HTMLButtonElement>('download').disabled = false;
      this.showUser();
      probe.state = 'compressed';
    } catch (e) {
      fail('Compression failed', e);
    } finally {
      this.busy = false;
    }
    if (this.pending) {
      this.pending = false;
      await this.compress();
    }
  }

  private fillUsers(): void {
    const s = this.session!;
    this.userIds = new Map(s.log.users.map((u, i) => [u, i]));
    const opts = Array.from(s.testUsers.subarray(0, 2000), (u) => {
      const o = document.createElement('option');
      o.value = s.log.users[u]!;
      return o;
    });
    $('user-list').replaceChildren(...opts);
    const input = $<HTMLInputElement>('user');
    const wanted = params.get('user');
    if (!input.value || !this.userIds.has(input.value)) input.value = wanted && this.userIds.has(wanted) ? wanted : s.log.users[this.busiestUser()]!;
    this.showUser();
  }

  /** An evaluated user with the most training items (a readable first example). */
  private busiestUser(): number {
    const s = this.session!,
      p = s.split.trainPtr;
    let best = s.testUsers[0]!;
    for (const u of s.testUsers) if (p[u + 1]! - p[u]! > p[best + 1]! - p[best]! && p[u + 1]! - p[u]! <= 12) best = u;
    return best;
  }

  showUser(): void {
    const s = this.session;
    const name = $<HTMLInputElement>('user').value;
    const u = this.userIds.get(name);
    if (!s?.dense || u === undefined) {
      $('user-view').innerHTML = name ? '<p class="note">no such user in the data</p>' : '';
      return;
    }
    const v = {
      name,
      history: s.history(u),
      popular: s.top(s.popLists, u),
      dense: s.top(s.denseLists, u),
      compressed: s.top(s.compressedLists, u),
    };
    $('user-view').innerHTML = userView(v);
    probe.user = { name, dense: v.dense, compressed: v.compressed };
  }
}

function wireData(p: RecPage): void {
  const loadFile = async (f: File) => p.load(await f.text(), f.name);
  $('use-sample').onclick = async () => {
    try {
      const r = await fetch(SAMPLE_URL);
      if (!r.ok) throw new Error(`${SAMPLE_URL}: HTTP ${r.status}`);
      p.load(await r.text(), 'debian-deps-sample.csv');
    } catch (e) {
      fail('Could not load the bundled sample', e);
    }
  };
  $('use-paste').onclick = () => p.load(field<HTMLTextAreaElement>('paste').value, 'pasted.csv');
  field('file').onchange = (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void loadFile(f);
  };
  $('drop').ondragover = (e) => e.preventDefault();
  $('drop').ondrop = (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files[0];
    if (f) void loadFile(f);
  };
}

function wireModel(p: RecPage): void {
  form().onsubmit = (e) => {
    e.preventDefault();
    void p.train();
  };
  $('stop').onclick = () => {
    p.stopping = true;
  };
  field('prune').oninput = () => {
    $('prune-value').textContent = `${field('prune').value}%`;
  };
  for (const k of ['prune', 'bits', 'finetune']) field(k).onchange = () => void p.compress();
  $<HTMLInputElement>('user').onchange = () => p.showUser();
  $('download').onclick = () => {
    if (p.last) save(p.last.file, `rec-${Math.round(100 * p.last.sparsity)}pct-${p.last.bits || 32}bit.slim.safetensors`);
  };
}

async function main(): Promise<void> {
  const g = await startGpu();
  if (!g) {
    probe.state = 'nogpu';
    return;
  }
  const p = new RecPage(g.gpu);
  applyParams();
  wireData(p);
  wireModel(p);
  probe.state = 'ready';
  if (params.get('sample') === '1') await ($('use-sample').onclick as () => Promise<void>)();
  if (params.get('autostart') === '1' && p.session) {
    await p.train();
    if ((probe.state as RecProbe['state']) === 'trained') await p.compress();
  }
}

void main();
