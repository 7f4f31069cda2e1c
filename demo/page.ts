// Helpers shared by the text-model and codec pages: DOM look-ups, formatting, notices, the WebGPU
// start-up (with the same help as the main demo when there is none), downloads.
import { createGpu, NO_ADAPTER_HELP, type Gpu } from '../src/index.js';

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no element #${id}`);
  return el as T;
};

export const fmtInt = (n: number) => n.toLocaleString('en-US');
export const fmtBytes = (b: number) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);
export const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)}%`;
export const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function showNotice(kind: 'error' | 'warn', title: string, body: string, detail?: string): void {
  const notice = $('notice');
  notice.hidden = false;
  notice.className = kind === 'warn' ? 'notice warn' : 'notice';
  notice.innerHTML = `<h3>${esc(title)}</h3><div>${esc(body)}</div>${detail ? `<pre>${esc(detail)}</pre>` : ''}`;
}

export function hideNotice(): void {
  $('notice').hidden = true;
}

export const BROWSER_HELP =
  'This page needs WebGPU: Chrome or Edge 113+ (Windows, macOS, ChromeOS, Android) or another browser with WebGPU enabled, ' +
  'on a secure page (https:// or http://localhost / 127.0.0.1). On Linux, start Chrome/Chromium with --enable-unsafe-webgpu ' +
  '(and --use-angle=vulkan for a Vulkan driver, or --enable-features=Vulkan).';

/**
 * The WebGPU device, or undefined after showing why there is none (in #notice and #adapter). A later
 * device loss shows a notice and calls `onLost`, unless `ownsLoss()` says the page handles it itself.
 */
export async function startGpu(opts: { ownsLoss?: () => boolean; onLost?: () => void } = {}): Promise<{ gpu: Gpu; adapter: string } | undefined> {
  const fail = (title: string, body: string, short: string) => {
    showNotice('error', title, `${body} ${BROWSER_HELP}`, NO_ADAPTER_HELP);
    $('adapter').textContent = short;
    return undefined;
  };
  if (!window.isSecureContext)
    return fail('WebGPU needs a secure page', `This page was opened over an insecure origin (${location.origin}).`, 'no WebGPU (insecure origin)');
  if (!('gpu' in navigator)) return fail('This browser has no WebGPU', 'navigator.gpu is missing.', 'no WebGPU (navigator.gpu is missing)');
  let gpu: Gpu;
  try {
    gpu = await createGpu();
  } catch (e) {
    return fail(
      'No WebGPU adapter',
      `The browser has WebGPU but gave no adapter or device (${(e as Error).message.split('\n')[0]}).`,
      'no WebGPU adapter',
    );
  }
  const i = gpu.info;
  const adapter = i.description || i.device || `${i.vendor} ${i.architecture}`;
  $('adapter').innerHTML =
    `WebGPU adapter: <b>${esc(adapter || 'unnamed')}</b><br>${esc([i.vendor, i.architecture].filter(Boolean).join(' · '))}` +
    `${i.isFallbackAdapter ? ' · software fallback' : ''}`;
  gpu.device.lost
    .then((info) => {
      if (info.reason === 'destroyed' || opts.ownsLoss?.()) return;
      showNotice('error', 'The GPU device was lost', info.message || String(info.reason), 'Reload the page to start again.');
      opts.onLost?.();
    })
    .catch(() => undefined);
  return { gpu, adapter };
}

/** Offers `bytes` as a download named `name`. */
export function save(bytes: Uint8Array | string, name: string, type = 'application/octet-stream'): void {
  const blob = new Blob([bytes as BlobPart], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A file's bytes (from an <input type=file> or a drop). */
export async function fileBytes(f: File): Promise<Uint8Array> {
  return new Uint8Array(await f.arrayBuffer());
}

/** Number from a URL parameter (undefined when absent). */
export function numParam(params: URLSearchParams, k: string): number | undefined {
  const v = params.get(k);
  return v === null || v === '' ? undefined : Number(v);
}
