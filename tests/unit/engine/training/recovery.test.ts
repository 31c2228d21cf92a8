import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { clipScale, clipGradients, globalNorm } from '../../../../src/engine/training/clip';
import { chooseStableRate, rangeRate, rangeTest, smoothLosses } from '../../../../src/engine/training/lr-range';
import {
  GoodStateRule,
  cappedRate,
  countStep,
  emptyCounters,
  lowerRate,
  recoveryAction,
  recoveryLog,
  resumeState,
  rollbackOrFail,
  snapshotEvery
} from '../../../../src/engine/training/recovery';

describe('gradient-norm clipping', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('scales by maxNorm / norm only above the limit', () => {
    // Gradients (3, 4) and (12): global norm sqrt(9 + 16 + 144) = 13.
    expect(globalNorm([[3, 4], [12]])).toBe(13);
    expect(clipScale(13, 6.5)).toBe(0.5);
    expect(clipScale(13, 13)).toBe(1);
    expect(clipScale(13, 20)).toBe(1);
    expect(clipScale(13, null)).toBe(1);
    expect(clipScale(0, 1)).toBe(1);
  });

  it('the TF.js form returns the norm before clipping and gradients of norm maxNorm', async () => {
    const grads = { a: tf.tensor1d([3, 4]), b: tf.tensor2d([[12]]) };
    const { grads: out, norm } = clipGradients(grads, 6.5);
    expect((await norm.data())[0]).toBeCloseTo(13, 5);
    expect(Array.from(await out.a.data())).toEqual([1.5, 2]);
    expect(Array.from(await out.b.data())).toEqual([6]);
    const within = clipGradients(grads, 100);
    expect(Array.from(await within.grads.a.data())).toEqual([3, 4]);
    const off = clipGradients(grads, null);
    expect(off.grads).toBe(grads);
    tf.dispose([grads.a, grads.b, out.a, out.b, norm, within.norm, ...Object.values(within.grads), off.norm]);
  });
});

describe('learning-rate range test', () => {
  it('grows the rate geometrically from lrMin to lrMax', () => {
    expect(rangeRate(0, 5, 1e-4, 1)).toBeCloseTo(1e-4, 12);
    expect(rangeRate(2, 5, 1e-4, 1)).toBeCloseTo(1e-2, 12);
    expect(rangeRate(4, 5, 1e-4, 1)).toBeCloseTo(1, 12);
  });

  it('smooths with a bias-corrected moving average', () => {
    // beta 0.5: avg 0.5*4 = 2 -> 2/0.5 = 4; then 0.5*2 + 0.5*2 = 2 -> 2/0.75 = 8/3.
    const s = smoothLosses([4, 2], 0.5);
    expect(s[0]).toBeCloseTo(4, 12);
    expect(s[1]).toBeCloseTo(8 / 3, 12);
    expect(smoothLosses([3, 1, 2], 0)).toEqual([3, 1, 2]);
  });

  it('chooses the rate at the lowest loss divided by the margin, ignoring what follows a NaN', () => {
    const rates = [0.001, 0.01, 0.1, 1, 10];
    // Falls to its lowest at 0.1, then rises and breaks.
    const losses = [2.3, 1.9, 0.8, 1.5, NaN];
    expect(chooseStableRate(rates, losses, { beta: 0, margin: 10, lrMin: 1e-5 })).toEqual({ lr: 0.01, best: 0.1 });
    // A NaN at 0.1 leaves the lowest finite loss at 0.01.
    expect(chooseStableRate(rates, [2.3, 1.9, NaN, 0.1, 0.1], { beta: 0, margin: 10, lrMin: 1e-5 }).best).toBe(0.01);
    // Never below lrMin.
    expect(chooseStableRate(rates, [1, 2, 3, 4, 5], { beta: 0, margin: 10, lrMin: 5e-4 }).lr).toBe(5e-4);
  });

  it('on the quadratic loss (w - 1)^2 stops once the rate makes the steps diverge (lr > 1)', async () => {
    // w <- w - lr * 2 (w - 1): the error is multiplied by (1 - 2 lr); rates 1e-3 .. 1e2 over 101 steps.
    let w = 0;
    const result = await rangeTest(
      async (lr) => {
        const loss = (w - 1) ** 2;
        w -= lr * 2 * (w - 1);
        return loss;
      },
      { steps: 101, lrMin: 1e-3, lrMax: 1e2, beta: 0, blowUp: 4, margin: 10 }
    );
    expect(result.stopped).toBe('blow-up');
    // Rate i is 10^(-3 + 0.05 i): the error shrinks while lr < 1 (i < 60), is kept at lr = 1 (i = 60) and
    // grows by |1 - 2 lr| >= 1.24 from i = 61; the loss recorded before step i is lowest at i = 60 or 61.
    expect(result.best).toBeGreaterThanOrEqual(rangeRate(60, 101, 1e-3, 1e2) * (1 - 1e-9));
    expect(result.best).toBeLessThanOrEqual(rangeRate(61, 101, 1e-3, 1e2) * (1 + 1e-9));
    // The loss passes 4x its minimum within a few steps: 1.55 x 2.1 x ... .
    expect(result.rates.length).toBeLessThan(66);
    expect(result.lr).toBeCloseTo(result.best / 10, 12);
    expect(result.rates[result.rates.length - 1]).toBeGreaterThan(1);
  });
});

describe('recovery after a NaN or infinite loss', () => {
  it('halves, then runs a range test, then halves, then fails', () => {
    expect([0, 1, 2, 3].map(recoveryAction)).toEqual(['halve', 'range-test', 'halve', 'fail']);
  });

  it('caps the rate below half of the rate that failed', () => {
    expect(cappedRate(0.01, 0.5)).toBe(0.01);
    expect(cappedRate(1, 0.5)).toBe(0.25);
  });

  it('snapshots four times per epoch', () => {
    expect(snapshotEvery(60)).toBe(15);
    expect(snapshotEvery(2)).toBe(1);
  });

  it('a good state: finite, not climbing, within twice the best window mean', () => {
    const rule = new GoodStateRule(2);
    expect(rule.accept([2, 1.8, 1.6, 1.4])).toBe(true); // best mean 1.7
    expect(rule.accept([1, 2, 4, 8])).toBe(false); // second half 6 > 2 x first half 1.5
    expect(rule.accept([3.5, 3.4, 3.5, 3.4])).toBe(false); // mean 3.45 > 2 x 1.7
    expect(rule.accept([3.3, 3.4, 3.4, 3.3])).toBe(true); // mean 3.35 <= 3.4
    expect(rule.accept([1, NaN])).toBe(false);
    expect(rule.accept([])).toBe(false);
  });
});

describe('the rollback steps both training loops share (stage.ts, onnx-arch-train.ts)', () => {
  it('rollbackOrFail: halve, range-test, halve, then the failure naming where and the limit', () => {
    const where = 'teacher: the loss is NaN at epoch 2, step 3 (learning rate 0.100)';
    const actions = [0, 1, 2].map((previous) => rollbackOrFail({ previous, maxRollbacks: 3, where }));
    expect(actions).toEqual(['halve', 'range-test', 'halve']);
    expect(() => rollbackOrFail({ previous: 3, maxRollbacks: 3, where, after: '; no checkpoint' })).toThrow(
      `${where}; lower the learning rate (after 3 rollbacks to the last good state: rate halved, capped by a range test, halved); no checkpoint`
    );
    // No rollbacks allowed: the first broken step fails, without the count.
    expect(() => rollbackOrFail({ previous: 0, maxRollbacks: 0, where })).toThrow(
      new RegExp(`^${where.replace(/[().]/g, '\\$&')}; lower the learning rate$`)
    );
  });

  it('lowerRate: halving halves the factor and a cap; a range test caps below half the failed rate', async () => {
    const at = { epoch: 2, step: 3, loss: Infinity, lr: 0.4, toStep: 1 };
    const never = async (): Promise<number> => {
      throw new Error('no range test when halving');
    };
    const halved = await lowerRate({ action: 'halve', rate: { lrScale: 1, lrCap: Infinity }, stableRate: never, at });
    expect(halved).toEqual({
      lrScale: 0.5,
      lrCap: Infinity,
      rollback: { epoch: 2, step: 3, loss: Infinity, lr: 0.4, lrScale: 0.5, toStep: 1, action: 'halve' }
    });
    const capped = await lowerRate({
      action: 'range-test',
      rate: { lrScale: 0.5, lrCap: Infinity },
      stableRate: async () => 0.3,
      at
    });
    // min(0.3, 0.4 / 2) = 0.2; the factor stays.
    expect(capped.lrScale).toBe(0.5);
    expect(capped.lrCap).toBe(0.2);
    expect(capped.rollback).toMatchObject({ action: 'range-test', lrScale: 0.5, lrCap: 0.2 });
    const again = await lowerRate({ action: 'halve', rate: { lrScale: 0.5, lrCap: 0.2 }, stableRate: never, at });
    expect([again.lrScale, again.lrCap, again.rollback.lrCap]).toEqual([0.25, 0.1, 0.1]);
  });

  it('countStep adds the loss per image, the norm, clipping over the limit and correct predictions', () => {
    const c = emptyCounters();
    countStep(c, { loss: 2, n: 3, norm: 5, clipNorm: 4, predicted: [0, 1, 2], labels: [0, 2, 2] });
    countStep(c, { loss: 1, n: 2, norm: 9, clipNorm: 4, predicted: null, labels: [1, 1] });
    countStep(c, { loss: 0.5, n: 2, norm: 3, clipNorm: null, predicted: [1, 0], labels: [1, 0] });
    expect(c).toEqual({
      lossSum: 2 * 3 + 1 * 2 + 0.5 * 2,
      seen: 7,
      correct: 2 + 2,
      normSum: 17,
      normMax: 9,
      clipped: 2,
      steps: 3
    });
    const off = emptyCounters();
    countStep(off, { loss: 1, n: 1, norm: 9, clipNorm: 0, predicted: null, labels: [0] });
    expect(off.clipped).toBe(0);
  });

  it("recoveryLog: an epoch's norms, clipping, tested rate (first epoch only) and its own rollbacks", () => {
    const c = { ...emptyCounters(), normSum: 12, normMax: 7, clipped: 2, steps: 4 };
    const rb = (epoch: number) => ({ epoch, step: 1, loss: null, lr: 1, lrScale: 0.5 });
    expect(recoveryLog({ c, clipNorm: 5, epoch: 0, autoLr: 0.3, rollbacks: [rb(1), rb(2)] })).toEqual({
      gradNorm: { mean: 3, max: 7 },
      clip: { maxNorm: 5, clippedSteps: 2, steps: 4 },
      autoLr: 0.3,
      rollbacks: [rb(1)]
    });
    const later = recoveryLog({ c: emptyCounters(), clipNorm: null, epoch: 2, autoLr: 0.3, rollbacks: [rb(1), rb(2)] });
    expect(later).toEqual({ gradNorm: { mean: 0, max: 0 }, clip: { maxNorm: null, clippedSteps: 0, steps: 0 } });
  });

  it('resumeState keeps a finite cap and a tested rate only', () => {
    const base = { epoch: 3, pathRaw: 1.5, initialNorm: 2, logs: [], pathLength: [null, 0.5], lrScale: 0.5 };
    expect(resumeState({ ...base, lrCap: Infinity, autoLr: null })).toEqual(base);
    expect(resumeState({ ...base, lrCap: 0.2, autoLr: 0.4 })).toEqual({ ...base, lrCap: 0.2, autoLr: 0.4 });
  });
});
