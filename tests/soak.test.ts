// The short soak (npm run soak runs 10,000 steps): after a warm-up round every sample point of a run
// with mask refreshes, evaluations, checkpoints and weight sharing holds exactly the same live GPU
// buffers and pipelines, and after training only the network's arena is left.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const exec = promisify(execFile);

it('soak --quick: flat live buffers, bytes and pipeline cache; only the arena left at the end', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'slimgpu-soak-test-'));
  const json = join(dir, 'soak.json');
  const { stdout } = await exec(process.execPath, ['dist/scripts/soak.js', '--quick', '--model', 'mlp:784-32-10', '--json', json], { cwd: resolve(import.meta.dirname, '..') });
  expect(stdout).toMatch(/soak: mlp:784-32-10, 120 steps .* \d+ mask refreshes, \d+ evaluations, \d+ checkpoints, 2 share\+fine-tune\+export\+load rounds/);
  const r = JSON.parse(await readFile(json, 'utf8')) as { samples: { step: number; liveBuffers: number; liveMiB: number; pipelines: number }[]; measuredFrom: number; slopesPer1000Steps: Record<string, number>; refreshes: number };
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
  await rm(dir, { recursive: true, force: true });
});
