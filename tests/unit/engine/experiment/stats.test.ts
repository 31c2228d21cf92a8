import { describe, it, expect } from 'vitest';
import { averageRanks, wilcoxonSignedRank, normalCdf, pairedBootstrap } from '../../../../src/engine/experiment/stats';
import { mean } from '../../../../src/engine/util/moments';

describe('statistics', () => {
  it('averages tied ranks', () => {
    expect(averageRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });

  it('normal CDF at known points', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 5);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 5);
  });

  it('exact Wilcoxon: all 5 differences positive gives p = 1/32', () => {
    const r = wilcoxonSignedRank([2, 3, 4, 5, 6], [1, 1, 1, 1, 1]);
    expect(r.n).toBe(5);
    expect(r.wPlus).toBe(15);
    expect(r.pGreater).toBeCloseTo(1 / 32, 12);
    expect(r.pLess).toBeCloseTo(1, 12);
    expect(r.pTwoSided).toBeCloseTo(2 / 32, 12);
    expect(r.above).toBe(5);
  });

  it('exact Wilcoxon by hand: differences +1, -2, +3, +4 (W+ = 8 of 10)', () => {
    // Under H0 each of the ranks {1,2,3,4} is positive with probability 1/2 (16 patterns). The subsets
    // with rank sum >= 8 are {1,3,4} = 8, {2,3,4} = 9 and {1,2,3,4} = 10: P(W+ >= 8) = 3/16.
    const r = wilcoxonSignedRank([1, 0, 3, 4], [0, 2, 0, 0]);
    expect(r.wPlus).toBe(8);
    expect(r.pGreater).toBeCloseTo(3 / 16, 12);
    expect(r.pLess).toBeCloseTo(14 / 16, 12);
  });

  it('drops zero differences and handles ties exactly', () => {
    // Differences +1, +1, -1, 0: ranks of |d| are all 2 (tied); W+ = 4; zero dropped -> n = 3.
    const r = wilcoxonSignedRank([2, 2, 0, 5], [1, 1, 1, 5]);
    expect(r.n).toBe(3);
    expect(r.ties).toBe(1);
    expect(r.wPlus).toBe(4);
    // W+ takes 0, 2, 4, 6 with probabilities 1/8, 3/8, 3/8, 1/8.
    expect(r.pGreater).toBeCloseTo(4 / 8, 12);
  });

  it('normal approximation for large samples agrees with the exact test near the boundary', () => {
    const a = Array.from({ length: 60 }, (_, i) => i + (i % 3 === 0 ? -0.5 : 0.7));
    const b = Array.from({ length: 60 }, (_, i) => i);
    const approx = wilcoxonSignedRank(a, b);
    expect(approx.exact).toBe(false);
    expect(approx.pGreater).toBeLessThan(0.01);
    const exact = wilcoxonSignedRank(a.slice(0, 50), b.slice(0, 50));
    expect(exact.exact).toBe(true);
    expect(exact.pGreater).toBeLessThan(0.01);
  });

  it('no differences: p = 1', () => {
    expect(wilcoxonSignedRank([1, 2], [1, 2]).pGreater).toBe(1);
  });

  it('paired bootstrap covers the observed difference and is seeded', () => {
    const a = [1, 2, 3, 4, 5, 6, 7, 8];
    const b = a.map((x) => x + 2);
    const r = pairedBootstrap(a, b, mean, 500, 3);
    expect(r.observed).toBe(-2);
    expect(r.low).toBe(-2);
    expect(r.high).toBe(-2);
    expect(r.fractionAtMostZero).toBe(1);
    const noisy = pairedBootstrap([1, 5, 2, 8, 3], [2, 2, 2, 2, 2], mean, 500, 3);
    expect(noisy.low).toBeLessThanOrEqual(noisy.observed);
    expect(noisy.high).toBeGreaterThanOrEqual(noisy.observed);
    expect(pairedBootstrap([1, 5, 2, 8, 3], [2, 2, 2, 2, 2], mean, 500, 3)).toEqual(noisy);
  });
});
