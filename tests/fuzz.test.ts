// Hostile data: every hand-written case gets its named error, and a seeded mutation fuzz of every
// reader finds only named errors — no crash, no hang, no allocation far beyond the input's size.
// FUZZ_CASES (cases per reader; default 120 here, `npm run fuzz` runs 1500) and FUZZ_REPORT=1 (print
// the tables) make the long version.
import { describe, expect, it } from 'vitest';
import { ALLOC_SLACK, fuzzReader, hostileCases, isNamed, readers, trackAllocations, type FuzzResult } from './fuzz.js';

const CASES = Number(process.env.FUZZ_CASES ?? 120);
const REPORT = process.env.FUZZ_REPORT === '1';
/** The largest single allocation may be this many times the input's size (+ 64 KiB): decoders expand (bitmask → f32 is 32×). */
const ALLOC_RATIO = 40;

describe('hostile data', () => {
  it('the allocation tracker sees typed arrays made by name, from and of', () => {
    const t = trackAllocations();
    try {
      t.reset();
      expect(new Float32Array(1000).length).toBe(1000);
      expect(t.largest()).toBe(4000);
      const f = Float64Array.from({ length: 2000 }, () => 1);
      expect(f).toBeInstanceOf(Float64Array);
      expect(t.largest()).toBe(16000);
      new ArrayBuffer(50_000);
      expect(t.largest()).toBe(50_000);
    } finally {
      t.stop();
    }
    expect(Object.getPrototypeOf(new Float32Array(1)).constructor).toBe(Float32Array);
  });

  it('every hand-written case gets its named error', async () => {
    const rows: string[] = [];
    for (const c of await hostileCases()) {
      let err: unknown;
      try {
        await c.run();
      } catch (e) {
        err = e;
      }
      expect(err, `${c.reader}: ${c.what} was accepted`).toBeDefined();
      expect(isNamed(err), `${c.reader}: ${c.what} threw ${String(err)}`).toBe(true);
      expect((err as Error).message, `${c.reader}: ${c.what}`).toMatch(c.error);
      rows.push(`| ${c.reader} | ${c.what} | ${(err as Error).name}: ${(err as Error).message.replace(/\|/g, '\\|').slice(0, 160)} |`);
    }
    if (REPORT) console.log(['| reader | case | error |', '|---|---|---|', ...rows].join('\n'));
  });

  it(`seeded fuzz: ${CASES} mutations per reader, only named errors`, async () => {
    const results: FuzzResult[] = [];
    for (const [k, r] of (await readers()).entries()) results.push(await fuzzReader(r, CASES, 1000 + k));
    if (REPORT) {
      console.log(
        [
          '| reader | cases | accepted | named errors | crashes | hangs (> 2 s) | slowest | largest allocation / (input + 64 KiB) |',
          '|---|---:|---:|---|---:|---:|---:|---:|',
          ...results.map(
            (r) =>
              `| ${r.reader} | ${r.cases} | ${r.accepted} | ${r.named} (${Object.entries(r.errors)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')}) | ${r.crashes.length} | ${r.hangs} | ${r.slowestMs.toFixed(1)} ms | ${r.worstAllocRatio.toFixed(2)} |`,
          ),
          `total: ${results.reduce((a, r) => a + r.cases, 0)} cases, ${results.reduce((a, r) => a + r.crashes.length, 0)} crashes`,
        ].join('\n'),
      );
    }
    for (const r of results) {
      expect(r.crashes, r.reader).toEqual([]);
      expect(r.hangs, r.reader).toBe(0);
      expect(r.worstAllocRatio, `${r.reader}: largest allocation vs input + ${ALLOC_SLACK} bytes`).toBeLessThanOrEqual(ALLOC_RATIO);
      expect(r.cases).toBe(CASES);
    }
  });
});
