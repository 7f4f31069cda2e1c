// The demo page's settings: the form, URL parameters (see main.ts), and the advice it shows.
import { $, fmtInt, pct } from './page.js';
import type { DemoConfig } from './report.js';

export const form = $<HTMLFormElement>('controls');
export const field = <T extends HTMLInputElement | HTMLSelectElement>(name: string): T => {
  const el = form.elements.namedItem(name);
  if (!el) throw new Error(`demo: no form field '${name}'`);
  return el as T;
};

export const params = new URLSearchParams(location.search);
export const numParam = (k: string): number | undefined => {
  const v = params.get(k);
  return v === null || v === '' ? undefined : Number(v);
};

/** Presets the form from the URL; values a select does not offer are added to it. */
export function applyUrlParams(): void {
  const test = numParam('test') ?? 2000;
  for (const o of (field('train') as HTMLSelectElement).options) o.text = `${fmtInt(Number(o.value))} train / ${fmtInt(test)} test`;
  for (const name of ['train', 'model', 'sparsity', 'schedule', 'pruning', 'bits', 'epochs', 'batch', 'lr', 'momentum', 'l2', 'seed']) {
    const v = params.get(name);
    if (v === null) continue;
    const el = field(name);
    if (el instanceof HTMLSelectElement && ![...el.options].some((o) => o.value === v)) {
      if (name === 'schedule' || name === 'pruning' || name === 'bits') continue;
      const label = name === 'train' ? `${fmtInt(Number(v))} train / ${fmtInt(test)} test` : v;
      el.add(new Option(label, v));
    }
    el.value = v;
  }
}

export function readConfig(): DemoConfig {
  const num = (name: string) => {
    const v = Number(field(name).value);
    if (!Number.isFinite(v)) throw new Error(`${name}: '${field(name).value}' is not a number`);
    return v;
  };
  return {
    model: field('model').value,
    train: num('train'),
    test: numParam('test') ?? 2000,
    sparsity: num('sparsity'),
    schedule: field('schedule').value as DemoConfig['schedule'],
    pruning: field('pruning').value as DemoConfig['pruning'],
    epochs: num('epochs'),
    batch: num('batch'),
    lr: num('lr'),
    momentum: num('momentum'),
    l2: num('l2'),
    seed: num('seed'),
    bits: num('bits'),
    fineTune: numParam('fineTune'),
    maxSteps: numParam('steps'),
    logEvery: numParam('logEvery'),
    perSubmit: numParam('perSubmit') ?? 4,
    inspectMs: numParam('inspectMs') ?? 1000,
    fault: params.get('fault') ?? undefined,
  };
}

export function syncSparsityLabel(): void {
  (form.elements.namedItem('sparsityOut') as HTMLOutputElement).value = pct(Number(field('sparsity').value), 0);
}

/** Learning rates that train each preset well with momentum 0.9 (LeNet-5 diverges at 0.1; the autoencoder's MSE needs more). */
export const SUGGESTED_LR: Record<string, number> = { 'lenet-300-100': 0.1, 'lenet-5': 0.01, 'mlp:784-100-10': 0.1, 'autoencoder:784-64': 3 };
