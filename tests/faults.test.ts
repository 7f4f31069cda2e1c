// Faults: a lost device (resume gives the same weights bitwise), one writer per run folder (a live
// holder refuses, a kill -9'd one is taken over), a full or read-only disk (clear error, previous
// file intact, no temporary file), and Dawn's start-up warnings kept out of normal output.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpu, loadCheckpoint, writeFileAtomic, writeCompressed, type Gpu } from '../src/index.js';
import { runTraining, type RunConfig } from '../src/run/run.js';
import { DeviceLostError, parseFault } from '../src/nn/faults.js';
import { acquireRunLock, LOCK_NAME, RunLockError } from '../src/io/runlock.js';

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');

// 16 steps per epoch, 3 epochs, mask refreshes every 4 steps, a checkpoint every 8 steps
const CFG: RunConfig = {
  model: 'mlp:784-32-10',
  data: 'mnist',
  trainSize: 512,
  testSize: 100,
  batch: 32,
  epochs: 3,
  lr: 0.1,
  momentum: 0.9,
  l2: 1e-4,
  sparsity: 0.5,
  pruneFrequency: 4,
  seed: 3,
  logEvery: 4,
  checkpointEvery: 8,
  fineTuneSteps: 0,
};

async function tensorsOf(path: string): Promise<Map<string, Float32Array>> {
  const c = await loadCheckpoint(path);
  return new Map(Object.entries(c.tensors).map(([k, t]) => [k, t.data as Float32Array]));
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length),
    y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimgpu-faults-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('device loss', () => {
  it('stops naming the reason and the last good step; --resume ends with bitwise the same weights, momentum and masks', async () => {
    const gpu = await createGpu();
    const ref = await runTraining(gpu, { ...CFG, out: join(dir, 'ref') });
    ref.net.dispose();
    gpu.destroy();
    const want = await tensorsOf(join(dir, 'ref', 'checkpoint.safetensors'));
    for (const lostAt of [13, 30]) {
      const out = join(dir, `lost${lostAt}`);
      const g1 = await createGpu();
      const err = await runTraining(g1, { ...CFG, out }, { fault: { deviceLostAtStep: lostAt } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DeviceLostError);
      const e = err as DeviceLostError;
      const ckStep = Math.floor(lostAt / 8) * 8;
      expect(e.message).toMatch(new RegExp(`GPU device was lost \\(destroyed: fault injected \\(device-lost@step=${lostAt}\\)\\)`));
      expect(e.message).toMatch(/Last good step: \d+/);
      expect(e.message).toContain(`last checkpoint of this run: step ${ckStep}, intact`);
      expect(e.message).toContain(`slimgpu train --resume ${join(out, 'checkpoint.safetensors')}`);
      expect(e.checkpointStep).toBe(ckStep);
      expect(e.lastGoodStep).toBeLessThanOrEqual(lostAt);
      expect(g1.lost?.reason).toBe('destroyed');
      // the checkpoint on disk is the one of step ckStep, and no temporary file or lock is left
      expect((await loadCheckpoint(join(out, 'checkpoint.safetensors'))).step).toBe(ckStep);
      expect((await readdir(out)).sort()).toEqual(['checkpoint.safetensors']);
      // a new device, the same seed: the resumed run ends exactly where the uninterrupted one did
      const g2 = await createGpu();
      const r = await runTraining(g2, {} as RunConfig, {}, join(out, 'checkpoint.safetensors'));
      r.net.dispose();
      g2.destroy();
      expect(r.summary.steps).toBe(48);
      const got = await tensorsOf(join(out, 'checkpoint.safetensors'));
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, v] of want) expect(sameBits(got.get(k)!, v), k).toBe(true);
    }
  });

  it('SLIMGPU_FAULT syntax', () => {
    expect(parseFault(undefined)).toBeUndefined();
    expect(parseFault('')).toBeUndefined();
    expect(parseFault('device-lost@step=12')).toEqual({ deviceLostAtStep: 12 });
    for (const bad of ['device-lost', 'device-lost@step=0', 'device-lost@step=-3', 'oom@step=2', 'device-lost@step=1.5']) {
      expect(() => parseFault(bad), bad).toThrow(/SLIMGPU_FAULT must be 'device-lost@step=N' with N a positive integer/);
    }
  });
});

function holdLock(folder: string): Promise<ChildProcess> {
  const code = `const { acquireRunLock } = await import(${JSON.stringify(join(ROOT, 'dist/src/io/runlock.js'))});
    await acquireRunLock(process.argv[1], 'slimgpu train --out (test holder)'); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, folder], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) res(child);
    });
    child.on('exit', (c) => rej(new Error(`lock holder exited with ${c}`)));
  });
}

describe('one writer per run folder', () => {
  it('a second run is refused naming the live process; a kill -9 leaves a stale lock that is taken over', async () => {
    const folder = join(dir, 'shared-run');
    const child = await holdLock(folder);
    try {
      const err = await acquireRunLock(folder).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RunLockError);
      expect((err as RunLockError).holderPid).toBe(child.pid);
      expect((err as Error).message).toMatch(
        new RegExp(`run folder '.*shared-run' is in use by process ${child.pid} \\(slimgpu train --out \\(test holder\\)`),
      );
      // the CLI says the same and does no work
      const gpu = await createGpu();
      await expect(runTraining(gpu, { ...CFG, out: folder })).rejects.toThrow(new RegExp(`in use by process ${child.pid}`));
      gpu.destroy();
      // the killed holder leaves its lock and a half-written temporary file behind
      await writeFile(join(folder, `.checkpoint.safetensors.${child.pid}.0123456789ab.tmp`), 'half');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect((await readdir(folder)).sort()).toEqual([LOCK_NAME, `.checkpoint.safetensors.${child.pid}.0123456789ab.tmp`].sort());
      const lock = await acquireRunLock(folder, 'test');
      expect(lock.tookOver?.pid).toBe(child.pid);
      expect(JSON.parse(await readFile(join(folder, LOCK_NAME), 'utf8')).pid).toBe(process.pid);
      expect(await readdir(folder)).toEqual([LOCK_NAME]);
      // held by this very process: refused too (two runs in one process are two writers)
      await expect(acquireRunLock(folder)).rejects.toThrow(new RegExp(`in use by process ${process.pid}`));
      await lock.release();
      expect(await readdir(folder)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a torn lock file (its writer died while creating it) counts as stale', async () => {
    const folder = join(dir, 'torn');
    await acquireRunLock(folder).then((l) => l.release());
    await writeFile(join(folder, LOCK_NAME), '{"pid": 12');
    const lock = await acquireRunLock(folder);
    expect(lock.tookOver?.command).toBe('(unreadable lock file)');
    await lock.release();
  });
});

// A 64 KiB tmpfs: CI runs as root here, so mounting works.
describe('full and read-only disk', () => {
  let mnt: string;
  beforeAll(async () => {
    mnt = await mkdtemp(join(tmpdir(), 'slimgpu-tiny-'));
    await exec('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'slimgpu-tiny', mnt]);
  });
  afterAll(async () => {
    await exec('umount', [mnt]).catch(() => {});
    await rm(mnt, { recursive: true, force: true });
  });

  it('checkpoint, report and export writes fail clearly, keep the previous file and leave no temporary file', async () => {
    const out = join(mnt, 'run');
    const previous = new TextEncoder().encode('the previous checkpoint');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(out);
    await writeFile(join(out, 'checkpoint.safetensors'), previous);
    // the first periodic checkpoint (a 300 KB file) does not fit in 64 KiB
    const gpu = await createGpu();
    const err = await runTraining(gpu, { ...CFG, out }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /cannot write '.*run\/checkpoint.safetensors': the disk is full \(ENOSPC in write\); the previous file, if any, is unchanged and no temporary file was left/,
    );
    expect(new Uint8Array(await readFile(join(out, 'checkpoint.safetensors')))).toEqual(previous);
    expect(await readdir(out)).toEqual(['checkpoint.safetensors']); // no temp file, no lock
    // report and export: the same through writeFileAtomic / writeCompressed
    const small = await runTraining(gpu, { ...CFG, epochs: 1, checkpointEvery: undefined });
    await writeFile(join(out, 'report.json'), '{"old": true}\n');
    await writeFile(join(out, 'model.slim.safetensors'), 'old model');
    const filler = join(mnt, 'filler');
    await writeFile(filler, new Uint8Array(40_000)).catch(() => {});
    const big = new TextEncoder().encode(JSON.stringify({ pad: 'x'.repeat(100_000) }));
    await expect(writeFileAtomic(join(out, 'report.json'), [big])).rejects.toThrow(/cannot write '.*report.json': the disk is full \(ENOSPC/);
    await expect(writeCompressed(join(out, 'model.slim.safetensors'), small.net)).rejects.toThrow(
      /cannot write '.*model.slim.safetensors': the disk is full \(ENOSPC/,
    );
    expect(await readFile(join(out, 'report.json'), 'utf8')).toBe('{"old": true}\n');
    expect(await readFile(join(out, 'model.slim.safetensors'), 'utf8')).toBe('old model');
    expect((await readdir(out)).sort()).toEqual(['checkpoint.safetensors', 'model.slim.safetensors', 'report.json']);
    await rm(filler);
    // read-only: every write is refused by name, nothing changes
    await exec('mount', ['-o', 'remount,ro', mnt]);
    try {
      await expect(writeCompressed(join(out, 'model.slim.safetensors'), small.net)).rejects.toThrow(
        /cannot write '.*model.slim.safetensors': the file system is read-only \(EROFS in open\)/,
      );
      await expect(runTraining(gpu, { ...CFG, out })).rejects.toThrow(/cannot create the lock '.*run\/\.slimgpu\.lock' \(EROFS\)/);
      expect(await readFile(join(out, 'model.slim.safetensors'), 'utf8')).toBe('old model');
    } finally {
      await exec('mount', ['-o', 'remount,rw', mnt]);
    }
    small.net.dispose();
    gpu.destroy();
  });
});

describe('quiet by default', () => {
  it("Dawn's start-up warnings stay out of stderr unless SLIMGPU_VERBOSE=1 or --verbose", async () => {
    const run = async (env: Record<string, string>, args: string[]) => {
      const f = join(dir, `stderr-${Object.keys(env).join('')}${args.join('')}.txt`);
      // stderr to a file (a terminal or pipe behaves the same; see src/gpu/quiet.ts)
      await exec('sh', ['-c', `node bin/slimgpu.js info ${args.join(' ')} >/dev/null 2>${f}`], {
        cwd: ROOT,
        env: { ...process.env, SLIMGPU_VERBOSE: '', ...env },
      });
      return readFile(f, 'utf8');
    };
    const quiet = await run({}, []);
    expect(quiet).not.toMatch(/artificially reduced/);
    expect(quiet).toBe('');
    const { stdout } = await exec('node', ['bin/slimgpu.js', 'info', '--json'], { cwd: ROOT });
    if (/llvmpipe/.test(stdout)) {
      // lavapipe: Dawn prints two of them on every start-up
      expect(await run({ SLIMGPU_VERBOSE: '1' }, [])).toMatch(/Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced/);
      expect(await run({}, ['--verbose'])).toMatch(/Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced/);
    }
  });

  it('counts every buffer created and destroyed on the device', async () => {
    const gpu: Gpu = await createGpu();
    const m0 = { ...gpu.memory };
    const b = gpu.device.createBuffer({ size: 256, usage: 0x8 });
    expect(gpu.memory.liveBuffers - m0.liveBuffers).toBe(1);
    expect(gpu.memory.liveBytes - m0.liveBytes).toBe(256);
    b.destroy();
    b.destroy();
    expect(gpu.memory.liveBuffers).toBe(m0.liveBuffers);
    expect(gpu.memory.destroyedBuffers - m0.destroyedBuffers).toBe(1);
    gpu.destroy();
  });
});
