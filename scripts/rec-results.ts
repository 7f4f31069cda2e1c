// npm run results:rec [-- --data SOURCE] [-- --model mf|dae] [-- --dim D] [-- --epochs N]
//   [-- --plans US:IS:UB:IB,… | --plans-json '[{…}]'] [-- --mixed-dims 64:0.1,16] [-- --gradual]
//   [-- --save-dense FILE | --load-dense FILE] [-- --out-md FILE] [-- --out-json FILE] [-- --save-files DIR]:
// the recommender's Deep Compression table (scripts/rec-results-run.ts; docs/rec-compression.md).
import { createGpu } from '../src/gpu/device.js';
import { recResults } from './rec-results-run.js';

async function main(): Promise<void> {
  const gpu = await createGpu();
  try {
    console.log(await recResults(gpu, process.argv.slice(2)));
  } finally {
    gpu.destroy();
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
