// The live demo's state for tests (tests/demo.test.ts reads window.__demo): what the page did, in
// numbers a test can check without scraping the DOM.
import type { EvalResult, LogEntry, RunReport } from '../src/index.js';
import type { DemoConfig } from './report.js';

export type Phase = 'init' | 'nogpu' | 'ready' | 'loading' | 'training' | 'evaluating' | 'done' | 'error';

export interface DemoProbe {
  state: Phase;
  adapter?: string;
  config?: DemoConfig;
  totalSteps: number;
  logs: LogEntry[];
  /** Per-layer sparsity read from the masks: { step, layers: { name: sparsity } }. */
  sparsity: { step: number; layers: Record<string, number> }[];
  tests: { step: number; result: EvalResult }[];
  report?: RunReport;
  reportText?: string;
  fileBytes?: number;
  stopped: boolean;
  error?: string;
  /** Largest gap (ms) beyond the 50 ms period of a timer that runs while training. */
  maxLagMs: number;
  /** Clicks on the log-scale toggle handled. */
  toggles: number;
  /** Frames (requestAnimationFrame) rendered while training. */
  framesWhileTraining: number;
  /** Device losses during the run and the snapshot steps training continued from. */
  deviceLost: { reason: string; lastGoodStep: number; snapshotStep: number; message: string }[];
  resumedFrom: number[];
}

export const probe: DemoProbe = {
  state: 'init',
  totalSteps: 0,
  logs: [],
  sparsity: [],
  tests: [],
  stopped: false,
  maxLagMs: 0,
  toggles: 0,
  framesWhileTraining: 0,
  deviceLost: [],
  resumedFrom: [],
};
(window as unknown as { __demo: DemoProbe }).__demo = probe;
