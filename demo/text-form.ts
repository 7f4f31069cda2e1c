// The text-model page's form (demo/text.html): its fields, the run's settings read from them (URL
// parameters prefill them) and the text source to train on.
import { $, fileBytes, numParam } from './page.js';
import gplUrl from './samples/gpl-3.txt?url';
import readmeUrl from '../README.md?url';

export const form = $<HTMLFormElement>('controls');
export const field = <T extends HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(name: string): T => {
  const el = form.elements.namedItem(name);
  if (!el) throw new Error(`text page: no form field '${name}'`);
  return el as T;
};
export const params = new URLSearchParams(location.search);

export interface TextConfig {
  source: string;
  model: string;
  steps: number;
  batch: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  clip: number;
  sparsity: number;
  bits: number;
  seed: number;
  evalEvery: number;
  fineTune: number;
  perSubmit: number;
}

export const FORM_PARAMS = [
  'source',
  'model',
  'steps',
  'batch',
  'lr',
  'warmup',
  'weightDecay',
  'clip',
  'sparsity',
  'bits',
  'seed',
  'prompt',
  'tokens',
  'temperature',
  'sampleSeed',
];

export function readConfig(): TextConfig {
  const num = (name: string) => {
    const v = Number(field(name).value);
    if (!Number.isFinite(v)) throw new Error(`${name}: '${field(name).value}' is not a number`);
    return v;
  };
  const steps = num('steps');
  return {
    source: field('source').value,
    model: field('model').value.trim(),
    steps,
    batch: num('batch'),
    lr: num('lr'),
    warmup: num('warmup'),
    weightDecay: num('weightDecay'),
    clip: num('clip'),
    sparsity: num('sparsity'),
    bits: num('bits'),
    seed: num('seed'),
    evalEvery: numParam(params, 'evalEvery') ?? Math.max(1, Math.ceil(steps / 15)),
    fineTune: numParam(params, 'fineTune') ?? 50,
    perSubmit: numParam(params, 'perSubmit') ?? 8,
  };
}

export function syncSource(): void {
  const s = field('source').value;
  $('file-label').hidden = s !== 'file';
  $('paste-label').hidden = s !== 'paste';
}

/** The text to train on and its name. */
export async function loadSource(source: string): Promise<{ bytes: Uint8Array; name: string }> {
  if (source === 'paste') return { bytes: new TextEncoder().encode(field<HTMLTextAreaElement>('paste').value), name: 'pasted text' };
  if (source === 'file') {
    const f = field<HTMLInputElement>('file').files?.[0];
    if (!f) throw new Error('choose a file first');
    return { bytes: await fileBytes(f), name: f.name };
  }
  const url = source === 'readme' ? readmeUrl : gplUrl;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`sample text: ${url} answered ${res.status} ${res.statusText}`);
  return {
    bytes: new Uint8Array(await res.arrayBuffer()),
    name: source === 'readme' ? 'slimgpu README.md' : 'GNU GPL v3 (Debian /usr/share/common-licenses/GPL-3)',
  };
}

export function setRunning(running: boolean): void {
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input, select, textarea')) {
    // the sampling settings stay live while training
    if (!['prompt', 'tokens', 'temperature', 'sampleSeed', 'autoSample'].includes(el.name)) el.disabled = running;
  }
  $<HTMLButtonElement>('run').disabled = running;
  $<HTMLButtonElement>('stop').disabled = !running;
}
