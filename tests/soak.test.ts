// The short soak (npm run soak runs 10,000 steps): after a warm-up round every sample point of a run
// with mask refreshes, evaluations, checkpoints and weight sharing holds exactly the same live GPU
// buffers and pipelines, and after training only the network's arena is left.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { parseMallocStats } from '../scripts/malloc-stats.js';

const exec = promisify(execFile);

type SoakJson = {
  samples: { step: number; liveBuffers: number; liveMiB: number; pipelines: number }[];
  measuredFrom: number;
  slopesPer1000Steps: Record<string, number>;
  refreshes: number;
  forcedGc: boolean;
};

async function quickSoak(model: string): Promise<{ stdout: string; r: SoakJson }> {
  const dir = await mkdtemp(join(tmpdir(), 'slimgpu-soak-test-'));
  try {
    const json = join(dir, 'soak.json');
    const { stdout } = await exec(process.execPath, ['--expose-gc', 'dist/scripts/soak.js', '--quick', '--model', model, '--json', json], {
      cwd: resolve(import.meta.dirname, '..'),
    });
    return { stdout, r: JSON.parse(await readFile(json, 'utf8')) as SoakJson };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

it('soak --quick: flat live buffers, bytes and pipeline cache; only the arena left at the end', async () => {
  const { stdout, r } = await quickSoak('mlp:784-32-10');
  expect(stdout).toMatch(
    /soak: mlp:784-32-10, 120 steps .* \d+ mask refreshes, \d+ evaluations, \d+ checkpoints, 2 share\+fine-tune\+export\+load rounds/,
  );
  expect(r.forcedGc).toBe(true);
  expect(r.refreshes).toBeGreaterThan(5);
  const during = r.samples.slice(0, -1).filter((s) => s.step >= r.measuredFrom);
  expect(during.length).toBeGreaterThan(4);
  for (const s of during) {
    expect(s.liveBuffers).toBe(during[0]!.liveBuffers);
    expect(s.liveMiB).toBe(during[0]!.liveMiB);
    expect(s.pipelines).toBe(during[0]!.pipelines);
  }
  expect(r.slopesPer1000Steps.liveBuffers).toBe(0);
  // weights, gradients, momentum, masks
  expect(r.samples[r.samples.length - 1]!.liveBuffers).toBe(4);
});

it('soak --quick --model gpt: weight sharing on a GPT too; flat buffers and pipelines', async () => {
  const { stdout, r } = await quickSoak('gpt');
  expect(stdout).toMatch(/soak: gpt, 120 steps .* 2 share\+fine-tune\+export\+load rounds/);
  const during = r.samples.slice(0, -1).filter((s) => s.step >= r.measuredFrom);
  expect(during.length).toBeGreaterThan(3);
  for (const s of during) expect([s.liveBuffers, s.liveMiB, s.pipelines]).toEqual([during[0]!.liveBuffers, during[0]!.liveMiB, during[0]!.pipelines]);
  expect(r.samples[r.samples.length - 1]!.liveBuffers).toBeLessThan(during[0]!.liveBuffers);
});

it('parseMallocStats reads glibc malloc_stats() text', () => {
  const text =
    'Arena 0:\nsystem bytes     =   12795904\nin use bytes     =   12602096\nArena 1:\nsystem bytes     =     135168\nin use bytes     =       3552\nTotal (incl. mmap):\nsystem bytes     =   13066240\nin use bytes     =   12740816\nmax mmap regions =          1\nmax mmap bytes   =     135168\n';
  expect(parseMallocStats(text)).toEqual({ systemBytes: 13066240, inUseBytes: 12740816, arenas: 2 });
  expect(parseMallocStats('no such block')).toBeUndefined();
});
