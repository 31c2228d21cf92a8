import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { clipScale, clipGradients, globalNorm } from '../../../../src/engine/training/clip';
import { chooseStableRate, rangeRate, rangeTest, smoothLosses } from '../../../../src/engine/training/lr-range';
import { GoodStateRule, cappedRate, recoveryAction, snapshotEvery } from '../../../../src/engine/training/recovery';

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
