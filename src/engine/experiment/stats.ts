/*
 * Statistics behind the verdicts: the paired Wilcoxon signed-rank test (exact for up to 50 non-zero
 * pairs, ties included, normal approximation above) and paired bootstrap intervals. Pure functions.
 */
import { Rng } from '../util/random';

export interface WilcoxonResult {
  /** Pairs with a non-zero difference (zeros are dropped, Wilcoxon's convention). */
  n: number;
  /** Sum of the ranks of |a - b| over pairs with a > b. */
  wPlus: number;
  /** P(W+ >= observed) under H0: evidence that a tends to exceed b. */
  pGreater: number;
  /** P(W+ <= observed) under H0: evidence that a tends to be below b. */
  pLess: number;
  /** Two-sided p-value. */
  pTwoSided: number;
  /** Pairs with a > b, a < b and a = b. */
  above: number;
  below: number;
  ties: number;
  exact: boolean;
}

/** Average ranks (1-based) of values, ties sharing the mean of their ranks. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const r = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = r;
    i = j + 1;
  }
  return ranks;
}

/**
 * Complementary error function, erfc(x) = 1 - erf(x), by the Chebyshev-fitted formula of Numerical
 * Recipes (erfcc): FRACTIONAL error below 1.2e-7 everywhere, so far tails keep their digits (an
 * absolute-error erf would turn a tail of 3e-8 into 8e-8).
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const c = [
    -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223,
    0.17087277
  ];
  let poly = 0;
  for (let i = c.length - 1; i >= 0; i--) poly = c[i] + t * poly;
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF, Phi(z) = erfc(-z / sqrt 2) / 2 (relative accuracy kept in the lower tail). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Upper tail 1 - Phi(z), computed without cancellation. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Paired Wilcoxon signed-rank test of a against b. */
export function wilcoxonSignedRank(a: readonly number[], b: readonly number[]): WilcoxonResult {
  if (a.length !== b.length) throw new Error(`wilcoxon: ${a.length} vs ${b.length} values`);
  const diffs = a.map((x, i) => x - b[i]);
  const nonzero = diffs.filter((d) => d !== 0);
  const above = diffs.filter((d) => d > 0).length;
  const below = diffs.filter((d) => d < 0).length;
  const n = nonzero.length;
  const base = { n, above, below, ties: diffs.length - n };
  if (n === 0) return { ...base, wPlus: 0, pGreater: 1, pLess: 1, pTwoSided: 1, exact: true };
  const ranks = averageRanks(nonzero.map(Math.abs));
  let wPlus = 0;
  nonzero.forEach((d, i) => {
    if (d > 0) wPlus += ranks[i];
  });
  let pGreater: number;
  let pLess: number;
  let exact: boolean;
  if (n <= 50) {
    // Exact null distribution of W+ given the (doubled, hence integer) ranks: each rank enters with
    // probability 1/2. counts[s] = number of sign patterns whose doubled W+ equals s.
    const doubled = ranks.map((r) => Math.round(2 * r));
    const total = doubled.reduce((s, r) => s + r, 0);
    let counts = new Float64Array(total + 1);
    counts[0] = 1;
    for (const r of doubled) {
      const next = new Float64Array(total + 1);
      for (let s = 0; s <= total; s++) {
        if (counts[s] === 0) continue;
        next[s] += counts[s] / 2;
        next[s + r] += counts[s] / 2;
      }
      counts = next;
    }
    const w2 = Math.round(2 * wPlus);
    pGreater = 0;
    pLess = 0;
    for (let s = 0; s <= total; s++) {
      if (s >= w2) pGreater += counts[s];
      if (s <= w2) pLess += counts[s];
    }
    exact = true;
  } else {
    const mean = (n * (n + 1)) / 4;
    const tieGroups = new Map<number, number>();
    for (const r of ranks) tieGroups.set(r, (tieGroups.get(r) ?? 0) + 1);
    let tieTerm = 0;
    for (const t of tieGroups.values()) tieTerm += t * t * t - t;
    const sd = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48);
    pGreater = normalUpperTail((wPlus - mean - 0.5) / sd);
    pLess = normalCdf((wPlus - mean + 0.5) / sd);
    exact = false;
  }
  pGreater = Math.min(1, pGreater);
  pLess = Math.min(1, pLess);
  return { ...base, wPlus, pGreater, pLess, pTwoSided: Math.min(1, 2 * Math.min(pGreater, pLess)), exact };
}

export interface BootstrapResult {
  /** statistic(a) - statistic(b) on the observed data. */
  observed: number;
  /** (1 - alpha) percentile interval of the paired bootstrap difference. */
  low: number;
  high: number;
  /** Fraction of bootstrap differences >= 0 and <= 0. */
  fractionAtLeastZero: number;
  fractionAtMostZero: number;
  resamples: number;
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  seed?: number;
  /** The interval covers 1 - alpha: the alpha/2 and 1 - alpha/2 percentiles (default 0.05). */
  alpha?: number;
}

/**
 * Paired bootstrap of statistic(a) - statistic(b): resample image indices with replacement (the
 * same indices for a and b), `resamples` times with a seeded generator.
 */
export function pairedBootstrap(
  a: readonly number[],
  b: readonly number[],
  statistic: (v: number[]) => number,
  options: BootstrapOptions = {}
): BootstrapResult {
  const { resamples = 2000, seed = 1, alpha = 0.05 } = options;
  if (a.length !== b.length) throw new Error(`bootstrap: ${a.length} vs ${b.length} values`);
  const n = a.length;
  const observed = statistic([...a]) - statistic([...b]);
  if (n === 0)
    return { observed: NaN, low: NaN, high: NaN, fractionAtLeastZero: NaN, fractionAtMostZero: NaN, resamples: 0 };
  const rng = new Rng(seed);
  const diffs: number[] = [];
  const sa = new Array<number>(n);
  const sb = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) {
      const k = rng.int(n);
      sa[i] = a[k];
      sb[i] = b[k];
    }
    diffs.push(statistic(sa) - statistic(sb));
  }
  diffs.sort((x, y) => x - y);
  const q = (p: number): number => diffs[Math.min(resamples - 1, Math.max(0, Math.floor(p * resamples)))];
  return {
    observed,
    low: q(alpha / 2),
    high: q(1 - alpha / 2),
    fractionAtLeastZero: diffs.filter((d) => d >= 0).length / resamples,
    fractionAtMostZero: diffs.filter((d) => d <= 0).length / resamples,
    resamples
  };
}
