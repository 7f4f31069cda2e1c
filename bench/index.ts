// Kernel benchmarks: node dist/bench/index.js kernels [--json] [--all] [--only k1,k2] [--variant v] [--wall]
//
// For every registered case (bench/registry.ts): prepare, run once and validate against the CPU
// reference (exit 1 on a mismatch, before any timing), warm up, then time repetitions with GPU
// timestamps (or wall time without 'timestamp-query') and report the median with GFLOPS
// (compute-bound kernels) or GB/s (memory-bound ones). A no-op dispatch gives the floor.
import { createGpu, type Gpu } from '../src/gpu/device.js';
import { KERNEL_SUITES, type BenchCase } from './registry.js';
import { measure, noopDispatch, rates, Timer, type TimingKind } from './timing.js';
import { MismatchError } from './util.js';
import { benchTrain } from './train.js';

export interface BenchResult {
  kernel: string;
  variant: string;
  size: string;
  ms: number;
  gflops?: number;
  gbps?: number;
  timing: TimingKind;
  reps: number;
  /** CPU milliseconds this process spent per repetition (Node): on a CPU driver (lavapipe) the driver's threads do the work, so this stays meaningful when other jobs share the cores. */
  cpuMs?: number;
}

interface Args {
  command: string;
  json: boolean;
  all: boolean;
  only?: string[];
  variant?: string;
  wall: boolean;
  /** Target timed milliseconds per case (spread over the repetitions). */
  budgetMs: number;
}

const USAGE = `usage: node dist/bench/index.js kernels|train [options]
  train            training samples/s for LeNet-300-100 (batch 128) and LeNet-5 (batch 64), tokens/s of a GPT step
  vs-tfjs          slimgpu vs TF.js's WebGPU backend on the same device (vs-tfjs --help)
  profile-step     ms per kernel of one training step, timestamped (profile-step --help)
  images           slimgpu's learned image codec vs JPEG, WebP, AVIF; lossless vs PNG, WebP, JPEG XL (images --help)
  compressors      slimgpu's text codec vs gzip, bzip2, xz, zstd, brotli, zpaq on one file, and small files (compressors --help)
  infer            inference from compressed files: dense vs compressed (csr, dense-with-codebook) vs TF.js (infer --help)
  attention-compare  attention variants forward/backward, alternating runs, CPU ms (attention-compare --help)
  --json           print a JSON array of {kernel, variant, size, ms, gflops|gbps, timing}
  --all            also the long cases (2048³ matmul, ...)
  --only a,b       only these kernels (${KERNEL_SUITES.map((s) => s.name).join(', ')}, noop)
  --variant v      only this variant (matmul: cpu, gpu; attention: flash/sg8, unfused/generic, ...)
  --wall           wall time even when timestamp queries exist
  --budget-ms n    timed milliseconds per case (default 300)`;

function parseArgs(argv: string[]): Args {
  const a: Args = { command: '', json: false, all: false, wall: false, budgetMs: 300 };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${x} needs a value\n${USAGE}`);
      return v;
    };
    if (x === '--json') a.json = true;
    else if (x === '--all') a.all = true;
    else if (x === '--wall') a.wall = true;
    else if (x === '--only') a.only = value().split(',').filter(Boolean);
    else if (x.startsWith('--only=')) a.only = x.slice(7).split(',').filter(Boolean);
    else if (x === '--variant') a.variant = value();
    else if (x.startsWith('--variant=')) a.variant = x.slice(10);
    else if (x === '--budget-ms') a.budgetMs = Number(value());
    else if (x === '--help' || x === '-h') a.command = 'help';
    else if (!x.startsWith('-') && !a.command) a.command = x;
    else throw new Error(`unknown argument '${x}'\n${USAGE}`);
  }
  if (!(a.budgetMs > 0)) throw new Error(`--budget-ms must be a positive number\n${USAGE}`);
  return a;
}

function result(c: Pick<BenchCase, 'kernel' | 'variant' | 'size' | 'flops' | 'bytes'>, ms: number, reps: number, timing: TimingKind): BenchResult {
  return { kernel: c.kernel, variant: c.variant, size: c.size, ms: +ms.toFixed(4), timing, reps, ...rates(c, ms) };
}

function printTable(gpu: Gpu, rows: BenchResult[]): void {
  const i = gpu.info;
  console.log(
    `adapter: ${i.description || i.device} (${i.vendor}/${i.architecture}${i.isFallbackAdapter ? ', fallback' : ''}); timing: ${rows[0]?.timing ?? '-'}; median of reps`,
  );
  const head = ['kernel', 'variant', 'size', 'ms', 'GFLOPS', 'GB/s', 'reps', 'cpu-ms'];
  const body = rows.map((r) => [
    r.kernel,
    r.variant,
    r.size,
    r.ms.toFixed(3),
    r.gflops?.toFixed(2) ?? '',
    r.gbps?.toFixed(2) ?? '',
    String(r.reps),
    r.cpuMs?.toFixed(2) ?? '',
  ]);
  const w = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j]!.length)));
  const line = (cells: string[]) => cells.map((c, j) => (j >= 3 ? c.padStart(w[j]!) : c.padEnd(w[j]!))).join('  ');
  console.log(line(head));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const b of body) console.log(line(b));
}

export async function benchKernels(args: Args): Promise<BenchResult[]> {
  const gpu = await createGpu();
  const timer = new Timer(gpu, args.wall);
  const results: BenchResult[] = [];
  const log = (s: string) => {
    if (!args.json) process.stderr.write(s);
  };
  try {
    if (!args.only || args.only.includes('noop')) {
      const noop = await noopDispatch(gpu);
      const { ms, reps } = await measure(timer, [noop], 50);
      results.push(result({ kernel: 'noop', variant: '-', size: '1 workgroup' }, ms, reps, timer.kind));
    }
    for (const suite of KERNEL_SUITES) {
      if (args.only && !args.only.includes(suite.name)) continue;
      for (const c of suite.cases(gpu)) {
        if (!args.all && !c.quick) continue;
        if (args.variant && c.variant !== args.variant) continue;
        log(`${c.kernel} ${c.variant} ${c.size} ... `);
        const prepared = await c.prepare(gpu);
        try {
          await timer.once(prepared.dispatches);
          await prepared.validate(); // before any timing
          const cpu0 = process.cpuUsage();
          const { ms, reps } = await measure(timer, prepared.dispatches, args.budgetMs);
          const cpu = process.cpuUsage(cpu0);
          const r = result(c, ms, reps, timer.kind);
          r.cpuMs = +((cpu.user + cpu.system) / 1000 / (reps + 1)).toFixed(3); // measure() runs reps + 1 times
          results.push(r);
          log(`${ms.toFixed(3)} ms\n`);
        } finally {
          prepared.dispose();
        }
      }
    }
  } finally {
    timer.destroy();
  }
  if (args.json) console.log(JSON.stringify(results, null, 1));
  else printTable(gpu, results);
  gpu.destroy();
  return results;
}

async function main(argv: string[]): Promise<number> {
  // side by side with TF.js (loaded only for this command) and the per-kernel step profile
  if (argv[0] === 'vs-tfjs') return (await import('./vs-tfjs/node.js')).main(argv.slice(1));
  if (argv[0] === 'profile-step') return (await import('./profile-step.js')).main(argv.slice(1));
  if (argv[0] === 'images') return (await import('./images.js')).main(argv.slice(1));
  if (argv[0] === 'compressors') return (await import('./compressors.js')).main(argv.slice(1));
  if (argv[0] === 'infer') return (await import('./infer.js')).main(argv.slice(1));
  if (argv[0] === 'attention-compare') return (await import('./attention-compare.js')).main(argv.slice(1));
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if (args.command === 'help' || args.command === '') {
    console.log(USAGE);
    return args.command === 'help' ? 0 : 2;
  }
  if (args.command === 'train') {
    await benchTrain({ json: args.json });
    return 0;
  }
  if (args.command !== 'kernels') {
    console.error(`unknown benchmark '${args.command}'\n${USAGE}`);
    return 2;
  }
  try {
    await benchKernels(args);
    return 0;
  } catch (e) {
    if (e instanceof MismatchError) console.error(`\nbench: validation failed, nothing timed for this case: ${e.message}`);
    else console.error(`\nbench: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
