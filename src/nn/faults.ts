// Faults during training: the lost-device error and the fault-injection hook's spec.
//   SLIMGPU_FAULT=device-lost@step=N   destroy the device once N steps are submitted (as a driver
//                                      reset would), with work still in flight
import type { Gpu } from '../gpu/device.js';

/** The GPU device was lost during training (driver reset, sleep, a background tab, or a fault hook). */
export class DeviceLostError extends Error {
  constructor(
    message: string,
    readonly reason: string,
    readonly lastGoodStep: number,
    readonly checkpointStep: number | undefined,
  ) {
    super(message);
    this.name = 'DeviceLostError';
  }
}

export interface FaultPlan {
  /** Lose the device right after the submission that ends at this step. */
  deviceLostAtStep?: number;
}

export class FaultSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultSpecError';
  }
}

/** Parses `device-lost@step=N` (the SLIMGPU_FAULT syntax); '' or undefined → no fault. */
export function parseFault(spec: string | undefined): FaultPlan | undefined {
  if (spec === undefined || spec.trim() === '') return undefined;
  const m = /^device-lost@step=(\d+)$/.exec(spec.trim());
  if (!m || !Number.isSafeInteger(Number(m[1])) || Number(m[1]) < 1) {
    throw new FaultSpecError(`SLIMGPU_FAULT must be 'device-lost@step=N' with N a positive integer, got '${spec}'`);
  }
  return { deviceLostAtStep: Number(m[1]) };
}

/** The error a run stops with once `gpu` is lost. */
export function deviceLostError(gpu: Gpu, lastGoodStep: number, checkpointStep: number | undefined, startStep: number): DeviceLostError {
  const l = gpu.lost ?? { reason: 'unknown', message: 'lost' };
  return new DeviceLostError(
    `training stopped: the GPU device was lost (${l.reason}: ${l.message}). Last good step: ${lastGoodStep} ` +
      '(the last step known complete: read back or checkpointed); ' +
      (checkpointStep !== undefined
        ? `last checkpoint of this run: step ${checkpointStep}, intact.`
        : `no checkpoint was written by this run (it started at step ${startStep}).`),
    l.reason,
    lastGoodStep,
    checkpointStep,
  );
}
