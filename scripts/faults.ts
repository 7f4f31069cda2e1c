// npm run faults: the fault targets, measured.
//   1. Device loss at 5 different steps (SLIMGPU_FAULT's hook): each run stops, its last checkpoint
//      loads, and --resume on a new device ends with weights, momentum and masks bitwise equal to an
//      uninterrupted run with the same seed — 0 steps lost beyond the last checkpoint.
//   2. kill -9 of `slimgpu train --checkpoint-every 4` at 20 random moments: every checkpoint left
//      behind loads, the next run takes the stale lock over and removes the dead run's temporary files.
// Prints two markdown tables; writes results/faults.json.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGpu } from '../src/gpu/device.js';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { acquireRunLock } from '../src/io/runlock.js';
import { DeviceLostError } from '../src/nn/faults.js';
import { checkpointModel, runTraining, type RunConfig } from '../src/run/run.js';

const CFG: RunConfig = {
  model: 'mlp:784-64-10',
  data: 'mnist',
  trainSize: 1024,
  testSize: 200,
  batch: 32,
  epochs: 4,
  lr: 0.1,
  momentum: 0.9,
  l2: 1e-4,
  sparsity: 0.8,
  pruneFrequency: 5,
  seed: 7,
  logEvery: 4,
  checkpointEvery: 10,
  fineTuneSteps: 0,
};

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length),
    y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

async function tensors(path: string): Promise<Map<string, Float32Array>> {
  return new Map(Object.entries((await loadCheckpoint(path)).tensors).map(([k, t]) => [k, t.data as Float32Array]));
}

async function deviceLoss(dir: string, at: number[]) {
  const g = await createGpu();
  const ref = await runTraining(g, { ...CFG, out: join(dir, 'ref') });
  ref.net.dispose();
  g.destroy();
  const want = await tensors(join(dir, 'ref', 'checkpoint.safetensors'));
  const rows = [];
  for (const lostAt of at) {
    const out = join(dir, `lost-${lostAt}`);
    const g1 = await createGpu();
    const e = await runTraining(g1, { ...CFG, out }, { fault: { deviceLostAtStep: lostAt } }).then(
      () => undefined,
      (x: unknown) => x,
    );
    if (!(e instanceof DeviceLostError)) throw new Error(`device-lost@step=${lostAt}: the run did not stop with DeviceLostError (${String(e)})`);
    const ck = await loadCheckpoint(join(out, 'checkpoint.safetensors'));
    const t0 = performance.now();
    const g2 = await createGpu();
    const r = await runTraining(g2, {} as RunConfig, {}, join(out, 'checkpoint.safetensors'));
    r.net.dispose();
    g2.destroy();
    const got = await tensors(join(out, 'checkpoint.safetensors'));
    const differ = [...want].filter(([k, v]) => !got.has(k) || !sameBits(got.get(k)!, v)).map(([k]) => k);
    rows.push({
      lostAt,
      lastGoodStep: e.lastGoodStep,
      checkpointStep: ck.step,
      redone: lostAt - ck.step,
      resumedTo: r.summary.steps,
      resumeSeconds: (performance.now() - t0) / 1000,
      bitwiseEqual: differ.length === 0,
      differ,
      message: e.message,
    });
  }
  return rows;
}

function child(out: string): ReturnType<typeof spawn> {
  const args = [
    'bin/slimgpu.js',
    'train',
    '--model',
    'mlp:784-64-10',
    '--train-size',
    '2048',
    '--test-size',
    '200',
    '--batch',
    '16',
    '--epochs',
    '6',
    '--sparsity',
    '0.8',
    '--prune-frequency',
    '5',
    '--checkpoint-every',
    '4',
    '--log-every',
    '4',
    '--no-progress',
    '--out',
    out,
  ];
  return spawn(process.execPath, args, { stdio: 'ignore' });
}

async function kills(dir: string, n: number, seed: number) {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const rows = [];
  for (let i = 0; i < n; i++) {
    const out = join(dir, `kill-${i}`);
    // a random moment after the run has taken its folder (start-up takes seconds on a busy machine)
    const delay = Math.floor(rnd() * 4000);
    const p = child(out);
    const exited = new Promise<number | null>((res) => p.on('exit', (code) => res(code)));
    let gone = false;
    void exited.then(() => {
      gone = true;
    });
    // most kills land once checkpoints are being written (every 4th run: any time after the folder is taken)
    const waitFor = i % 4 === 0 ? '.slimgpu.lock' : 'checkpoint.safetensors';
    while (!gone && !(await readdir(out).catch(() => [] as string[])).includes(waitFor)) await new Promise((r) => setTimeout(r, 20));
    const timer = new Promise<'timer'>((res) => setTimeout(() => res('timer'), delay));
    const first = await Promise.race([exited.then(() => 'exit' as const), timer]);
    if (first === 'timer') p.kill('SIGKILL');
    await exited;
    const files = await readdir(out).catch(() => [] as string[]);
    const temps = files.filter((f) => f.endsWith('.tmp'));
    const ckPath = join(out, 'checkpoint.safetensors');
    let step: number | string = 'none yet';
    let loads = true;
    if (files.includes('checkpoint.safetensors')) {
      try {
        const c = await loadCheckpoint(ckPath);
        checkpointModel(c, ckPath);
        step = c.step;
      } catch (e) {
        loads = false;
        step = `ERROR ${(e as Error).message}`;
      }
    }
    // the next run on this folder: the dead run's lock is stale and taken over, its temp files go
    const lock = await acquireRunLock(out, 'faults script');
    const left = (await readdir(out)).filter((f) => f.endsWith('.tmp'));
    await lock.release();
    rows.push({
      i,
      killedAfterMs: first === 'timer' ? delay : null,
      lockLeft: files.includes('.slimgpu.lock'),
      tempsLeft: temps.length,
      checkpointStep: step,
      loads,
      tookOver: lock.tookOver?.pid === p.pid,
      tempsAfterTakeover: left.length,
      bytes: files.includes('checkpoint.safetensors') ? (await stat(ckPath)).size : 0,
    });
    console.error(
      `kill ${i}: ${delay} ms after ${waitFor} appeared, checkpoint ${step}, temp files ${temps.length}, lock left ${files.includes('.slimgpu.lock')}`,
    );
  }
  return rows;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'slimgpu-faults-'));
  const steps = [13, 29, 40, 76, 101];
  const loss = await deviceLoss(dir, steps);
  console.log('| device lost at step | last good step | last checkpoint | steps redone | resumed to | final weights, momentum, masks |');
  console.log('|---:|---:|---:|---:|---:|---|');
  for (const r of loss)
    console.log(
      `| ${r.lostAt} | ${r.lastGoodStep} | ${r.checkpointStep} | ${r.redone} | ${r.resumedTo} | ${r.bitwiseEqual ? 'bitwise equal' : `DIFFER: ${r.differ.join(', ')}`} |`,
    );
  const k = await kills(dir, Number(process.env.KILLS ?? 20), 42);
  const killed = k.filter((r) => r.killedAfterMs !== null).length;
  console.log(
    `\nkill -9: ${k.length} runs, ${killed} killed mid-run; checkpoints that load: ${k.filter((r) => r.loads && typeof r.checkpointStep === 'number').length}, that fail: ${k.filter((r) => !r.loads).length}; ` +
      `locks left behind: ${k.filter((r) => r.lockLeft).length}, all taken over: ${k.filter((r) => r.lockLeft).every((r) => r.tookOver)}; ` +
      `kills with a temp file left: ${k.filter((r) => r.tempsLeft > 0).length}, temp files after the takeover: ${k.reduce((a, r) => a + r.tempsAfterTakeover, 0)}`,
  );
  console.log(`checkpoint steps found: ${k.map((r) => r.checkpointStep).join(', ')}`);
  await mkdir('results', { recursive: true });
  await writeFile('results/faults.json', JSON.stringify({ deviceLoss: loss, kills: k }, null, 2) + '\n');
  await rm(dir, { recursive: true, force: true });
  if (loss.some((r) => !r.bitwiseEqual) || k.some((r) => !r.loads || r.tempsAfterTakeover > 0)) process.exitCode = 1;
}

await main();
