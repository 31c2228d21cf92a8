/*
 * The learning-rate range test (Smith 2017, "Cyclical learning rates", the "LR finder"): a few
 * hundred steps from the current weights with the rate growing geometrically from lrMin to lrMax,
 * the loss smoothed by an exponential moving average; the test stops once the smoothed loss passes
 * `blowUp` times its lowest value (or is not finite). The stable rate is the one at the lowest
 * smoothed loss divided by `margin` (10: the usual choice, one decade below where the loss stops
 * falling). The caller restores the weights afterwards; this file only drives steps and chooses.
 */

export interface RangeTestOptions {
  steps: number;
  lrMin: number;
  lrMax: number;
  /** EMA factor of the loss smoothing (0: none). */
  beta: number;
  /** Stop when the smoothed loss exceeds this many times its minimum. */
  blowUp: number;
  /** The chosen rate is the best rate divided by this. */
  margin: number;
}

export const RANGE_TEST_DEFAULTS: RangeTestOptions = {
  steps: 200,
  lrMin: 1e-5,
  lrMax: 10,
  beta: 0.9,
  blowUp: 4,
  margin: 10
};

/** The rate of step i (0-based) of n: lrMin * (lrMax / lrMin)^(i / (n - 1)). */
export function rangeRate(i: number, n: number, lrMin: number, lrMax: number): number {
  if (n <= 1) return lrMin;
  return lrMin * Math.pow(lrMax / lrMin, i / (n - 1));
}

/** Bias-corrected EMA of the losses (as the LR finder smooths them); beta 0 returns them unchanged. */
export function smoothLosses(losses: readonly number[], beta: number): number[] {
  let avg = 0;
  return losses.map((l, i) => {
    avg = beta * avg + (1 - beta) * l;
    return avg / (1 - Math.pow(beta, i + 1));
  });
}

export interface RangeTestResult {
  /** The chosen stable rate. */
  lr: number;
  /** The rate at the lowest smoothed loss. */
  best: number;
  rates: number[];
  losses: number[];
  /** Why it ended: all steps ran, or the loss blew up at the last recorded step. */
  stopped: 'steps' | 'blow-up';
}

/** The stable rate from recorded (rate, loss) pairs: the rate at the lowest smoothed loss / margin. */
export function chooseStableRate(
  rates: readonly number[],
  losses: readonly number[],
  options: Pick<RangeTestOptions, 'beta' | 'margin' | 'lrMin'>
): { lr: number; best: number } {
  const finite = losses.findIndex((l) => !Number.isFinite(l));
  const usable = finite < 0 ? losses.length : finite;
  if (usable === 0) return { lr: options.lrMin, best: options.lrMin };
  const smooth = smoothLosses(losses.slice(0, usable), options.beta);
  let k = 0;
  for (let i = 1; i < smooth.length; i++) if (smooth[i] < smooth[k]) k = i;
  const best = rates[k];
  return { lr: Math.max(options.lrMin, best / options.margin), best };
}

/**
 * Runs the test: step(lr, i) takes one training step at rate lr and returns its loss (before the
 * update). The weights it leaves behind are the caller's to restore.
 */
export async function rangeTest(
  step: (lr: number, i: number) => Promise<number>,
  partial: Partial<RangeTestOptions> = {}
): Promise<RangeTestResult> {
  const o = { ...RANGE_TEST_DEFAULTS, ...partial };
  const rates: number[] = [];
  const losses: number[] = [];
  let stopped: RangeTestResult['stopped'] = 'steps';
  let min = Infinity;
  for (let i = 0; i < o.steps; i++) {
    const lr = rangeRate(i, o.steps, o.lrMin, o.lrMax);
    const loss = await step(lr, i);
    rates.push(lr);
    losses.push(loss);
    if (!Number.isFinite(loss)) {
      stopped = 'blow-up';
      break;
    }
    const s = smoothLosses(losses, o.beta)[i];
    min = Math.min(min, s);
    if (s > o.blowUp * min) {
      stopped = 'blow-up';
      break;
    }
  }
  return { ...chooseStableRate(rates, losses, o), rates, losses, stopped };
}
