/*
 * Settings of the sigma optimisation (method.md section 1). Every number is a default that a run
 * configuration or CLI flag can change; none is hard-wired elsewhere.
 */

import { SIGMA_DEFAULTS } from '../../common/config';

export type QuantifyMode = 'calibrated' | 'converged';

export interface QuantifyOptions {
  /** G: the image is split into G x G cells, one sigma per cell. */
  grid: number;
  /** K: noise samples per step. */
  samples: number;
  /** Optimisation steps (calibrated mode). */
  steps: number;
  /** SGD learning rate on sigma (calibrated mode). */
  lr: number;
  /** lambda: weight of the entropy term. */
  lambda: number;
  /** H*: the mean entropy the calibrated map is pinned to (nats). */
  targetEntropy: number;
  /** 'calibrated' = the authors' SGD + selection at H*; 'converged' = Adam on log sigma to the optimum. */
  mode: QuantifyMode;
  /** phi = ReLU(f_L); false uses f_L itself. */
  relu: boolean;
  /** Initial sigma, also the sigma of the sigma_f2 normaliser. */
  sigmaInit: number;
  /** Clamp range of sigma. */
  sigmaMin: number;
  sigmaMax: number;
  /** Factor applied to lambda when H* was not reached by the adaptation step. */
  lambdaGrowth: number;
  /** The adaptation happens at step index steps - adaptBeforeEnd (59 of 80). */
  adaptBeforeEnd: number;
  /** Converged mode: Adam learning rate on log sigma, its floor, and the step cap. */
  convergedLr: number;
  convergedMinLr: number;
  convergedMaxSteps: number;
  /** Converged mode: steps per window when testing whether the loss still falls. */
  convergedWindow: number;
  /**
   * Calibrated mode: stop an image as soon as a recorded mean entropy exceeds the target. The
   * selection picks the candidate closest to H*, which is then the step before or at the crossing
   * while the entropy rises; the authors' code runs on (to step steps - 21 at least). Off by default.
   */
  stopPastTarget: boolean;
}

/** The paper's values; the finer ones are the run configuration's defaults (SIGMA_DEFAULTS). */
export const DEFAULT_QUANTIFY: Readonly<QuantifyOptions> = Object.freeze({
  grid: 16,
  samples: 96,
  steps: 80,
  lr: 1e-4,
  lambda: 7,
  targetEntropy: -2.8,
  ...SIGMA_DEFAULTS,
  stopPastTarget: false
});

/** Checks option values; returns a list of problems (empty when valid), each naming the field. */
export function checkQuantifyOptions(o: QuantifyOptions): string[] {
  const problems: string[] = [];
  const int = (name: keyof QuantifyOptions, min: number, max: number): void => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < min || v > max)
      problems.push(`${name}: expected an integer in [${min}, ${max}], got ${v}`);
  };
  const pos = (name: keyof QuantifyOptions): void => {
    const v = o[name] as number;
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
      problems.push(`${name}: expected a positive number, got ${v}`);
  };
  int('grid', 1, 1024);
  int('samples', 1, 100000);
  int('steps', 1, 1000000);
  int('adaptBeforeEnd', 0, 1000000);
  int('convergedMaxSteps', 1, 10000000);
  int('convergedWindow', 2, 100000);
  for (const k of [
    'lr',
    'lambda',
    'sigmaInit',
    'sigmaMin',
    'sigmaMax',
    'lambdaGrowth',
    'convergedLr',
    'convergedMinLr'
  ] as const)
    pos(k);
  if (!Number.isFinite(o.targetEntropy)) problems.push(`targetEntropy: expected a number, got ${o.targetEntropy}`);
  if (o.mode !== 'calibrated' && o.mode !== 'converged')
    problems.push(`mode: expected 'calibrated' or 'converged', got '${o.mode}'`);
  if (o.sigmaMin >= o.sigmaMax) problems.push(`sigmaMin (${o.sigmaMin}) must be below sigmaMax (${o.sigmaMax})`);
  return problems;
}
