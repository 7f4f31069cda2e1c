// Rate–distortion helpers of `npm run bench -- images`: Bjøntegaard delta rate, the "better PSNR at
// every rate" check, and the SVG plot.

export interface RdPoint {
  bpp: number;
  psnr: number;
  setting: string;
}
export interface RdCurve {
  codec: string;
  points: RdPoint[];
}

/** Least-squares polynomial of degree `deg` (coefficients, lowest first) through (x, y). */
function polyfit(x: number[], y: number[], deg: number): number[] {
  const n = deg + 1;
  const a = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  for (let i = 0; i < x.length; i++) {
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) a[r]![c]! += x[i]! ** (r + c);
      a[r]![n]! += y[i]! * x[i]! ** r;
    }
  }
  for (let c = 0; c < n; c++) {
    // Gauss-Jordan with partial pivoting
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row, i) => row[n]! / row[i]!);
}

const integral = (p: number[], lo: number, hi: number) => p.reduce((s, c, i) => s + (c * (hi ** (i + 1) - lo ** (i + 1))) / (i + 1), 0);

/**
 * Bjøntegaard delta rate of `test` against `anchor` in percent (negative: fewer bits at equal
 * PSNR): cubic fits of log(rate) over PSNR, integrated over the PSNR range both curves cover.
 * Undefined when the ranges do not overlap or a curve has < 4 distinct points.
 */
export function bdRate(anchor: RdPoint[], test: RdPoint[]): { bdRate: number; psnrFrom: number; psnrTo: number } | undefined {
  const clean = (c: RdPoint[]) => c.filter((p) => p.bpp > 0 && Number.isFinite(p.psnr));
  const a = clean(anchor),
    t = clean(test);
  if (a.length < 4 || t.length < 4) return undefined;
  const lo = Math.max(Math.min(...a.map((p) => p.psnr)), Math.min(...t.map((p) => p.psnr)));
  const hi = Math.min(Math.max(...a.map((p) => p.psnr)), Math.max(...t.map((p) => p.psnr)));
  if (!(hi > lo)) return undefined;
  const fa = polyfit(
    a.map((p) => p.psnr),
    a.map((p) => Math.log(p.bpp)),
    3,
  );
  const ft = polyfit(
    t.map((p) => p.psnr),
    t.map((p) => Math.log(p.bpp)),
    3,
  );
  const avg = (integral(ft, lo, hi) - integral(fa, lo, hi)) / (hi - lo);
  return { bdRate: (Math.exp(avg) - 1) * 100, psnrFrom: lo, psnrTo: hi };
}

/** PSNR of a curve at `bpp` by linear interpolation in log rate over its convex-ish hull (undefined outside its range). */
export function psnrAt(curve: RdPoint[], bpp: number): number | undefined {
  const c = [...curve].sort((x, y) => x.bpp - y.bpp);
  if (!c.length || bpp < c[0]!.bpp || bpp > c[c.length - 1]!.bpp) return undefined;
  for (let i = 1; i < c.length; i++) {
    if (bpp <= c[i]!.bpp) {
      const l0 = Math.log(c[i - 1]!.bpp),
        l1 = Math.log(c[i]!.bpp);
      const f = l1 === l0 ? 1 : (Math.log(bpp) - l0) / (l1 - l0);
      return c[i - 1]!.psnr + f * (c[i]!.psnr - c[i - 1]!.psnr);
    }
  }
  return c[c.length - 1]!.psnr;
}

/**
 * For every anchor point at ≥ minBpp: the best PSNR we reach within its rate (any of our points at
 * ≤ that bpp — a codec can always spend fewer bits — or exactness when our lossless mode fits),
 * and the margin over the anchor. `ours` undefined: none of our points is that cheap.
 */
export function psnrMargins(
  anchor: RdPoint[],
  ours: RdPoint[],
  minBpp: number,
  losslessBpp?: number,
): { bpp: number; anchor: number; ours?: number | 'lossless'; margin?: number | 'lossless' }[] {
  return anchor
    .filter((p) => p.bpp >= minBpp)
    .map((p) => {
      if (losslessBpp !== undefined && losslessBpp <= p.bpp) return { bpp: p.bpp, anchor: p.psnr, ours: 'lossless', margin: 'lossless' };
      const within = ours.filter((o) => o.bpp <= p.bpp);
      if (!within.length) return { bpp: p.bpp, anchor: p.psnr };
      const best = Math.max(...within.map((o) => o.psnr));
      return { bpp: p.bpp, anchor: p.psnr, ours: best, margin: best - p.psnr };
    });
}

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** An SVG with one panel per data set: PSNR (dB) over bpp (log axis), one line per codec. */
export function rdSvg(panels: { title: string; curves: RdCurve[] }[]): string {
  const W = 460,
    H = 340,
    M = { l: 52, r: 12, t: 28, b: 42 };
  const parts: string[] = [];
  panels.forEach((panel, pi) => {
    const ox = pi * W;
    const pts = panel.curves.flatMap((c) => c.points).filter((p) => p.bpp > 0 && Number.isFinite(p.psnr));
    if (!pts.length) return;
    const x0 = Math.log2(Math.min(...pts.map((p) => p.bpp))),
      x1 = Math.log2(Math.max(...pts.map((p) => p.bpp)));
    const y0 = Math.floor(Math.min(...pts.map((p) => p.psnr))),
      y1 = Math.ceil(Math.max(...pts.map((p) => p.psnr)));
    const sx = (b: number) => ox + M.l + ((Math.log2(b) - x0) / Math.max(x1 - x0, 1e-9)) * (W - M.l - M.r);
    const sy = (v: number) => M.t + (1 - (v - y0) / Math.max(y1 - y0, 1e-9)) * (H - M.t - M.b);
    parts.push(`<text x="${ox + W / 2}" y="18" text-anchor="middle" font-weight="bold">${panel.title}</text>`);
    parts.push(`<rect x="${ox + M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#999"/>`);
    for (let e = Math.ceil(x0 * 2) / 2; e <= x1; e += 0.5) {
      parts.push(`<text x="${sx(2 ** e).toFixed(1)}" y="${H - M.b + 14}" text-anchor="middle" font-size="10">${+(2 ** e).toPrecision(2)}</text>`);
    }
    for (let v = y0; v <= y1; v += Math.max(1, Math.round((y1 - y0) / 8))) {
      parts.push(`<text x="${ox + M.l - 4}" y="${sy(v) + 3}" text-anchor="end" font-size="10">${v}</text>`);
    }
    parts.push(`<text x="${ox + W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">bits per pixel (log scale)</text>`);
    parts.push(`<text x="${ox + 12}" y="${H / 2}" transform="rotate(-90 ${ox + 12} ${H / 2})" text-anchor="middle" font-size="11">PSNR (dB)</text>`);
    panel.curves.forEach((c, ci) => {
      const col = COLORS[ci % COLORS.length]!;
      const cp = c.points.filter((p) => p.bpp > 0 && Number.isFinite(p.psnr)).sort((a, b) => a.bpp - b.bpp);
      parts.push(
        `<polyline fill="none" stroke="${col}" stroke-width="${ci === 0 ? 2.5 : 1.5}" points="${cp.map((p) => `${sx(p.bpp).toFixed(1)},${sy(p.psnr).toFixed(1)}`).join(' ')}"/>`,
      );
      for (const p of cp) parts.push(`<circle cx="${sx(p.bpp).toFixed(1)}" cy="${sy(p.psnr).toFixed(1)}" r="2.2" fill="${col}"/>`);
      parts.push(`<text x="${ox + M.l + 8}" y="${M.t + 14 + 14 * ci}" font-size="11" fill="${col}">${c.codec}</text>`);
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H}" font-family="sans-serif">\n${parts.join('\n')}\n</svg>\n`;
}
