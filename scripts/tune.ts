// Tuning runs for the results schedules: node dist/scripts/tune.js '<json>'
//   { model, data, batch, lr, denseEpochs, pruneEpochs, pruneLr, layerSparsity, layerBits, fineTuneSteps, fineTuneLr, l2, seed }
// Trains dense, evaluates, prunes + retrains from the dense weights, evaluates, shares, evaluates;
// prints one JSON line per stage.
import { createGpu } from '../src/gpu/device.js';
import { compressNetwork, fileBytesOf, loadData, readCheckpoint, specFor, writeCheckpoint, type RunConfig } from '../src/run/run.js';
import { evaluate, Network, trainNetwork } from '../src/nn/trainer.js';

async function main(): Promise<void> {
  const c = JSON.parse(process.argv[2] ?? '{}');
  const gpu = await createGpu();
  const data = await loadData(c.data ?? 'mnist', { trainSize: c.trainSize, testSize: c.testSize });
  let net = Network.create(gpu, specFor(c.model, data.train), c.seed ?? 0);
  if (c.loadDense) {
    net.dispose();
    net = (await readCheckpoint(gpu, c.loadDense)).net;
  }
  const base = { batch: c.batch ?? 128, momentum: c.momentum ?? 0.9, l2: c.l2 ?? 1e-4, seed: c.seed ?? 0 };
  const t0 = performance.now();
  const log = (o: Record<string, unknown>) => console.log(JSON.stringify({ ...o, s: ((performance.now() - t0) / 1000).toFixed(0) }));
  if (c.denseEpochs > 0) {
    await trainNetwork(
      net,
      data.train,
      { ...base, epochs: c.denseEpochs, lr: c.lr, lrSchedule: c.lrSchedule ?? 'cosine', ...(c.denseSparsity ? { sparsity: c.denseSparsity } : {}) },
      { step: 0 },
    );
    log({ stage: 'dense', err: 1 - (await evaluate(net, data.test)).accuracy! });
    if (c.saveDense)
      await writeCheckpoint(c.saveDense, net, 0, { ...base, model: c.model, data: c.data ?? 'mnist', epochs: c.denseEpochs, lr: c.lr });
  }
  if (c.pruneEpochs > 0) {
    const steps = Math.floor(data.train.n / base.batch) * c.pruneEpochs;
    await trainNetwork(
      net,
      data.train,
      {
        ...base,
        epochs: c.pruneEpochs,
        lr: c.pruneLr ?? c.lr,
        lrSchedule: c.pruneLrSchedule ?? 'cosine',
        sparsity: c.sparsity ?? 0,
        layerSparsity: c.layerSparsity,
        schedule: 'polynomial',
        pruneBegin: Math.floor(steps * (c.pruneBegin ?? 0)),
        pruneEnd: Math.floor(steps * (c.pruneEnd ?? 0.6)),
        pruneFrequency: c.pruneFrequency,
      },
      { step: 0 },
    );
    log({ stage: 'pruned', err: 1 - (await evaluate(net, data.test)).accuracy! });
  }
  const cfg: RunConfig = {
    ...base,
    model: c.model,
    data: 'mnist',
    epochs: 1,
    lr: c.lr,
    layerBits: c.layerBits,
    bits: c.bits,
    shareInit: c.shareInit ?? 'kmeans++',
    fineTuneSteps: c.fineTuneSteps ?? 300,
    fineTuneLr: c.fineTuneLr,
  };
  const { bytes, sharing } = await compressNetwork(net, cfg, data.train, data.test);
  const res = await evaluate(net, data.test);
  const fb = fileBytesOf(bytes);
  const ent: Record<string, number> = {};
  for (const [k, l] of Object.entries(sharing?.layers ?? {})) {
    let h = 0;
    for (const n of l.counts) if (n > 0) h -= (n / l.kept) * Math.log2(n / l.kept);
    ent[k] = +h.toFixed(2);
  }
  let dense = 0;
  for (const v of net.arena.views.values()) dense += v.length * 4;
  log({
    stage: 'shared',
    err: 1 - res.accuracy!,
    fileBytes: fb.fileBytes,
    ratio: +(dense / fb.fileBytes).toFixed(1),
    header: fb.headerBytes,
    layers: fb.layers,
    valueEntropy: ent,
  });
  if (c.save) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(c.save, bytes);
  }
  gpu.destroy();
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
