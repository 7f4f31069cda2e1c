// A lost GPU device in the page (driver reset, a background tab, sleep, or the "Lose the GPU" button
// / ?fault=device-lost@step=N): the run keeps an in-memory snapshot (weights, masks, momentum, step)
// taken at every checkpoint point; when the device goes away the page says what happened and offers
// to continue from that snapshot on a new device.
import { createGpu, Network, type DeviceLostError, type Gpu, type ModelSpec } from '../src/index.js';
import { $, esc, fmtInt } from './page.js';

export interface Snapshot {
  step: number;
  weights: Map<string, Float32Array>;
  masks: Map<string, Float32Array>;
  momentum: Map<string, Float32Array>;
}

/** Copies the run's state to the CPU (a few readbacks, between submissions). */
export async function takeSnapshot(net: Network, step: number): Promise<Snapshot> {
  const [weights, masks, momentum] = await Promise.all([net.arena.read('weights'), net.arena.read('mask'), net.arena.read('momentum')]);
  return { step, weights, masks, momentum };
}

/** Says what happened; resolves true when the user continues (at once with `auto`), false to stop. */
export function offerContinue(e: DeviceLostError, snap: Snapshot, auto: boolean): Promise<boolean> {
  const notice = $('notice');
  notice.hidden = false;
  notice.className = 'notice warn';
  notice.innerHTML =
    `<h3>The GPU device was lost</h3><div>${esc(e.message.split('. Last good step')[0]!)}. ` +
    `The last good step was ${fmtInt(e.lastGoodStep)}; the page holds a snapshot of step ${fmtInt(snap.step)} in memory ` +
    `(weights, masks and momentum). Steps after it are redone.</div>` +
    `<p><button type="button" id="resume" class="primary">Continue from step ${fmtInt(snap.step)} on a new device</button> ` +
    '<button type="button" id="give-up">Stop here</button></p>';
  return new Promise((resolve) => {
    const done = (go: boolean) => {
      notice.hidden = go;
      resolve(go);
    };
    $('resume').addEventListener('click', () => done(true), { once: true });
    $('give-up').addEventListener('click', () => done(false), { once: true });
    if (auto) done(true);
  });
}

/** A new device and the network rebuilt on it from the snapshot. */
export async function restoreOnNewDevice(spec: ModelSpec, seed: number, snap: Snapshot): Promise<{ gpu: Gpu; net: Network }> {
  const gpu = await createGpu();
  const net = Network.create(gpu, spec, seed);
  await net.setParams(snap.weights, snap.masks, snap.momentum);
  return { gpu, net };
}
