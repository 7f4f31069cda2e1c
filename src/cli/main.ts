// The `slimgpu` command line: train, eval, export, bench, info.
import { Command, CommanderError } from 'commander';
import { adapterSummary, type AdapterSummary } from '../gpu/device.js';

function printInfo(info: AdapterSummary): void {
  const rows: [string, string][] = [
    ['backend', info.backend],
    ['vendor', info.vendor || '-'],
    ['architecture', info.architecture || '-'],
    ['device', info.device || '-'],
    ['description', info.description || '-'],
    ['fallback adapter', info.isFallbackAdapter ? 'yes' : 'no'],
    ['features', info.features.join(', ')],
  ];
  for (const [k, v] of Object.entries(info.limits)) rows.push([k, String(v)]);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
}

export function buildCli(): Command {
  const program = new Command();
  program
    .name('slimgpu')
    .description('Train compressed neural networks on the GPU with WebGPU (Dawn in Node).')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('info')
    .description('show the WebGPU adapter: vendor, architecture, features, key limits')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const info = await adapterSummary();
      if (opts.json) console.log(JSON.stringify(info, null, 2));
      else printInfo(info);
    });

  return program;
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildCli();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    console.error((e as Error).message);
    return 1;
  }
}
