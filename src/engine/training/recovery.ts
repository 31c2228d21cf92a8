/*
 * What the training loop does when the loss breaks (NaN or infinite): roll back to the last good
 * state, not just the start of the failing epoch, and then lower the rate. A state is good when the
 * losses of the steps that led to it are finite, not climbing, and their mean is within `tolerance`
 * times the lowest such mean of the stage (a climbing loss is the start of a divergence, not a state
 * to return to). The epoch's start is always a state to return to (its log is already written).
 * The first failure halves the rate; the second caps it at the rate a learning-rate range test
 * (lr-range.ts) finds stable from the restored state; the third halves again; the fourth fails.
 * The snapshots hold TF.js weights; the rules are plain numbers, so any engine can share them: both
 * training loops (stage.ts on TF.js, onnx-arch-train.ts on ONNX Runtime) take the failure, the lowered
 * rate and its record, and the epoch's sums from here, and what counts as a broken step (diverged).
 */
import * as tf from '@tensorflow/tfjs';
import type { EpochLog, ResumeState, Rollback } from '../../common/record-schemas';
import type { MomentumSgd } from './sgd';

/** A stage rolls back at most this many times before it fails. */
export const MAX_ROLLBACKS = 3;

export type RecoveryAction = 'halve' | 'range-test' | 'fail';

/** The action after a failure, given how many rollbacks the stage has already made. */
export function recoveryAction(previousRollbacks: number): RecoveryAction {
  if (previousRollbacks >= MAX_ROLLBACKS) return 'fail';
  return previousRollbacks === 1 ? 'range-test' : 'halve';
}

/**
 * The action after a broken step at `where` (the stage, what broke, epoch, step and rate), given the
 * rollbacks made so far and the stage's limit: throws the stage's failure (ending with `after`) once
 * the limit is reached, else halve or range-test.
 */
export function rollbackOrFail(o: {
  previous: number;
  maxRollbacks: number;
  where: string;
  after?: string;
}): Exclude<RecoveryAction, 'fail'> {
  const action = o.previous >= o.maxRollbacks ? 'fail' : recoveryAction(o.previous);
  if (action === 'fail')
    throw new Error(
      `${o.where}; lower the learning rate${o.maxRollbacks ? ` (after ${o.maxRollbacks} rollbacks to the last good state: rate halved, capped by a range test, halved)` : ''}${o.after ?? ''}`
    );
  return action;
}

/**
 * The rate after a rollback, and its record: 'halve' halves the schedule's factor (and a cap, if any);
 * 'range-test' caps the rate at `stableRate()` (a range test from the restored state) below the rate
 * that failed. `at` is where it broke and the step it went back to.
 */
export async function lowerRate(o: {
  action: Exclude<RecoveryAction, 'fail'>;
  rate: { lrScale: number; lrCap: number };
  stableRate: () => Promise<number>;
  at: { epoch: number; step: number; loss: number; lr: number; toStep: number };
}): Promise<{ lrScale: number; lrCap: number; rollback: Rollback }> {
  let { lrScale, lrCap } = o.rate;
  if (o.action === 'range-test') lrCap = cappedRate(await o.stableRate(), o.at.lr);
  else {
    lrScale /= 2;
    if (Number.isFinite(lrCap)) lrCap /= 2;
  }
  const { epoch, step, loss, lr, toStep } = o.at;
  const rollback: Rollback = {
    epoch,
    step,
    loss,
    lr,
    lrScale,
    toStep,
    action: o.action,
    ...(Number.isFinite(lrCap) ? { lrCap } : {})
  };
  return { lrScale, lrCap, rollback };
}

/**
 * The cap after a range test: its stable rate, but below the rate that just failed (half of it at
 * most), so that the retry always steps more gently than the failure.
 */
export function cappedRate(stable: number, failedAt: number): number {
  return Math.min(stable, failedAt / 2);
}

/** Decides which snapshot points count as good states (see the header). */
export class GoodStateRule {
  private best = Infinity;
  constructor(readonly tolerance = 2) {}

  /**
   * Feeds the losses of the steps since the previous snapshot point; true when the state now is
   * good: all finite, the mean of the window's second half within tolerance x its first half's (not
   * climbing), and the window's mean within tolerance x the lowest window mean of the stage.
   */
  accept(losses: readonly number[]): boolean {
    if (losses.length === 0 || !losses.every(Number.isFinite)) return false;
    const mean = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
    const all = mean(losses);
    const half = Math.floor(losses.length / 2);
    const climbing = half > 0 && mean(losses.slice(half)) > this.tolerance * mean(losses.slice(0, half));
    this.best = Math.min(this.best, all);
    return !climbing && all <= this.tolerance * this.best;
  }
}

/** Snapshot points per epoch (besides its start): often enough that a rollback loses little work. */
export const SNAPSHOTS_PER_EPOCH = 4;

/** Steps between snapshot points for an epoch of `steps` steps. */
export function snapshotEvery(steps: number): number {
  return Math.max(1, Math.ceil(steps / SNAPSHOTS_PER_EPOCH));
}

/** Running sums of an epoch, restored with the weights. */
export interface EpochCounters {
  lossSum: number;
  seen: number;
  correct: number;
  normSum: number;
  normMax: number;
  clipped: number;
  steps: number;
}

export const emptyCounters = (): EpochCounters => ({
  lossSum: 0,
  seen: 0,
  correct: 0,
  normSum: 0,
  normMax: 0,
  clipped: 0,
  steps: 0
});

/**
 * Adds one good step to the epoch's sums: its mean loss over `n` images, its gradient norm (clipped
 * when over `clipNorm`; null or 0: no clipping), and the predictions (absent: none) that match the labels.
 */
export function countStep(
  c: EpochCounters,
  s: {
    loss: number;
    n: number;
    norm: number;
    clipNorm: number | null;
    predicted: ArrayLike<number> | null;
    labels: ArrayLike<number>;
  }
): void {
  c.lossSum += s.loss * s.n;
  c.seen += s.n;
  c.steps++;
  c.normSum += s.norm;
  c.normMax = Math.max(c.normMax, s.norm);
  if (s.clipNorm && s.norm > s.clipNorm) c.clipped++;
  if (s.predicted) for (let i = 0; i < s.n; i++) if (s.predicted[i] === s.labels[i]) c.correct++;
}

/**
 * The fields an epoch's log (0-based `epoch`) takes from its sums and its recovery: gradient norms,
 * clipping (`clipNorm` null: none), the rate a range test chose (first epoch only) and the rollbacks
 * the epoch went through (absent when none).
 */
export function recoveryLog(o: {
  c: EpochCounters;
  clipNorm: number | null;
  epoch: number;
  autoLr: number | null;
  rollbacks: readonly Rollback[];
}): Pick<EpochLog, 'gradNorm' | 'clip' | 'autoLr' | 'rollbacks'> {
  const { c, epoch, autoLr } = o;
  const epochRollbacks = o.rollbacks.filter((r) => r.epoch === epoch + 1);
  return {
    gradNorm: { mean: c.normSum / Math.max(1, c.steps), max: c.normMax },
    clip: { maxNorm: o.clipNorm, clippedSteps: c.clipped, steps: c.steps },
    ...(epoch === 0 && autoLr !== null ? { autoLr } : {}),
    ...(epochRollbacks.length ? { rollbacks: epochRollbacks } : {})
  };
}

/** The resume state after an epoch: the rate's cap only when one is set, the tested rate only when tested. */
export function resumeState(
  o: Omit<ResumeState, 'lrCap' | 'autoLr' | 'lrScale'> & { lrScale: number; lrCap: number; autoLr: number | null }
): ResumeState {
  const { lrCap, autoLr, ...rest } = o;
  return {
    ...rest,
    ...(Number.isFinite(lrCap) ? { lrCap } : {}),
    ...(autoLr !== null ? { autoLr } : {})
  };
}

/** The state of a stage at one step of an epoch: weights (BN statistics included), momentum, path, counters. */
export class Snapshot {
  readonly step: number;
  readonly pathRaw: number;
  readonly counters: EpochCounters;

  private constructor(
    private readonly weights: tf.Tensor[],
    private readonly momentum: Awaited<ReturnType<MomentumSgd['state']>>,
    at: { step: number; pathRaw: number; counters: EpochCounters }
  ) {
    this.step = at.step;
    this.pathRaw = at.pathRaw;
    this.counters = at.counters;
  }

  static async take(
    model: tf.LayersModel,
    opt: MomentumSgd,
    at: { step: number; pathRaw: number; counters: EpochCounters }
  ): Promise<Snapshot> {
    return new Snapshot(
      model.getWeights().map((w) => w.clone()),
      await opt.state(),
      { step: at.step, pathRaw: at.pathRaw, counters: { ...at.counters } }
    );
  }

  /** Puts the weights and momentum back (the snapshot stays usable). */
  restore(model: tf.LayersModel, opt: MomentumSgd): void {
    model.setWeights(this.weights);
    opt.restore(this.momentum);
  }

  dispose(): void {
    for (const w of this.weights) w.dispose();
  }
}

/** A loss this many times the stage's first loss counts as diverged (the weights are already thrown far). */
export const EXPLODED = 100;

/** Why a step diverged (a NaN or infinite loss or gradient norm, or an exploded loss), or null. */
export function diverged(r: { loss: number; norm: number }, firstLoss: number | null): string | null {
  if (!Number.isFinite(r.loss)) return `the loss became ${r.loss}`;
  if (!Number.isFinite(r.norm)) return `the gradient norm became ${r.norm} (loss ${r.loss.toPrecision(3)})`;
  if (firstLoss !== null && firstLoss > 0 && r.loss > EXPLODED * firstLoss)
    return `the loss exploded to ${r.loss.toPrecision(3)} (over ${EXPLODED}x its first value ${firstLoss.toPrecision(3)})`;
  return null;
}
