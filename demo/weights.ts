// Images of the first layer's weights and masks. Dense (in, out) with a square input (784 = 28×28):
// one tile per unit (column j of W). Conv (OC, C, K, K): one K×K tile per filter (channel 0).
// Tiles are drawn at one pixel per weight into the canvas; CSS scales them up pixelated.
import type { ResolvedLayer } from '../src/index.js';

export interface TileLayout {
  /** Tiles drawn (units or filters). */
  count: number;
  /** Tile side lengths in weights. */
  th: number;
  tw: number;
  cols: number;
  rows: number;
  /** Value of weight (tile t, row y, column x) in the flat weight array. */
  index(t: number, y: number, x: number): number;
  caption: string;
}

const GAP = 1;

/** How to cut the first layer's weight tensor into tiles, or undefined when it has no image form. */
export function tileLayout(layer: ResolvedLayer, maxTiles: number): TileLayout | undefined {
  const ws = layer.weightShape;
  if (!ws) return undefined;
  if (layer.spec.kind === 'conv2d') {
    const [OC, C, KH, KW] = ws as [number, number, number, number];
    const count = Math.min(OC, maxTiles);
    const cols = Math.min(count, 10);
    return {
      count,
      th: KH,
      tw: KW,
      cols,
      rows: Math.ceil(count / cols),
      index: (t, y, x) => (t * C * KH + y) * KW + x,
      caption: `${count} of ${OC} ${KH}×${KW} filters of ${layer.name}${C > 1 ? ' (input channel 0)' : ''}`,
    };
  }
  const [inD, out] = ws as [number, number];
  const img = layer.inShape.length === 3 ? layer.inShape : undefined;
  let th: number, tw: number;
  if (img && img[0] === 1) {
    th = img[1]!;
    tw = img[2]!;
  } else {
    const side = Math.round(Math.sqrt(inD));
    if (side * side !== inD) return undefined;
    th = tw = side;
  }
  const count = Math.min(out, maxTiles);
  const cols = Math.min(count, 10);
  return {
    count,
    th,
    tw,
    cols,
    rows: Math.ceil(count / cols),
    index: (t, y, x) => (y * tw + x) * out + t,
    caption: `${count} of ${out} units of ${layer.name}, one ${th}×${tw} tile of input weights each`,
  };
}

function size(l: TileLayout): [number, number] {
  return [l.cols * (l.tw + GAP) - GAP, l.rows * (l.th + GAP) - GAP];
}

/** Paints `layout`'s tiles of `values` into `canvas`: weights diverging (blue − / white 0 / red +), masks kept dark. */
export function drawTiles(canvas: HTMLCanvasElement, layout: TileLayout, values: Float32Array, mode: 'weights' | 'mask'): void {
  const [W, H] = size(layout);
  if (canvas.width !== W || canvas.height !== H) {
    canvas.width = W;
    canvas.height = H;
  }
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(W, H);
  const px = img.data;
  // background (the gaps between tiles)
  for (let i = 0; i < px.length; i += 4) {
    px[i] = 226;
    px[i + 1] = 230;
    px[i + 2] = 236;
    px[i + 3] = 255;
  }
  let scale = 0;
  if (mode === 'weights') {
    // a robust scale: the 99th percentile of |w| over the drawn tiles
    const abs: number[] = [];
    for (let t = 0; t < layout.count; t++)
      for (let y = 0; y < layout.th; y++) for (let x = 0; x < layout.tw; x++) abs.push(Math.abs(values[layout.index(t, y, x)]!));
    abs.sort((a, b) => a - b);
    scale = abs[Math.floor(0.99 * (abs.length - 1))] || 1;
  }
  for (let t = 0; t < layout.count; t++) {
    const ox = (t % layout.cols) * (layout.tw + GAP),
      oy = Math.floor(t / layout.cols) * (layout.th + GAP);
    for (let y = 0; y < layout.th; y++) {
      for (let x = 0; x < layout.tw; x++) {
        const v = values[layout.index(t, y, x)]!;
        const o = ((oy + y) * W + ox + x) * 4;
        let r: number, g: number, b: number;
        if (mode === 'mask') {
          [r, g, b] = v !== 0 ? [37, 52, 77] : [252, 252, 253];
        } else {
          const a = Math.max(-1, Math.min(1, v / scale));
          // white at 0, toward #d6604d for +, toward #4393c3 for −
          const [tr, tg, tb] = a >= 0 ? [214, 96, 77] : [67, 147, 195];
          const k = Math.abs(a);
          r = 255 + (tr - 255) * k;
          g = 255 + (tg - 255) * k;
          b = 255 + (tb - 255) * k;
        }
        px[o] = r;
        px[o + 1] = g;
        px[o + 2] = b;
        px[o + 3] = 255;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
}
