import { describe, it, expect } from 'vitest';
import {
  averageRanks,
  wilcoxonSignedRank,
  normalCdf,
  normalUpperTail,
  pairedBootstrap
} from '../../../../src/engine/experiment/stats';
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
    // Binary-exact differences (0.75, not 0.7: i + 0.7 - i is not always 0.7 in floating point, and
    // unequal differences are not ties).
    const a = Array.from({ length: 60 }, (_, i) => i + (i % 3 === 0 ? -0.5 : 0.75));
    const b = Array.from({ length: 60 }, (_, i) => i);
    const approx = wilcoxonSignedRank(a, b);
    expect(approx.exact).toBe(false);
    // By hand: 20 differences of -0.5 (ranks 1..20, mean 10.5) and 40 of +0.75 (ranks 21..60, mean
    // 40.5): W+ = 40 * 40.5 = 1620; E = 60 * 61 / 4 = 915; Var = 60 * 61 * 121 / 24 - ((20^3 - 20) +
    // (40^3 - 40)) / 48 = 18452.5 - 1498.75 = 16953.75; z = (1620 - 915 - 0.5) / sqrt(Var) = 5.410633;
    // p = 1 - Phi(z) = 3.140111e-8 (erfc(z / sqrt 2) / 2, Python's math.erfc).
    expect(approx.wPlus).toBe(1620);
    expect(approx.pGreater / 3.140110780806361e-8).toBeCloseTo(1, 5);
    expect(approx.pLess).toBeCloseTo(1 - 3.008192391189484e-8, 12);
    const exact = wilcoxonSignedRank(a.slice(0, 50), b.slice(0, 50));
    expect(exact.exact).toBe(true);
    expect(exact.pGreater).toBeLessThan(1e-6);
  });

  it('exact p by counting sign patterns: 10 distinct differences, the two smallest negative', () => {
    // W+ = 55 - (1 + 2) = 52; P(W+ >= 52) = P(W- <= 3) = #{subsets of 1..10 with sum <= 3} / 2^10 =
    // #{{}, {1}, {2}, {3}, {1,2}} / 1024 = 5 / 1024. P(W+ <= 52) = 1 - P(W+ >= 53) = 1 - 3 / 1024.
    const a = [-1, -2, 3, 4, 5, 6, 7, 8, 9, 10];
    const r = wilcoxonSignedRank(a, new Array(10).fill(0));
    expect(r.wPlus).toBe(52);
    expect(r.pGreater).toBeCloseTo(5 / 1024, 15);
    expect(r.pLess).toBeCloseTo(1 - 3 / 1024, 15);
    expect(r.pTwoSided).toBeCloseTo(10 / 1024, 15);
  });

  it('normal tail keeps its relative accuracy far out', () => {
    // 1 - Phi(z) from Python's math.erfc: z = 3 -> 1.3498980316301e-3, z = 6 -> 9.8658764503769e-10.
    expect(normalUpperTail(3) / 1.3498980316300946e-3).toBeCloseTo(1, 6);
    expect(normalUpperTail(6) / 9.865876450376946e-10).toBeCloseTo(1, 6);
    expect(normalCdf(-6) / 9.865876450376946e-10).toBeCloseTo(1, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
  });

  it('no differences: p = 1', () => {
    expect(wilcoxonSignedRank([1, 2], [1, 2]).pGreater).toBe(1);
  });

  it('paired bootstrap covers the observed difference and is seeded', () => {
    const a = [1, 2, 3, 4, 5, 6, 7, 8];
    const b = a.map((x) => x + 2);
    const r = pairedBootstrap(a, b, mean, { resamples: 500, seed: 3 });
    expect(r.observed).toBe(-2);
    expect(r.low).toBe(-2);
    expect(r.high).toBe(-2);
    expect(r.fractionAtMostZero).toBe(1);
    const noisy = pairedBootstrap([1, 5, 2, 8, 3], [2, 2, 2, 2, 2], mean, { resamples: 500, seed: 3 });
    expect(noisy.low).toBeLessThanOrEqual(noisy.observed);
    expect(noisy.high).toBeGreaterThanOrEqual(noisy.observed);
    expect(pairedBootstrap([1, 5, 2, 8, 3], [2, 2, 2, 2, 2], mean, { resamples: 500, seed: 3 })).toEqual(noisy);
  });
});
