// The recommend page's tables as HTML: the per-epoch metrics beside the popularity baseline, the
// compression rows (size per table, ratio, test HR/NDCG and its change), one user's history and
// the dense and compressed top-10 side by side.
import type { Metrics } from '../src/rec/eval.js';
import type { CompressResult, EpochResult } from './rec-session.js';
import { esc, fmtBytes, fmtInt, pct } from './page.js';

const f4 = (x: number) => x.toFixed(4);

export function epochTable(rows: EpochResult[], pop: Metrics): string {
  const head = '<tr><th>epoch</th><th>loss</th><th>HR@10</th><th>NDCG@10</th><th>NDCG / popularity</th><th>seconds</th></tr>';
  const popRow = `<tr class="muted"><td>popularity</td><td>–</td><td>${f4(pop.hr)}</td><td>${f4(pop.ndcg)}</td><td>1.00×</td><td>–</td></tr>`;
  const body = rows
    .map(
      (r) =>
        `<tr><td>${r.epoch}</td><td>${r.loss.toFixed(4)}</td><td>${f4(r.valid.hr)}</td><td>${f4(r.valid.ndcg)}</td>` +
        `<td>${(r.valid.ndcg / Math.max(1e-12, pop.ndcg)).toFixed(2)}×</td><td>${r.seconds.toFixed(2)}</td></tr>`,
    )
    .join('');
  return head + popRow + body;
}

export interface DenseRow {
  bytes: number;
  test: Metrics;
  best: number;
}

export function stageTable(dense: DenseRow, pop: Metrics, c?: CompressResult): string {
  const head = '<tr><th>model (test ranking)</th><th>bytes</th><th>ratio</th><th>HR@10</th><th>NDCG@10</th><th>ΔNDCG</th><th>/ popularity</th></tr>';
  const row = (name: string, bytes: number, m: Metrics) =>
    `<tr><td>${esc(name)}</td><td>${bytes ? fmtInt(bytes) : '–'}</td><td>${bytes ? `${(dense.bytes / bytes).toFixed(1)}×` : '–'}</td>` +
    `<td>${f4(m.hr)}</td><td>${f4(m.ndcg)}</td><td>${bytes ? `${(100 * (m.ndcg / dense.test.ndcg - 1)).toFixed(1)}%` : '–'}</td>` +
    `<td>${(m.ndcg / Math.max(1e-12, pop.ndcg)).toFixed(2)}×</td></tr>`;
  let out = head + row('popularity', 0, pop) + row(`dense fp32 (best epoch ${dense.best})`, dense.bytes, dense.test);
  if (c) {
    const name = `pruned ${pct(c.sparsity, 0)}${c.fineTuneEpochs ? ` + ${c.fineTuneEpochs} fine-tune epoch${c.fineTuneEpochs > 1 ? 's' : ''}` : ''}${c.bits ? ` + k-means ${c.bits} bits` : ''}, .slim.safetensors`;
    out += row(name, c.bytes, c.test);
    out +=
      '<tr><td colspan="7" class="note">' +
      c.tables.map((t) => `${esc(t.table)}: ${fmtInt(t.kept)} of ${fmtInt(t.params)} kept, ${t.bits} bits, ${fmtBytes(t.bytes)}`).join(' · ') +
      '</td></tr>';
  }
  return out;
}

export interface UserView {
  name: string;
  history: { train: string[]; valid?: string; test?: string };
  dense: string[];
  compressed: string[];
  popular: string[];
}

function topList(title: string, items: string[], test: string | undefined, other?: string[]): string {
  if (items.length === 0) return `<div><h4>${esc(title)}</h4><p class="note">move the compression slider first</p></div>`;
  const li = items
    .map((it) => {
      const hit = it === test ? ' <span class="ok">✓ held-out</span>' : '';
      const diff = other && !other.includes(it) ? ' <span class="note">(new)</span>' : '';
      return `<li>${esc(it)}${hit}${diff}</li>`;
    })
    .join('');
  return `<div><h4>${esc(title)}</h4><ol class="top10" data-list="${esc(title)}">${li}</ol></div>`;
}

export function userView(v: UserView): string {
  const h = v.history;
  const hist =
    `<p><b>${esc(v.name)}</b>: ${fmtInt(h.train.length)} training items — ${h.train.map(esc).join(', ')}` +
    `${h.valid ? `; validation: ${esc(h.valid)}` : ''}${h.test ? `; <b>held out (test): ${esc(h.test)}</b>` : ' (not evaluated: fewer than 3 items)'}</p>`;
  const cols =
    topList('popularity', v.popular, h.test) +
    topList('dense model', v.dense, h.test) +
    topList('compressed model', v.compressed, h.test, v.dense.length ? v.dense : undefined);
  return `${hist}<div class="top10s">${cols}</div>`;
}
