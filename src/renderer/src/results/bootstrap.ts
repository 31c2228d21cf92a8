/*
 * Error bars for the D and rho charts: with several seeds the spread over seeds (mean ± std, from
 * metrics.json); with one seed a 95 % percentile bootstrap interval over the analysed images of the
 * same statistic the bar shows (mean of D, std of D, mean of rho), resampled with a fixed seed so
 * the same run always gives the same figure. Pure.
 */

/** mulberry32: a small seeded generator of uniforms in [0, 1). */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
/** Population standard deviation (as metrics.json's D_std). */
export const populationStd = (v: readonly number[]): number => {
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) * (b - m), 0) / v.length);
};

/** The empirical quantile with linear interpolation of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The 95 % percentile bootstrap interval of `stat` over `values` (null with fewer than 2 values). */
export function bootstrapInterval(
  values: readonly number[],
  stat: (v: readonly number[]) => number,
  options: { resamples?: number; seed?: number } = {}
): [number, number] | null {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length < 2) return null;
  const n = options.resamples ?? 2000;
  const rand = generator(options.seed ?? 12345);
  const stats: number[] = [];
  const sample = new Array<number>(v.length);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < v.length; i++) sample[i] = v[Math.floor(rand() * v.length)];
    stats.push(stat(sample));
  }
  stats.sort((a, b) => a - b);
  return [quantile(stats, 0.025), quantile(stats, 0.975)];
}

/** mean ± std as an interval (null when either is unknown). */
export const spread = (m: number | null, s: number | null): [number, number] | null =>
  m === null || s === null ? null : [m - s, m + s];
