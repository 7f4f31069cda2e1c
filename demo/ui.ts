// Small DOM and formatting helpers shared by the demo page's modules.
export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: no element #${id}`);
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
